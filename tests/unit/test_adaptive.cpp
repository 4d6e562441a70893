// The adaptive ttl and pre-warm policy (hook/src/adaptive): the run record,
// the rules of ttl: auto and pre-warming, the statistics of `fod stats`.

#include "adaptive/history.hpp"
#include "adaptive/policy.hpp"
#include "adaptive/prewarm.hpp"
#include "adaptive/settings.hpp"
#include "adaptive/stats.hpp"
#include "cli/stats.hpp"
#include "temp_dir.hpp"
#include "util/fs.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace fod::adaptive;

namespace {

constexpr double t0 = 1704067200;

Record run(const std::string &command, double start, double exec = 1, double setup = 0,
           const std::string &image = "") {
  Record r;
  r.kind = setup > 0 ? Kind::cold : Kind::warm;
  r.time = start;
  r.setup = setup;
  r.duration = exec;
  r.command = command;
  r.image = image.empty() ? "img/" + command + ":1" : image;
  r.key = "k-" + r.image;
  return r;
}

// command every `period` seconds, n times from `from`.
void every(std::vector<Record> &h, const std::string &command, double from, double period, int n) {
  for (int i = 0; i < n; ++i) {
    h.push_back(run(command, from + i * period, 2, i == 0 ? 1.5 : 0));
  }
}

void sort_by_time(std::vector<Record> &h) {
  std::stable_sort(h.begin(), h.end(),
                   [](const Record &a, const Record &b) { return a.time < b.time; });
}

} // namespace

TEST_CASE("adaptive::history: a record survives its one-line form and damaged lines are skipped",
          "[unit][adaptive]") {
  Record r = run("jq", t0 + 0.25, 1.5, 0.75, "ghcr.io/jqlang/jq:1.7.1");
  auto line = format_record(r);
  REQUIRE(line);
  CHECK(line->back() == '\n');
  CHECK(*line ==
        "C 1704067200.250 0.750 1.500 jq ghcr.io/jqlang/jq:1.7.1 k-ghcr.io/jqlang/jq:1.7.1\n");
  auto back = parse_record(*line);
  REQUIRE(back);
  CHECK(back->kind == Kind::cold);
  CHECK(back->time == Approx(t0 + 0.25));
  CHECK(back->end() == Approx(t0 + 2.5));
  CHECK(back->image == "ghcr.io/jqlang/jq:1.7.1");

  SECTION("fields with white space are refused, never written") {
    r.command = "two words";
    CHECK_FALSE(format_record(r));
    r.command = "";
    CHECK_FALSE(format_record(r));
  }
  SECTION("garbage, wrong kinds, negative numbers and a torn last line are skipped") {
    auto records = parse_records("X 1 2 3 a b c\n" + *line + "C -1 0 0 a b c\nnonsense\nC 1 2\n" +
                                 *line + "W 1704067300.000 0.000 1.0");
    CHECK(records.size() == 2);
  }
}

TEST_CASE("adaptive::history: appends create a private file, compaction keeps the newest records",
          "[unit][adaptive]") {
  fod::test::TempDir dir;
  const std::string path = dir / "state/fod/history";
  HistoryLimits limits{4096, 10};
  for (int i = 0; i < 200; ++i) {
    REQUIRE(append_record(path, run("jq", t0 + i), limits));
  }
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(static_cast<std::size_t>(st.st_size) <= limits.max_bytes);
  auto records = read_history(path);
  REQUIRE_FALSE(records.empty());
  CHECK(records.size() < 200); // compacted
  CHECK(records.back().time == Approx(t0 + 199));

  SECTION("compact_records keeps at most keep_records and half of max_bytes") {
    std::vector<Record> many;
    for (int i = 0; i < 100; ++i) {
      many.push_back(run("jq", t0 + i));
    }
    auto kept = compact_records(many, {1 << 20, 10});
    REQUIRE(kept.size() == 10);
    CHECK(kept.front().time == Approx(t0 + 90));
    CHECK(compact_records(many, {400, 100}).size() == 200 / format_record(many[0])->size());
  }
}

