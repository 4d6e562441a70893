#include "temp_dir.hpp"
#include "util/duration.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"
#include "util/secrets.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <random>
#include <set>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

using namespace std::chrono_literals;
using fod::test::TempDir;
using fod::util::FileLock;

TEST_CASE("util::parse_duration reads seconds, minutes, hours and mixes", "[unit][util]") {
  using fod::util::parse_duration;

  SECTION("a bare number is seconds") {
    CHECK(parse_duration("90") == 90s);
  }
  SECTION("each unit") {
    CHECK(parse_duration("90s") == 90s);
    CHECK(parse_duration("10m") == 600s);
    CHECK(parse_duration("2h") == 7200s);
  }
  SECTION("units combine") {
    CHECK(parse_duration("1h30m") == 5400s);
  }
  SECTION("zero is a duration") {
    CHECK(parse_duration("0s") == 0s);
  }
  SECTION("malformed text is rejected") {
    CHECK_FALSE(parse_duration(""));
    CHECK_FALSE(parse_duration("m"));
    CHECK_FALSE(parse_duration("10x"));
    CHECK_FALSE(parse_duration("-1"));
    CHECK_FALSE(parse_duration("1 h"));
    CHECK_FALSE(parse_duration("h1"));
  }
}

TEST_CASE("util::format_duration writes what parse_duration reads", "[unit][util]") {
  using fod::util::format_duration;
  using fod::util::parse_duration;

  SECTION("compact forms") {
    CHECK(format_duration(0s) == "0s");
    CHECK(format_duration(45s) == "45s");
    CHECK(format_duration(600s) == "10m");
    CHECK(format_duration(5400s) == "1h30m");
    CHECK(format_duration(7200s) == "2h");
    CHECK(format_duration(3661s) == "1h1m1s");
  }
  SECTION("round trip") {
    for (auto d : {0s, 1s, 59s, 60s, 61s, 3599s, 3600s, 5400s, 86399s, 90061s}) {
      INFO("seconds: " << d.count());
      CHECK(parse_duration(format_duration(d)) == d);
    }
  }
}

TEST_CASE("util::join, dirname and basename split and build paths", "[unit][util]") {
  using namespace fod::util;

  SECTION("join puts exactly one slash between pieces") {
    CHECK(join("/a", "b") == "/a/b");
    CHECK(join("/a/", "b") == "/a/b");
    CHECK(join("/", "b") == "/b");
    CHECK(join("", "b") == "b");
  }
  SECTION("dirname") {
    CHECK(dirname("/a/b") == "/a");
    CHECK(dirname("/a") == "/");
    CHECK(dirname("a") == ".");
  }
  SECTION("basename") {
    CHECK(basename("/a/b") == "b");
    CHECK(basename("b") == "b");
    CHECK(basename("/usr/bin/fod") == "fod");
  }
}

TEST_CASE("util::is_same_or_under compares whole path components", "[unit][util]") {
  using fod::util::is_same_or_under;

  SECTION("same and below") {
    CHECK(is_same_or_under("/a", "/a"));
    CHECK(is_same_or_under("/a/b", "/a"));
    CHECK(is_same_or_under("/a/b/c", "/a"));
  }
  SECTION("a sibling with a common prefix is not under") {
    CHECK_FALSE(is_same_or_under("/ab", "/a"));
    CHECK_FALSE(is_same_or_under("/a", "/a/b"));
    CHECK_FALSE(is_same_or_under("/b", "/a"));
  }
  SECTION("everything absolute is under /") {
    CHECK(is_same_or_under("/", "/"));
    CHECK(is_same_or_under("/a", "/"));
    CHECK(is_same_or_under("/usr/local/bin", "/"));
  }
}

