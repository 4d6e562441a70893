#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fod::adaptive {

// What a record says happened.
enum class Kind : char {
  cold = 'C',    // a run that started its container (or waited for one being started)
  warm = 'W',    // a run served by a container that was already up
  prewarm = 'P', // a container started (or kept) ahead of an expected call
  removal = 'R', // the reaper removed a container
};

// One line of the run record. Times are seconds since the epoch.
struct Record {
  Kind kind = Kind::cold;
  double time = 0; // run or pre-warm: when it began; removal: when the container went
  double setup =
      0; // run: seconds until its container was ready (0 when warm); pre-warm: seconds to start
  double duration =
      0; // run: seconds the command ran; pre-warm: seconds held for the call; removal: idle seconds
  std::string command; // "-" when unknown (a removal of a container that ran nothing)
  std::string image;
  std::string key; // the warm container's key; "-" when unknown

  bool is_run() const { return kind == Kind::cold || kind == Kind::warm; }
  // When a run ended (start, setup and execution).
  double end() const { return time + setup + duration; }
};

// Bounds of the record file: past max_bytes an append compacts it to the newest
// keep_records records (and at most max_bytes / 2).
struct HistoryLimits {
  std::size_t max_bytes = std::size_t{512} * 1024;
  std::size_t keep_records = 2048;
};

// One line, "K TIME SETUP DURATION COMMAND IMAGE KEY\n"; nullopt when a field
// is empty or holds white space (nothing fod validated does).
std::optional<std::string> format_record(const Record &record);

// The record of one line (with or without its newline); nullopt when damaged.
std::optional<Record> parse_record(std::string_view line);

// Every well-formed record of text, in file order (damaged lines are skipped).
std::vector<Record> parse_records(std::string_view text);

// The records of the file at path, ordered by time (ties keep file order);
// empty when it does not exist.
std::vector<Record> read_history(const std::string &path);

// The newest records (file order) that the limits keep.
std::vector<Record> compact_records(const std::vector<Record> &records,
                                    const HistoryLimits &limits = {});

// Appends one record with a single O_APPEND write under a shared flock, and
// compacts the file when it grew past limits.max_bytes. Cheap enough for the run
// path: no read unless compacting. False when the record could not be written.
bool append_record(const std::string &path, const Record &record, const HistoryLimits &limits = {});

// Rewrites the file at path to compact_records() of it, atomically (rename) and
// under an exclusive flock, so appends in flight are neither lost nor torn.
bool compact_history(const std::string &path, const HistoryLimits &limits = {});

// $XDG_STATE_HOME/fod/history (default ~/.local/state/fod/history).
std::string default_history_path();

} // namespace fod::adaptive