TEST_CASE(
    "adaptive::history: concurrent appends lose no line and tear none, also through compactions",
    "[unit][adaptive]") {
  fod::test::TempDir dir;
  constexpr int writers = 4;
  constexpr int each = 300;
  auto hammer = [&](const std::string &path, const HistoryLimits &limits) {
    std::vector<pid_t> pids;
    for (int w = 0; w < writers; ++w) {
      pid_t pid = fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        bool ok = true;
        for (int i = 0; i < each; ++i) {
          ok = append_record(path, run("w" + std::to_string(w), t0 + i), limits) && ok;
        }
        _exit(ok ? 0 : 1);
      }
      pids.push_back(pid);
    }
    for (pid_t pid : pids) {
      int status = 0;
      waitpid(pid, &status, 0);
      CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    auto text = fod::util::read_file(path);
    REQUIRE(text);
    return *text;
  };
  SECTION("below the bound every record is there") {
    auto text = hammer(dir / "history", {});
    CHECK(parse_records(text).size() == writers * each);
  }
  SECTION("past the bound every line is whole and the file stays bounded") {
    HistoryLimits limits{16 * 1024, 50};
    auto text = hammer(dir / "history", limits);
    auto records = parse_records(text);
    CHECK(records.size() == static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')));
    CHECK(text.size() <= limits.max_bytes);
    CHECK(records.size() >= 50);
    CHECK(std::any_of(records.begin(), records.end(),
                      [](const Record &r) { return r.time == Approx(t0 + each - 1); }));
  }
}

TEST_CASE("adaptive::settings: config keys, their errors, and the JSON round trip",
          "[unit][adaptive]") {
  Settings s;
  CHECK(s.ttl_auto);
  CHECK_FALSE(apply_setting(s, "ttl_min", "30s"));
  CHECK_FALSE(apply_setting(s, "ttl_max", "2h"));
  CHECK_FALSE(apply_setting(s, "prewarm", "false"));
  CHECK_FALSE(apply_setting(s, "max_warm", "3"));
  CHECK_FALSE(apply_setting(s, "memory_ceiling", "6g"));
  CHECK(s.ttl_min.count() == 30);
  CHECK(s.ttl_max.count() == 7200);
  CHECK_FALSE(s.prewarm);
  CHECK(s.max_warm == 3);

  Settings before = s;
  CHECK(apply_setting(s, "ttl_min", "soon")->find("ttl_min: soon") != std::string::npos);
  CHECK(apply_setting(s, "ttl_min", "0s")->find("at least 1s") != std::string::npos);
  CHECK(apply_setting(s, "prewarm", "maybe"));
  CHECK(apply_setting(s, "max_warm", "-1"));
  CHECK(apply_setting(s, "memory_ceiling", "lots"));
  CHECK(apply_setting(s, "memory_ceiling", "150%"));
  CHECK(s == before);

  CHECK(settings_from_json(settings_to_json(s)) == s);
  CHECK(settings_from_json(nlohmann::json::object()) == Settings{});

  CHECK(parse_memory("512m") == (std::uint64_t{512} << 20));
  CHECK(parse_memory("2g") == (std::uint64_t{2} << 30));
  CHECK(parse_memory("1024") == 1024);
  CHECK_FALSE(parse_memory("2gb"));
  CHECK(memory_ceiling_bytes(s, std::uint64_t{16} << 30) == (std::uint64_t{6} << 30));
  CHECK_FALSE(apply_setting(s, "memory_ceiling", "25%"));
  CHECK(memory_ceiling_bytes(s, std::uint64_t{16} << 30) == (std::uint64_t{4} << 30));
  CHECK(physical_memory() > 0);
}

TEST_CASE("adaptive::auto_ttl: long enough for frequent calls, short for rare ones, within bounds",
          "[unit][adaptive]") {
  Settings s; // ttl_min 1m, ttl_max 1h
  std::vector<Record> h;

  SECTION("learning: fewer than four gaps give the learning ttl") {
    every(h, "jq", t0, 300, 3);
    auto choice = auto_ttl(h, "img/jq:1", s);
    CHECK(choice.seconds == Approx(600));
    CHECK(std::string(choice.rule) == "learning");
  }
  SECTION("calls every 5 minutes: the ttl outlasts the gap, so the next call is warm") {
    every(h, "jq", t0, 300, 20);
    auto choice = auto_ttl(h, "img/jq:1", s);
    CHECK(choice.seconds > 300 - 2);
    CHECK(choice.seconds < 600);
    CHECK(std::string(choice.rule) == "gaps");
  }
  SECTION("calls every 3 hours: the container goes after ttl_min") {
    every(h, "jq", t0, 3 * 3600, 10);
    auto choice = auto_ttl(h, "img/jq:1", s);
    CHECK(choice.seconds == Approx(60));
    CHECK(std::string(choice.rule) == "rare");
  }
  SECTION("bursts seconds apart, hours between bursts: the ttl covers the bursts only") {
    for (int b = 0; b < 6; ++b) {
      every(h, "jq", t0 + b * 4 * 3600, 20, 8);
    }
    sort_by_time(h);
    auto choice = auto_ttl(h, "img/jq:1", s);
    CHECK(choice.seconds >= 18);
    CHECK(choice.seconds <= 120);
  }
  SECTION("the bounds hold") {
    every(h, "jq", t0, 50 * 60, 20);
    s.ttl_max = std::chrono::seconds(30 * 60);
    CHECK(auto_ttl(h, "img/jq:1", s).seconds == Approx(60)); // 50 minute gaps exceed ttl_max
    s.ttl_max = std::chrono::seconds(3600);
    CHECK(auto_ttl(h, "img/jq:1", s).seconds == Approx(3600));
    s.ttl_min = std::chrono::seconds(7200); // a min above the max wins
    CHECK(auto_ttl(h, "img/jq:1", s).seconds == Approx(7200));
  }
  SECTION("overlapping runs are no idle gap") {
    h = {run("jq", t0, 100), run("jq", t0 + 10, 5), run("jq", t0 + 200, 1)};
    auto gaps = idle_gaps(h, "img/jq:1");
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0] == Approx(100));
  }
}