TEST_CASE("util::RealPaths resolves as realpath(3) does, remembering what it walked",
          "[unit][util]") {
  TempDir tmp;
  const std::string root = std::filesystem::canonical(tmp.path()).string();
  auto dir = [&](const std::string &relative) {
    std::filesystem::create_directories(root + "/" + relative);
  };
  auto link = [&](const std::string &target, const std::string &relative) {
    REQUIRE(symlink(target.c_str(), (root + "/" + relative).c_str()) == 0);
  };
  dir("a/b/c");
  dir("x/y");
  fod::util::write_file_atomic(root + "/a/file", "text", 0644);
  link(root + "/a/b", "abs");         // absolute
  link("a/b/c", "rel");               // relative to its directory
  link("../x/y", "a/up");             // .. out of a real directory
  link("rel", "chain");               // a link to a link
  link("file/..", "a/through-file");  // .. out of a file: realpath refuses
  link("y/", "x/slashed");            // a trailing slash on a directory
  link("../file/", "a/b/file-slash"); // a trailing slash on a file: refused
  link("loop2", "loop1");
  link("loop1", "loop2");
  link("nowhere", "dangling");
  const std::vector<std::string> cases = {
      "/",
      root,
      root + "/a/b/c",
      root + "//a/./b",
      root + "/abs/c",
      root + "/rel",
      root + "/a/up",
      root + "/chain",
      root + "/a/through-file",
      root + "/x/slashed",
      root + "/a/b/file-slash",
      root + "/a/file",
      root + "/a/file/more",
      root + "/loop1",
      root + "/dangling",
      root + "/missing/x",
      root + "/a/b/../b/c", // .. as written: realpath's own
      root + "/a/b/",
      root + "/a/file/",
  };
  fod::util::RealPaths real_paths;
  // Twice over: the second round is answered from what the first remembered.
  for (int round = 0; round < 2; ++round) {
    for (const auto &path : cases) {
      char buffer[PATH_MAX];
      std::optional<std::string> expected;
      if (realpath(path.c_str(), buffer) != nullptr) {
        expected = buffer;
      }
      INFO(path << " (round " << round << ")");
      CHECK(real_paths.resolve(path) == expected);
    }
  }
  CHECK(real_paths.resolve(root + "/rel").value_or("") == root + "/a/b/c");
  CHECK_FALSE(real_paths.resolve(root + "/a/through-file"));
  CHECK_FALSE(real_paths.resolve(root + "/loop1"));
}

TEST_CASE("util::write_file_atomic and read_file keep content exactly", "[unit][util]") {
  TempDir dir;
  const std::string file = dir / "f";

  SECTION("a missing file reads as nullopt") {
    CHECK_FALSE(fod::util::read_file(file));
  }
  SECTION("written content reads back, binary-safe") {
    std::string content = std::string("line 1\nline 2\n") + '\0' + "after nul";
    REQUIRE(fod::util::write_file_atomic(file, content));
    CHECK(fod::util::read_file(file) == content);
  }
  SECTION("a rewrite replaces the whole content") {
    REQUIRE(fod::util::write_file_atomic(file, "a long first version"));
    REQUIRE(fod::util::write_file_atomic(file, "short"));
    CHECK(fod::util::read_file(file) == "short");
  }
  SECTION("the file gets the requested mode and no temporary is left behind") {
    REQUIRE(fod::util::write_file_atomic(file, "x", 0600));
    struct stat st {};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK_FALSE(fod::util::read_file(file + ".tmp." + std::to_string(getpid())));
  }
  SECTION("writing into a missing directory fails") {
    CHECK_FALSE(fod::util::write_file_atomic(dir / "missing/f", "x"));
  }
}

TEST_CASE("util::make_private_directory accepts only a directory private to the user",
          "[unit][util]") {
  TempDir dir;

  SECTION("a missing directory is created 0700, parents included") {
    std::string path = dir / "a/b/private";
    REQUIRE(fod::util::make_private_directory(path));
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 0777) == 0700);
  }
  SECTION("an existing 0700 directory is accepted") {
    std::string path = dir.mkdir("p", 0700);
    chmod(path.c_str(), 0700);
    CHECK(fod::util::make_private_directory(path));
  }
  SECTION("a 0755 directory is refused") {
    std::string path = dir.mkdir("open");
    chmod(path.c_str(), 0755);
    CHECK_FALSE(fod::util::make_private_directory(path));
  }
  SECTION("a regular file in the way is refused") {
    std::string path = dir.write("file", "x", 0600);
    CHECK_FALSE(fod::util::make_private_directory(path));
  }
  SECTION("a symlink to a private directory is refused") {
    std::string target = dir.mkdir("real", 0700);
    chmod(target.c_str(), 0700);
    std::string link = dir / "link";
    REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
    CHECK_FALSE(fod::util::make_private_directory(link));
  }
}

