// The host's side of a warm container's box (containers/box.hpp) against what a hostile
// image can plant there: links to host files, FIFOs, /dev/zero, deep trees. The
// box is an ordinary directory here; no container is needed to plant things in it.
#include "containers/box.hpp"
#include "temp_dir.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using fod::test::TempDir;
namespace box = fod::containers::box;

namespace {

struct Fixture {
  TempDir dir;
  fod::containers::ContainerPaths paths{dir.mkdir("c/key")};
  std::string victim = dir.write("victim/file", "UNCHANGED");
  Fixture() { box::prepare(paths); }
  std::string in_box(const std::string &name) const { return paths.box() + "/" + name; }
  void replace(const std::string &name, const std::string &link_target) const {
    fod::util::remove_tree(in_box(name));
    REQUIRE(symlink(link_target.c_str(), in_box(name).c_str()) == 0);
  }
};

// A unix socket listening at path; closed on scope exit.
struct Listener {
  int fd = -1;
  explicit Listener(const std::string &path) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::copy(path.begin(), path.end(), addr.sun_path);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd, 4) == 0);
  }
  ~Listener() { close(fd); }
  bool was_connected() const {
    int peer = accept(fd, nullptr, nullptr);
    if (peer >= 0)
      close(peer);
    return peer >= 0;
  }
};

} // namespace

TEST_CASE("box::prepare makes the keeper's files, and keeper_alive follows its lock",
          "[unit][box]") {
  Fixture f;
  struct stat st {};
  REQUIRE(lstat(f.in_box("alive").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  REQUIRE(lstat(f.in_box("signal").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  REQUIRE(lstat(f.in_box("s").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));

  CHECK_FALSE(box::keeper_alive(f.paths));
  int held = open(f.in_box("alive").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(flock(held, LOCK_EX) == 0);
  CHECK(box::keeper_alive(f.paths));
  close(held);
  CHECK_FALSE(box::keeper_alive(f.paths));
}

TEST_CASE("box: planted links, FIFOs and devices are never followed or read unbounded",
          "[unit][box]") {
  Fixture f;

  SECTION("alive as a FIFO: no keeper, at once (opening it blocking would hang)") {
    fod::util::remove_tree(f.in_box("alive"));
    REQUIRE(mkfifo(f.in_box("alive").c_str(), 0600) == 0);
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(box::keeper_alive(f.paths));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  }
  SECTION("alive as a link to a file someone locks: no keeper") {
    std::string locked = f.dir.write("locked", "");
    int held = open(locked.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(flock(held, LOCK_EX) == 0);
    f.replace("alive", locked);
    CHECK_FALSE(box::keeper_alive(f.paths));
    close(held);
  }
  SECTION("the signal FIFO as a link to a host file: not opened, the file unchanged") {
    f.replace("signal", f.victim);
    CHECK(box::open_signal_fifo(f.paths) < 0);
    CHECK(fod::util::read_file(f.victim) == "UNCHANGED");
  }
  SECTION("a session file as a link to /dev/zero or a huge file: no pid, bounded read") {
    f.replace("s/123", "/dev/zero");
    CHECK_FALSE(box::session_pid(f.paths, "123"));
    f.dir.write("c/key/box/s/124", std::string(1 << 20, '7'));
    CHECK_FALSE(box::session_pid(f.paths, "124"));
    f.dir.write("c/key/box/s/125", "4242\n");
    CHECK(box::session_pid(f.paths, "125") == 4242L);
    f.dir.write("c/key/box/s/126", "1\n");
    CHECK_FALSE(box::session_pid(f.paths, "126")); // PID 1 is the keeper
  }
  SECTION("s/ as a link to a host directory: forgetting a session removes nothing there") {
    std::string outside = f.dir.write("outside/777", "keep");
    f.replace("s", fod::util::dirname(outside));
    CHECK_FALSE(box::forget_session(f.paths, "777"));
    CHECK(fod::util::read_file(outside) == "keep");
  }
  SECTION("the agent socket as a link to a host socket: never connected to") {
    Listener host_service(f.dir / "host.sock");
    f.replace("agent.sock", f.dir / "host.sock");
    CHECK(box::connect_agent(f.paths) < 0);
    CHECK_FALSE(host_service.was_connected());
    CHECK_FALSE(box::has_agent_socket(f.paths));
  }
  SECTION("a real socket in the box is connected to") {
    Listener agent(f.in_box("agent.sock"));
    int sock = box::connect_agent(f.paths);
    CHECK(sock >= 0);
    CHECK(agent.was_connected());
    if (sock >= 0)
      close(sock);
  }
}

TEST_CASE("box::remove never follows a link out of the box", "[unit][box]") {
  Fixture f;
  std::string outside = f.dir.write("outside/precious", "keep");
  REQUIRE(symlink(fod::util::dirname(outside).c_str(), f.in_box("s/escape").c_str()) == 0);
  REQUIRE(symlink(outside.c_str(), f.in_box("file-link").c_str()) == 0);
  CHECK(box::remove(f.paths));
  CHECK(access(f.paths.box().c_str(), F_OK) != 0);
  CHECK(fod::util::read_file(outside) == "keep");

  SECTION("a tree deeper than fod goes is moved aside and a fresh box made") {
    box::prepare(f.paths);
    std::string deep = f.paths.box();
    for (int i = 0; i < 40; ++i)
      deep += "/d";
    REQUIRE(fod::util::make_directories(deep));
    box::prepare(f.paths);
    struct stat st {};
    CHECK(lstat(f.in_box("alive").c_str(), &st) == 0);
    CHECK(lstat((f.paths.box() + "/d").c_str(), &st) != 0);
  }
}

TEST_CASE("util::Sha256 matches the FIPS 180-4 examples", "[unit][util]") {
  CHECK(fod::util::Sha256().update("abc").hex() ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(fod::util::Sha256().update("").hex() ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(fod::util::Sha256()
            .update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            .hex() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  fod::util::Sha256 million;
  for (int i = 0; i < 1000; ++i)
    million.update(std::string(1000, 'a'));
  CHECK(million.hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK(fod::util::Sha256().update("abc").hex(16).size() == 32);
}