TEST_CASE("adaptive::periodic_prediction: a steady period predicts the next call, noise does not",
          "[unit][adaptive]") {
  Settings s;
  std::vector<Record> h;
  SECTION("every 10 minutes") {
    every(h, "backup", t0, 600, 8);
    auto p = periodic_prediction(h, "backup", s);
    REQUIRE(p);
    CHECK(p->period == Approx(600));
    CHECK(p->expected == Approx(t0 + 8 * 600));
    CHECK(p->prewarm_at < p->expected - 1.5);
    CHECK(p->until > p->expected);
    CHECK(p->support == 7);
  }
  SECTION("too few episodes") {
    every(h, "backup", t0, 600, 4);
    CHECK_FALSE(periodic_prediction(h, "backup", s));
  }
  SECTION("irregular gaps") {
    for (double at : {0.0, 100.0, 900.0, 1000.0, 3000.0, 3300.0, 7000.0, 7100.0, 9000.0}) {
      h.push_back(run("backup", t0 + at));
    }
    CHECK_FALSE(periodic_prediction(h, "backup", s));
  }
  SECTION("a burst counts as one episode") {
    for (int i = 0; i < 8; ++i) {
      h.push_back(run("backup", t0 + i * 1200));
      h.push_back(run("backup", t0 + i * 1200 + 10));
    }
    auto p = periodic_prediction(h, "backup", s);
    REQUIRE(p);
    CHECK(p->period == Approx(1200));
  }
}

TEST_CASE("adaptive::sequence_predictions: B after A, unless B comes that often anyway",
          "[unit][adaptive]") {
  Settings s;
  std::vector<Record> h;
  for (int i = 0; i < 6; ++i) {
    double at = t0 + i * 3600;
    h.push_back(run("tcpdump", at, 60, 1));
    h.push_back(run("traceroute", at + 60 + 1 + 8, 5, 1)); // 8 s after tcpdump ends
  }
  sort_by_time(h);
  auto predictions = sequence_predictions(h, "tcpdump", s);
  REQUIRE(predictions.size() == 1);
  const auto &p = predictions[0];
  CHECK(p.command == "traceroute");
  CHECK(p.pattern == Pattern::sequence);
  CHECK(p.after == Approx(t0 + 5 * 3600 + 61));
  CHECK(p.expected == Approx(p.after + 8));
  CHECK(p.prewarm_at <= p.expected - 1);
  CHECK(p.until >= p.expected);
  CHECK(p.confidence == Approx(1));

  SECTION("a command that runs every minute follows everything and predicts nothing") {
    for (double at = t0 - 600; at < t0 + 6 * 3600; at += 60) {
      h.push_back(run("watch", at, 1));
    }
    sort_by_time(h);
    auto again = sequence_predictions(h, "tcpdump", s);
    REQUIRE(again.size() == 1);
    CHECK(again[0].command == "traceroute");
  }
  SECTION("the same image is never pre-warmed by its own runs") {
    CHECK(sequence_predictions(h, "traceroute", s).empty());
  }
}