TEST_CASE("util::FileLock behaves like flock between separate holders", "[unit][util]") {
  TempDir dir;
  const std::string path = dir / "lock";
  FileLock a(path);
  FileLock b(path);

  SECTION("two shared holders coexist") {
    a.lock(FileLock::Mode::shared);
    CHECK(b.try_lock(FileLock::Mode::shared));
  }
  SECTION("an exclusive holder blocks the other's try_lock in either mode") {
    a.lock(FileLock::Mode::exclusive);
    CHECK_FALSE(b.try_lock(FileLock::Mode::shared));
    CHECK_FALSE(b.try_lock(FileLock::Mode::exclusive));
  }
  SECTION("a shared holder blocks an exclusive try_lock") {
    a.lock(FileLock::Mode::shared);
    CHECK_FALSE(b.try_lock(FileLock::Mode::exclusive));
  }
  SECTION("unlock lets the other take it exclusively") {
    a.lock(FileLock::Mode::exclusive);
    a.unlock();
    CHECK(b.try_lock(FileLock::Mode::exclusive));
  }
  SECTION("destroying the holder releases the lock") {
    {
      FileLock c(path);
      c.lock(FileLock::Mode::exclusive);
      CHECK_FALSE(b.try_lock(FileLock::Mode::shared));
    }
    CHECK(b.try_lock(FileLock::Mode::exclusive));
  }
  SECTION("the constructor creates the lock file") {
    CHECK(fod::util::read_file(path).has_value());
  }
}

TEST_CASE("util::FileLock throws when the lock file cannot be opened", "[unit][util]") {
  TempDir dir;
  CHECK_THROWS_AS(FileLock(dir / "missing/lock"), std::system_error);
}

TEST_CASE("util::is_locked_exclusively reports a live exclusive holder", "[unit][util]") {
  TempDir dir;
  const std::string path = dir / "lock";

  SECTION("a missing file is not locked") {
    CHECK_FALSE(fod::util::is_locked_exclusively(dir / "none"));
  }
  SECTION("true while another holds it exclusively, false after unlock") {
    FileLock holder(path);
    holder.lock(FileLock::Mode::exclusive);
    CHECK(fod::util::is_locked_exclusively(path));
    holder.unlock();
    CHECK_FALSE(fod::util::is_locked_exclusively(path));
  }
  SECTION("a shared holder does not count") {
    FileLock holder(path);
    holder.lock(FileLock::Mode::shared);
    CHECK_FALSE(fod::util::is_locked_exclusively(path));
    // and asking did not disturb the holder
    FileLock other(path);
    CHECK_FALSE(other.try_lock(FileLock::Mode::exclusive));
  }
  SECTION("false once the holder is gone") {
    {
      FileLock holder(path);
      holder.lock(FileLock::Mode::exclusive);
    }
    CHECK_FALSE(fod::util::is_locked_exclusively(path));
  }
}

TEST_CASE("util::is_locked reports any live holder, shared or exclusive", "[unit][util]") {
  TempDir dir;
  const std::string path = dir / "lock";

  SECTION("a missing file is not locked, and asking does not create it") {
    CHECK_FALSE(fod::util::is_locked(dir / "none"));
    CHECK(access((dir / "none").c_str(), F_OK) != 0);
  }
  SECTION("an exclusive holder counts") {
    FileLock holder(path);
    holder.lock(FileLock::Mode::exclusive);
    CHECK(fod::util::is_locked(path));
  }
  SECTION("a shared holder counts, and asking did not disturb it") {
    FileLock holder(path);
    holder.lock(FileLock::Mode::shared);
    CHECK(fod::util::is_locked(path));
    FileLock other(path);
    CHECK(other.try_lock(FileLock::Mode::shared));
  }
  SECTION("false once the holder is gone") {
    {
      FileLock holder(path);
      holder.lock(FileLock::Mode::shared);
    }
    CHECK_FALSE(fod::util::is_locked(path));
  }
}

