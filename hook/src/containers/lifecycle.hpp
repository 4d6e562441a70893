#pragma once

#include "containers/records.hpp"
#include "engine/engine.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

// A warm container's life after its start, in one place: removal (by `fod stop`,
// the reaper and gc alike), adoption of orphans, garbage collection. The start
// itself is run/runner's, which knows the request.
namespace fod::containers {

// Removes the container of a record with the engine of its kind (preferred when it
// is of that kind) and logs the removal in the run record; false with *error set
// when the engine could not remove it. The caller forgets the record.
bool remove_container(const ContainerPaths &paths, const Info &info,
                      const std::optional<engine::Engine> &preferred, std::string *error);

// `fod stop`: removes the containers whose record matches, and their records,
// taking each container's lock exclusively once the container is gone (which ends
// any run in flight). Returns the records of those it stopped. A record an older
// fod left for a container of another runtime directory is only forgotten.
std::vector<Info> stop_where(const std::function<bool(const Info &)> &matches,
                             const std::optional<engine::Engine> &preferred);

// Gives every container of this runtime directory whose reaper is gone (killed,
// or taken by the OOM killer) a reaper again. Cold starts call it.
void adopt_orphans();

// What `fod gc` did: the containers removed, and lines about those it left.
struct Collected {
  std::vector<std::string> removed;
  std::vector<std::string> left;
};

// `fod gc`: removes the containers of this runtime directory that no reaper
// watches and no run holds, those of an older fod whose runtime directory says
// they are orphaned, and records whose container and reaper are both gone. Throws
// UserError when the engine cannot list its containers.
Collected collect_garbage(const engine::Engine &engine);

} // namespace fod::containers