TEST_CASE("adaptive::plan_prewarm and recheck: what a helper does, and when it gives up",
          "[unit][adaptive]") {
  Settings s;
  std::vector<Record> h;
  every(h, "report", t0, 3600, 8);
  const double now = t0 + 7 * 3600 + 5;
  auto plan = plan_prewarm(h, "report", now, s);
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].pattern == Pattern::periodic);
  CHECK(plan[0].expected == Approx(t0 + 8 * 3600));

  SECTION("off with one setting, or with max_warm 0") {
    s.prewarm = false;
    CHECK(plan_prewarm(h, "report", now, s).empty());
    s.prewarm = true;
    s.max_warm = 0;
    CHECK(plan_prewarm(h, "report", now, s).empty());
  }
  SECTION("a period shorter than 2 x ttl_min plus the lead is left to the ttl") {
    std::vector<Record> quick;
    every(quick, "top", t0, 120, 10);
    CHECK(plan_prewarm(quick, "top", t0 + 1100, s).empty());
  }
  SECTION("a newer call moves the prediction on") {
    h.push_back(run("report", t0 + 8 * 3600 - 30));
    auto q = recheck(h, plan[0], plan[0].prewarm_at, s);
    REQUIRE(q);
    CHECK(q->expected == Approx(t0 + 9 * 3600 - 30));
  }
  SECTION("one skipped beat is forgiven, two are not") {
    auto q = recheck(h, plan[0], plan[0].until + 1, s);
    REQUIRE(q);
    CHECK(q->expected == Approx(t0 + 9 * 3600));
    CHECK_FALSE(recheck(h, plan[0], q->until + 1, s));
  }
  SECTION("a sequence prediction is dropped once its command ran") {
    Prediction p;
    p.pattern = Pattern::sequence;
    p.command = "traceroute";
    p.image = "img/traceroute:1";
    p.after = t0;
    p.until = t0 + 100;
    CHECK(recheck(h, p, t0 + 5, s));
    h.push_back(run("traceroute", t0 + 3));
    CHECK_FALSE(recheck(h, p, t0 + 5, s));
  }
}

TEST_CASE("adaptive::reaper_ttl: holds pre-warmed containers, cuts predicted ones, re-checks "
          "unrecorded use",
          "[unit][adaptive]") {
  Settings s;
  std::vector<Record> h;
  every(h, "report", t0, 3600, 8);
  const double last_end = h.back().end();

  SECTION("without pre-warming, the gap rule alone: hourly calls exceed ttl_max") {
    s.prewarm = false;
    s.ttl_max = std::chrono::seconds(30 * 60);
    CHECK(reaper_ttl(h, "img/report:1", last_end, last_end + 1, s) == Approx(60));
  }
  SECTION("with pre-warming, a container whose next call is predicted is kept ttl_min") {
    s.ttl_max = std::chrono::seconds(2 * 3600);
    CHECK(auto_ttl(h, "img/report:1", s).seconds > 3600);
    CHECK(reaper_ttl(h, "img/report:1", last_end, last_end + 1, s) == Approx(60));
    s.prewarm = false;
    CHECK(reaper_ttl(h, "img/report:1", last_end, last_end + 1, s) > 3600);
  }
  SECTION("a pre-warmed container waits until the pre-warm's until") {
    Record p = run("report", t0 + 8 * 3600 - 60);
    p.kind = Kind::prewarm;
    p.setup = 1.5;
    p.duration = 120; // until = prewarm time + 120
    h.push_back(p);
    const double use = p.time + p.setup;
    CHECK(reaper_ttl(h, "img/report:1", use, use + 1, s) == Approx(p.time + 120 - use));
    h.push_back(run("report", t0 + 8 * 3600)); // the call came: the pre-warm is spent
    CHECK(reaper_ttl(h, "img/report:1", h.back().end(), h.back().end() + 1, s) !=
          Approx(p.time + 120 - use));
  }
  SECTION("a use the record does not show yet gives ttl_min") {
    s.prewarm = false;
    std::vector<Record> frequent;
    every(frequent, "jq", t0, 300, 10);
    double in_flight = frequent.back().end() + 200;
    CHECK(reaper_ttl(frequent, "img/jq:1", in_flight, in_flight + 1, s) == Approx(60));
    CHECK(reaper_ttl(frequent, "img/jq:1", frequent.back().end(), in_flight, s) > 290);
  }
}