TEST_CASE("util::capture runs a program and reports its status and output", "[unit][util]") {
  using fod::util::capture;

  SECTION("stdout is captured and success is 0") {
    auto r = capture({"echo", "hello", "world"});
    CHECK(r.status == 0);
    CHECK(r.out == "hello world\n");
    CHECK(r.err.empty());
  }
  SECTION("a failing program's exit code is its status") {
    CHECK(capture({"false"}).status == 1);
  }
  SECTION("stderr is captured apart from stdout") {
    auto r = capture({"sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(r.status == 3);
    CHECK(r.out == "out\n");
    CHECK(r.err == "err\n");
  }
  SECTION("stdin is /dev/null, so a reader sees end of file at once") {
    auto r = capture({"cat"});
    CHECK(r.status == 0);
    CHECK(r.out.empty());
  }
  SECTION("a child killed by signal N gives 128+N") {
    CHECK(capture({"sh", "-c", "kill -KILL $$"}).status == 128 + SIGKILL);
    CHECK(capture({"sh", "-c", "kill -TERM $$"}).status == 128 + SIGTERM);
  }
  SECTION("a missing program throws std::system_error") {
    CHECK_THROWS_AS(capture({"fod-no-such-program-xyz"}), std::system_error);
  }
}

TEST_CASE("util::capture feeds stdin, stops a child at its timeout, and find_in_path skips "
          "relative PATH entries",
          "[unit][util]") {
  using fod::util::capture;
  using fod::util::CaptureOptions;
  using namespace std::chrono_literals;
  SECTION("input goes to stdin, then end of file") {
    auto r = capture({"cat"}, CaptureOptions{.input = "server.example", .timeout = {}});
    CHECK(r.status == 0);
    CHECK(r.out == "server.example");
  }
  SECTION("input larger than a pipe buffer") {
    std::string big(300000, 'x');
    auto r = capture({"wc", "-c"}, CaptureOptions{.input = big, .timeout = {}});
    CHECK(r.out.find("300000") != std::string::npos);
  }
  SECTION("a child that never reads its input does not hurt the caller") {
    auto r = capture({"true"}, CaptureOptions{.input = std::string(300000, 'x'), .timeout = 5s});
    CHECK(r.status == 0);
  }
  SECTION("a child that outlives its timeout is killed, what it wrote is kept") {
    auto start = std::chrono::steady_clock::now();
    auto r = capture({"sh", "-c", "echo started; exec sleep 30"},
                     CaptureOptions{.input = {}, .timeout = 300ms});
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(r.timed_out);
    CHECK(r.status == 128 + SIGKILL);
    CHECK(r.out == "started\n");
  }
  SECTION("find_in_path") {
    fod::test::TempDir dir;
    fod::test::EnvGuard env;
    dir.write("bin/tool-x", "#!/bin/sh\n", 0755);
    dir.write("plain/tool-x", "not executable\n", 0644);
    dir.mkdir("bin/tool-dir");
    env.set("PATH", "relative/bin::" + (dir / "plain") + ":" + (dir / "bin"));
    CHECK(fod::util::find_in_path("tool-x") == dir / "bin/tool-x");
    CHECK_FALSE(fod::util::find_in_path("tool-dir"));
    CHECK_FALSE(fod::util::find_in_path("tool-missing"));
    // A relative entry is never searched, even where it names the tool (run from dir).
    fod::test::CwdGuard cwd(dir.path());
    env.set("PATH", "bin");
    CHECK_FALSE(fod::util::find_in_path("tool-x"));
  }
}

TEST_CASE("util::spawn starts a program or throws", "[unit][util]") {
  SECTION("a missing program throws std::system_error") {
    CHECK_THROWS_AS(fod::util::spawn({"fod-no-such-program-xyz"}), std::system_error);
    CHECK_THROWS_AS(fod::util::spawn({"/nonexistent/dir/program"}), std::system_error);
  }
  SECTION("a started program is waited for with its raw status") {
    pid_t pid = fod::util::spawn({"sh", "-c", "exit 7"});
    CHECK(fod::util::shell_status(fod::util::wait_for(pid)) == 7);
  }
  SECTION("the given environment replaces the caller's") {
    std::vector<std::string> env = {"FOD_UNIT_MARK=yes", "PATH=/usr/bin:/bin"};
    fod::util::SpawnOptions options;
    options.environment = &env;
    pid_t pid = fod::util::spawn({"sh", "-c", "test \"$FOD_UNIT_MARK\" = yes && test -z \"$HOME\""},
                                 options);
    CHECK(fod::util::shell_status(fod::util::wait_for(pid)) == 0);
  }
}

TEST_CASE("util::StableHash gives stable, separator-aware 16-digit names", "[unit][util]") {
  using fod::util::StableHash;

  SECTION("hex is 16 lowercase hex digits") {
    std::string hex = StableHash().add("abc").hex();
    CHECK(hex.size() == 16);
    CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  SECTION("the same input gives the same value") {
    CHECK(StableHash().add("abc").hex() == StableHash().add("abc").hex());
    CHECK(StableHash().add("a").add("b").value() == StableHash().add("a").add("b").value());
  }
  SECTION("where the pieces split matters") {
    CHECK(StableHash().add("ab").add("c").hex() != StableHash().add("a").add("bc").hex());
    CHECK(StableHash().add("abc").hex() != StableHash().add("ab").add("c").hex());
  }
  SECTION("different input gives a different value") {
    CHECK(StableHash().add("abc").hex() != StableHash().add("abd").hex());
    CHECK(StableHash().add("").hex() != StableHash().hex());
  }
}

namespace {

// Whether text would change a terminal's state: a C0 control (line feed aside), DEL, a C1
// control (U+0080..U+009F, or a raw byte 0x80..0x9F), or bytes that are not valid UTF-8.
bool has_control(const std::string &text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) {
      return true;
    }
    if (c < 0x80) {
      continue;
    }
    size_t length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (length == 0 || i + length > text.size()) {
      return true;
    }
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) {
        return true;
      }
    }
    if (c == 0xc2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      return true; // U+0080..U+009F
    }
    i += length - 1;
  }
  return false;
}

} // namespace