TEST_CASE("adaptive::reaper_ttl: quiet hours end a container when earlier days had no call then",
          "[unit][adaptive]") {
  Settings s;
  s.prewarm = false;
  const double day = 86400;
  std::vector<Record> h;
  // Three working days: jq every 20 minutes from 09:00 to 17:00.
  for (int d = 0; d < 3; ++d) {
    every(h, "jq", t0 + d * day + 9 * 3600, 1200, 25);
  }
  // The fourth day, up to 13:00, and up to 17:00.
  std::vector<Record> noon = h;
  every(noon, "jq", t0 + 3 * day + 9 * 3600, 1200, 13);
  every(h, "jq", t0 + 3 * day + 9 * 3600, 1200, 25);
  const double base = auto_ttl(h, "img/jq:1", s).seconds;
  REQUIRE(base > 1200);

  SECTION("mid-day, earlier days had calls in the stretch: the gap rule's ttl") {
    const double last = noon.back().end();
    CHECK(reaper_ttl(noon, "img/jq:1", last, last + 120, s) ==
          Approx(auto_ttl(noon, "img/jq:1", s).seconds));
  }
  SECTION("after the day's last call, no earlier day had one then: removed at the next look") {
    const double last = h.back().end();
    CHECK(reaper_ttl(h, "img/jq:1", last, last + 120, s) == Approx(120));
    CHECK(reaper_ttl(h, "img/jq:1", last, last + 10, s) == Approx(60)); // never below ttl_min
  }
  SECTION("only one earlier day: not evidence enough") {
    std::vector<Record> two;
    every(two, "jq", t0 + 9 * 3600, 1200, 25);
    every(two, "jq", t0 + day + 9 * 3600, 1200, 25);
    const double last = two.back().end();
    CHECK(reaper_ttl(two, "img/jq:1", last, last + 120, s) ==
          Approx(auto_ttl(two, "img/jq:1", s).seconds));
  }
}

TEST_CASE("adaptive::may_prewarm: max_warm and the memory ceiling bound pre-warming",
          "[unit][adaptive]") {
  Settings s;
  s.max_warm = 2;
  const std::uint64_t g = std::uint64_t{1} << 30;
  CHECK(may_prewarm({}, 2 * g, 8 * g, s));
  CHECK(may_prewarm({{"a", 2 * g}}, 2 * g, 8 * g, s));
  CHECK_FALSE(may_prewarm({{"a", 2 * g}, {"b", 2 * g}}, 2 * g, 8 * g, s));
  CHECK_FALSE(may_prewarm({{"a", 6 * g}}, 4 * g, 8 * g, s));
  s.prewarm = false;
  CHECK_FALSE(may_prewarm({}, g, 8 * g, s));
}

TEST_CASE(
    "adaptive::summarize: calls, MTBC, MTTS, MTTE, epsilon, warm hits and idle time per command",
    "[unit][adaptive]") {
  std::vector<Record> h;
  h.push_back(run("jq", t0, 2, 1));    // cold: ready at +1, busy until +3
  h.push_back(run("jq", t0 + 60, 2));  // warm: idle 57 s before it
  h.push_back(run("jq", t0 + 120, 2)); // warm: idle 58 s
  Record removal;
  removal.kind = Kind::removal;
  removal.time = t0 + 122 + 300; // idle 300 s, then removed
  removal.command = "jq";
  removal.image = "img/jq:1";
  removal.key = "k-img/jq:1";
  h.push_back(removal);
  h.push_back(run("rg", t0 + 10, 1, 3)); // its removal is not recorded
  auto summary = summarize(h, t0 + 10000);
  REQUIRE(summary.commands.size() == 2);
  const auto &jq = summary.commands[0];
  CHECK(jq.command == "jq");
  CHECK(jq.calls == 3);
  CHECK(jq.warm == 2);
  CHECK(jq.warm_hit_rate() == Approx(2.0 / 3));
  CHECK(*jq.mtbc == Approx(60));
  CHECK(*jq.mtts == Approx(1));
  CHECK(jq.mtte == Approx(2));
  CHECK(*jq.epsilon == Approx(57));
  CHECK(jq.idle == Approx(57 + 58 + 300));
  const auto &rg = summary.commands[1];
  CHECK_FALSE(rg.mtbc);
  CHECK(rg.idle == Approx(0)); // no removal, not live: not charged
  CHECK(summary.calls == 4);
  CHECK(summary.idle == Approx(415));

  SECTION("a live container counts up to now") {
    auto live = summarize(h, t0 + 1014, {"k-img/rg:1"});
    CHECK(live.commands[1].idle == Approx(1000));
  }
  SECTION("a pre-warmed container's wait is charged to the command it was started for") {
    Record p;
    p.kind = Kind::prewarm;
    p.time = t0 + 1000;
    p.setup = 2;
    p.duration = 60;
    p.command = "jq";
    p.image = "img/jq:1";
    p.key = "k-img/jq:1";
    h.push_back(p);
    h.push_back(run("jq", t0 + 1030, 1));
    Record gone = removal;
    gone.time = t0 + 1031 + 60;
    h.push_back(gone);
    auto with = summarize(h, t0 + 5000);
    CHECK(with.commands[0].prewarms == 1);
    CHECK(with.commands[0].calls == 4);
    CHECK(with.commands[0].idle == Approx(415 + 28 + 60));
  }
  SECTION("fod stats prints a row per command and the total") {
    auto text = fod::cli::format_stats(summary);
    CHECK(text.find("COMMAND") == 0);
    CHECK(text.find("\njq ") != std::string::npos);
    CHECK(text.find("67%") != std::string::npos);
    CHECK(text.find("(all)") != std::string::npos);
  }
}

TEST_CASE(
    "adaptive::run_prewarm_helper: sleeps until due, starts within bounds, records what it did",
    "[unit][adaptive]") {
  Settings s;
  std::vector<Record> h;
  every(h, "report", t0, 3600, 8);
  double clock = h.back().end() + 0.5;
  std::vector<std::string> started;
  std::vector<Record> appended;
  std::vector<WarmContainer> warm;
  bool up = false;
  PrewarmHooks hooks;
  hooks.read_history = [&] {
    auto all = h;
    all.insert(all.end(), appended.begin(), appended.end());
    return all;
  };
  hooks.now = [&] { return clock; };
  hooks.sleep = [&](double seconds) { clock += seconds; };
  hooks.warm_key = [&](const std::string &) {
    return up ? std::optional<std::string>("k") : std::nullopt;
  };
  hooks.warm_containers = [&] { return warm; };
  hooks.memory_of = [](const std::string &) { return std::uint64_t{2} << 30; };
  hooks.start = [&](const std::string &command) {
    started.push_back(command);
    clock += 1.5;
    return std::optional<std::string>("k");
  };
  hooks.append = [&](const Record &r) {
    appended.push_back(r);
    return true;
  };
  hooks.claim_periodic = [](const std::string &) { return true; };
  const std::uint64_t ceiling = std::uint64_t{8} << 30;

  SECTION("a periodic call: started before it is due, then followed until the calls stop") {
    int kept = run_prewarm_helper("report", s, ceiling, hooks);
    // The next call never comes: the helper also tries the beat after, then stops.
    CHECK(kept == 2);
    REQUIRE(started.size() == 2);
    REQUIRE(appended.size() == 2);
    CHECK(appended[0].kind == Kind::prewarm);
    CHECK(appended[0].command == "report");
    CHECK(appended[0].time < t0 + 8 * 3600);
    CHECK(appended[0].setup == Approx(1.5));
    CHECK(appended[0].time + appended[0].duration > t0 + 8 * 3600);
  }
  SECTION("at max_warm nothing starts") {
    s.max_warm = 1;
    warm = {{"other", 1}};
    CHECK(run_prewarm_helper("report", s, ceiling, hooks) == 0);
    CHECK(started.empty());
  }
  SECTION("a container already up is kept instead of started") {
    up = true;
    CHECK(run_prewarm_helper("report", s, ceiling, hooks) == 2);
    CHECK(started.empty());
    CHECK(appended[0].setup == 0);
  }
  SECTION("another helper already follows the period") {
    hooks.claim_periodic = [](const std::string &) { return false; };
    CHECK(run_prewarm_helper("report", s, ceiling, hooks) == 0);
  }
  SECTION("cancelled by fod stop while it slept: it ends without starting anything") {
    const double cancel_at = clock + 1;
    hooks.cancelled = [&] { return clock >= cancel_at; };
    CHECK(run_prewarm_helper("report", s, ceiling, hooks) == 0);
    CHECK(started.empty());
    CHECK(appended.empty());
  }
}