TEST_CASE("util::printable drops every control character and keeps the text", "[unit][util]") {
  using fod::util::printable;

  SECTION("plain text and UTF-8 stay as they are") {
    CHECK(printable("linux/amd64") == "linux/amd64");
    CHECK(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3") ==
          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
    CHECK(printable("") == "");
  }
  SECTION("escape sequences lose their ESC and BEL: a title, a screen clear, colours") {
    CHECK(printable("\x1b]0;pwned\x07\x1b[2J") == "]0;pwned[2J");
    CHECK(printable("a\x1b[31mred\x1b[0m") == "a[31mred[0m");
  }
  SECTION("white space controls become a space, other C0 controls and DEL go") {
    CHECK(printable("one\ntwo\tthree\r\n") == "one two three  ");
    CHECK(printable(std::string("a\0b\x01\x7f\x08"
                                "c",
                                7)) == "abc");
  }
  SECTION("C1 controls go, encoded in UTF-8 or as raw bytes") {
    CHECK(printable("a\xc2\x9b"
                    "2Jb") == "a2Jb"); // U+009B, CSI
    CHECK(printable("a\x9b"
                    "2Jb") == "a2Jb"); // 8-bit CSI
    CHECK(printable("\xc2\x85\xc2\x9d") == "");
  }
  SECTION("other bytes that are not UTF-8 become U+FFFD") {
    CHECK(printable("a\xff"
                    "b") == "a\xef\xbf\xbd"
                            "b");
    CHECK(printable("\xc3") == "\xef\xbf\xbd");                 // cut short
    CHECK(printable("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd"); // overlong '/'
    CHECK(printable("\xed\xa0\x80") ==
          "\xef\xbf\xbd\xef\xbf\xbd"); // a surrogate (0xa0 stays U+FFFD, 0x80 goes)
  }
  SECTION("whatever the bytes, the result has no control") {
    std::mt19937 random(13);
    for (int round = 0; round < 2000; ++round) {
      std::string bytes;
      for (int i = 0; i < 24; ++i) {
        bytes += static_cast<char>(random() & 0xff);
      }
      INFO("round " << round);
      CHECK_FALSE(has_control(printable(bytes)));
    }
  }
}

namespace {

// The command names of this machine and of fod's mappings: names people gave programs.
std::set<std::string> real_command_names() {
  namespace fs = std::filesystem;
  std::set<std::string> names;
  for (const char *dir : {"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"}) {
    std::error_code error;
    if (!fs::is_directory(dir, error)) {
      continue;
    }
    for (const auto &item : fs::directory_iterator(dir, error)) {
      names.insert(item.path().filename().string());
    }
  }
  const fs::path mappings = fs::path(FOD_SOURCE_DIR) / "mappings" / "mappings.d";
  for (const auto &item : fs::directory_iterator(mappings)) {
    if (item.path().extension() == ".yaml") {
      for (const auto &command : YAML::LoadFile(item.path().string())["commands"]) {
        names.insert(command.first.Scalar());
      }
    }
  }
  return names;
}

// Tokens of the kinds people paste by mistake, from a fixed seed (mt19937's output is fixed
// by the standard, and each character is picked from it directly).
std::vector<std::string> generated_tokens() {
  std::mt19937 random(20240613);
  auto pick = [&](const std::string &alphabet, size_t count) {
    std::string text;
    for (size_t i = 0; i < count; ++i) {
      text += alphabet[random() % alphabet.size()];
    }
    return text;
  };
  auto between = [&](size_t low, size_t high) { return low + random() % (high - low + 1); };
  const std::string lower = "abcdefghijklmnopqrstuvwxyz";
  const std::string upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const std::string digits = "0123456789";
  const std::string base62 = lower + upper + digits;
  const std::string base64 = base62 + "+/";
  const std::string base64url = base62 + "-_";
  const std::string hex = "0123456789abcdef";
  const std::string hex_upper = "0123456789ABCDEF";
  auto uuid = [&] {
    std::string v4 = pick(hex, 8) + "-" + pick(hex, 4) + "-4" + pick(hex, 3) + "-" +
                     pick("89ab", 1) + pick(hex, 3) + "-" + pick(hex, 12);
    return v4;
  };
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    for (const char *prefix : {"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}) {
      tokens.push_back(prefix + pick(base62, 36)); // GitHub tokens
    }
    tokens.push_back("github_pat_" + pick(base62, 22) + "_" + pick(base62, 59));
    tokens.push_back("AKIA" + pick(upper + "234567", 16)); // AWS access key ids
    tokens.push_back("ASIA" + pick(upper + "234567", 16));
    tokens.push_back(pick(base64, 40)); // AWS secret access keys
    tokens.push_back(pick(base64, between(20, 44)));
    tokens.push_back(pick(base64url, between(20, 44)));
    tokens.push_back(pick(base62, between(20, 44)));
    tokens.push_back(pick(hex, between(20, 64)));
    tokens.push_back(pick(hex_upper, between(20, 64)));
    std::string id = uuid();
    tokens.push_back(id);
    std::string id_upper;
    for (char c : id) {
      id_upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    tokens.push_back(id_upper);
    id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
    tokens.push_back(id);
    tokens.push_back("eyJ" + pick(base64url, between(20, 40)) + ".eyJ" +
                     pick(base64url, between(40, 120)) + "." + pick(base64url, 43)); // JWT
  }
  return tokens;
}

} // namespace

TEST_CASE("util::looks_like_secret refuses tokens and keys, never a real command name",
          "[unit][util]") {
  using fod::util::looks_like_secret;

  SECTION("no command name of this machine or of fod's mappings looks like a secret") {
    auto names = real_command_names();
    CHECK(names.size() > 100);
    for (const auto &name : names) {
      INFO(name);
      CHECK_FALSE(looks_like_secret(name));
    }
  }
  SECTION("every generated token looks like one") {
    auto tokens = generated_tokens();
    CHECK(tokens.size() == 1800);
    for (const auto &token : tokens) {
      INFO(token);
      CHECK(looks_like_secret(token));
    }
  }
  SECTION("short text is never judged, long text always") {
    CHECK_FALSE(looks_like_secret("a1b2c3d4e5f")); // 11 characters
    CHECK_FALSE(looks_like_secret(""));
    CHECK(looks_like_secret(std::string(49, 'a')));
    CHECK_FALSE(looks_like_secret("python-argcomplete-check-easy-install-script")); // 44
  }
  SECTION("numbers, hex and capitals") {
    CHECK(looks_like_secret("4111111111111111"));
    CHECK(looks_like_secret("4111-1111-1111-1111"));
    CHECK(looks_like_secret("da39a3ee5e6b4b0d3255"));
    CHECK(looks_like_secret("AKIAIOSFODNN7EXAMPLE"));
    CHECK_FALSE(looks_like_secret("x86_64-linux-gnu-gcc-12"));
    CHECK_FALSE(looks_like_secret("llvm-PerfectShuffle-14"));
  }
  SECTION("entropy in bits per byte") {
    CHECK(fod::util::shannon_entropy("") == 0);
    CHECK(fod::util::shannon_entropy("aaaa") == 0);
    CHECK(fod::util::shannon_entropy("abab") == Approx(1.0));
    CHECK(fod::util::shannon_entropy("0123456789abcdef") == Approx(4.0));
  }
}