#include "containers/records.hpp"
#include "mapping/index.hpp"
#include "mapping/loader.hpp"

TEST_CASE("adaptive: ttl auto and its settings in config.yaml, mappings, the index and info.json",
          "[unit][adaptive]") {
  using namespace fod::mapping;
  Mapping m;
  CHECK(m.config.adaptive.ttl_auto); // the default when nothing sets a ttl
  apply_config_text("ttl_min: 30s\nttl_max: 1h\nprewarm: false\nmax_warm: 2\nmemory_ceiling: 4g\n",
                    "c.yaml", m);
  CHECK(m.diagnostics.empty());
  CHECK(m.config.adaptive.ttl_min.count() == 30);
  CHECK(m.config.adaptive.ttl_max.count() == 3600);
  CHECK_FALSE(m.config.adaptive.prewarm);
  CHECK(m.config.adaptive.max_warm == 2);
  apply_config_text("ttl: 10m\n", "c.yaml", m);
  CHECK_FALSE(m.config.adaptive.ttl_auto);
  CHECK(m.config.ttl.count() == 600);
  apply_config_text("ttl: auto\nttl_min: soon\nprewarm: maybe\n", "c.yaml", m);
  CHECK(m.config.adaptive.ttl_auto);
  REQUIRE(m.diagnostics.size() == 2);
  CHECK(m.diagnostics[0].rfind("c.yaml:2: 'ttl_min: soon'", 0) == 0);

  apply_mapping_text("commands:\n"
                     "  a: {image: 'localhost/a:1', ttl: auto}\n"
                     "  b: {image: 'localhost/b:1', ttl: 5m}\n"
                     "  c: {image: 'localhost/c:1'}\n",
                     "user", "m.yaml", m);
  REQUIRE(m.find("a"));
  CHECK(m.find("a")->ttl_auto);
  CHECK(uses_auto_ttl(*m.find("a"), m.config));
  CHECK_FALSE(uses_auto_ttl(*m.find("b"), m.config));
  CHECK(uses_auto_ttl(*m.find("c"), m.config));
  m.config.adaptive.ttl_auto = false;
  CHECK(uses_auto_ttl(*m.find("a"), m.config));
  CHECK_FALSE(uses_auto_ttl(*m.find("c"), m.config));

  SECTION("the index keeps them") {
    fod::test::TempDir dir;
    dir.write("user/config.yaml", "ttl_max: 2h\nprewarm: false\n");
    dir.write("user/mappings.yaml", "commands:\n  a: {image: 'localhost/a:1', ttl: auto}\n");
    std::vector<Layer> layers{{"user", dir / "user"}};
    auto built = load_indexed(layers, dir / "cache");
    auto cached = load_indexed(layers, dir / "cache");
    CHECK(built.rebuilt);
    REQUIRE_FALSE(cached.rebuilt);
    CHECK(cached.mapping.config.adaptive == built.mapping.config.adaptive);
    CHECK(cached.mapping.config.adaptive.ttl_max.count() == 7200);
    CHECK(cached.mapping.find("a")->ttl_auto);
  }
  SECTION("a container's record keeps them") {
    fod::test::TempDir dir;
    fod::containers::ContainerPaths paths(dir.path());
    fod::containers::Info info;
    info.key = "k";
    info.container = "c";
    info.image = "localhost/a:1";
    info.root = "/tmp";
    REQUIRE(fod::containers::write_info(paths, info));
    CHECK_FALSE(fod::containers::read_info(paths)->adaptive);
    info.adaptive = m.config.adaptive;
    REQUIRE(fod::containers::write_info(paths, info));
    CHECK(fod::containers::read_info(paths)->adaptive == m.config.adaptive);
  }
}
