// Integration tests of the shell integration (`fod init bash|zsh|fish`,
// shell-integration/fod.*) in real bash, zsh and fish, against real podman and
// docker. Each test case runs one shell against one engine in a throw-away
// tree (HOME, XDG_* and fod's layers all inside it, so no rc file or user
// mapping is read), and always ends with `fod stop --all`.
//
// Non-terminal cases run the shell with a script on stdin (`-i` with stdin
// from a pipe unless said otherwise). A mapped command in such a script has
// its stdin redirected from /dev/null, as the engine CLI would otherwise read
// the rest of the script. Terminal cases run the shell in a detached tmux
// session of 100x30 and poll the pane for the expected text.
//
// The scripts below are constants of this file plus temp-directory paths.
#include "fod_env.hpp"
#include "registry_fixture.hpp"
#include "tmux_pane.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

using namespace fod::test;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

enum class Shell { bash, zsh, fish };

std::string shell_name(Shell s) {
    switch (s) {
    case Shell::bash: return "bash";
    case Shell::zsh: return "zsh";
    case Shell::fish: return "fish";
    }
    return "?";
}

constexpr const char* prompt = "FODTEST> ";

// 'text' for sh-like shells and fish (the temp paths used here hold no quote
// or backslash).
std::string sq(const std::string& text) { return "'" + text + "'"; }

// The line that loads fod's integration, with the fod at `fod`.
std::string init_line(Shell s, const std::string& fod) {
    if (s == Shell::fish) return sq(fod) + " init fish | source";
    return "eval \"$(" + sq(fod) + " init " + shell_name(s) + ")\"";
}

// The last status, and the statuses of the last pipeline, in the shell's syntax.
std::string status_var(Shell s) { return s == Shell::fish ? "$status" : "$?"; }
std::string pipestatus_var(Shell s) {
    switch (s) {
    case Shell::bash: return "${PIPESTATUS[*]}";
    case Shell::zsh: return "${pipestatus[*]}";
    case Shell::fish: return "$pipestatus";
    }
    return "";
}

// A handler defined before fod's: prints "previous: NAME" on stdout (fish
// moves a handler's output to stderr) and returns 127. fish's own default is
// defined as an event handler; `fish_event` defines it that way.
std::string previous_handler(Shell s, bool fish_event = false) {
    switch (s) {
    case Shell::bash:
        return "command_not_found_handle() { printf 'previous: %s\\n' \"$1\"; return 127; }\n";
    case Shell::zsh:
        return "command_not_found_handler() { print -r -- \"previous: $1\"; return 127; }\n";
    case Shell::fish:
        return std::string("function fish_command_not_found") +
               (fish_event ? " --on-event fish_command_not_found" : "") +
               "; echo \"previous: $argv[1]\"; end\n";
    }
    return "";
}

// Saves PATH before the init and puts it back after, so that only the
// handler can find mapped commands (bash and zsh).
std::string save_path() { return "before_path=$PATH\n"; }
std::string restore_path() { return "PATH=$before_path\n"; }

std::vector<std::string> shell_argv(Shell s, bool interactive) {
    std::vector<std::string> argv;
    switch (s) {
    case Shell::bash: argv = {"bash", "--norc", "--noprofile"}; break;
    case Shell::zsh: argv = {"zsh", "-f"}; break;
    case Shell::fish: argv = {"fish", "--no-config"}; break;
    }
    if (interactive) argv.push_back("-i");
    return argv;
}

// stderr without bash's job-control notes (they name a pid).
std::string normalized_stderr(const std::string& err) {
    std::string out;
    for (const auto& l : lines_of(err)) {
        if (l.rfind("bash: cannot set terminal process group", 0) == 0) continue;
        if (l == "bash: no job control in this shell") continue;
        out += l + "\n";
    }
    return out;
}

bool require_shell(Shell s) {
    return require_or_skip(!find_program(shell_name(s)).empty(),
                           shell_name(s) + " is not installed");
}

bool require_tmux() {
    return require_or_skip(!find_program("tmux").empty(), "tmux is not installed");
}

// A unique-per-process counter for markers.
int next_id() {
    static std::atomic<int> n{0};
    return ++n;
}

// mappings.yaml with these of: tool and tool2 (the scratch image's /tool),
// bbsh (the busybox image's /bin/sh), written as an editor saves (a new file).
void write_tool_mappings(const FodEnv& env, const std::vector<std::string>& names) {
    std::string entries;
    for (const auto& name : names) {
        const bool busybox = name == "bbsh";
        entries += env.entry(name, busybox ? busybox_image : scratch_image,
                             {busybox ? "/bin/sh" : "/tool"}, "2m");
    }
    replace_file(env.config_dir() + "/mappings.yaml", "commands:\n" + entries);
}

// A test's fod for the shells, in a throw-away tree (see FodEnv), mapping tool
// and bbsh.
struct ShellEnv : FodEnv {
    explicit ShellEnv(Engine e) : FodEnv(e) { write_tool_mappings(*this, {"tool", "bbsh"}); }
};

// A shell run's result, and a transcript (script, outputs) for failure messages.
struct ShellResult : Result {
    std::string transcript{};
};

// Options of one shell run (see run_shell).
struct ShellRun {
    bool interactive = true;                       // -i
    std::string command_string{};                  // non-empty: -c this, stdin empty
    std::map<std::string, std::string> env_set{};  // on top of the login environment
    std::vector<std::string> env_unset{};
    double timeout_s = 90;
};

// Runs the shell (no rc files) in work() with env's login environment and
// empty prompts: `script` on stdin, or run_opts.command_string with -c.
// bash runs without line editing, which would echo each line on stderr.
ShellResult run_shell(const FodEnv& env, Shell s, const std::string& script,
                      const ShellRun& run_opts = {}) {
    std::vector<std::string> argv = shell_argv(s, run_opts.interactive);
    if (s == Shell::bash) argv.insert(argv.begin() + 1, "--noediting");
    RunOptions o = {.env_set = run_opts.env_set, .timeout_s = run_opts.timeout_s};
    o.env_set.emplace("PS1", "");
    o.env_set.emplace("PS2", "");
    if (!run_opts.command_string.empty()) {
        argv.push_back("-c");
        argv.push_back(run_opts.command_string);
    } else {
        o.stdin_data = script;
    }
    o = env.login_options(std::move(o));
    for (const auto& k : run_opts.env_unset) o.env_set.erase(k);
    ShellResult r;
    static_cast<Result&>(r) = run(argv, o);
    std::string args;
    for (const auto& a : argv)
        args += (args.empty() ? "" : " ") + (a.find('\n') == a.npos ? a : "<-c string>");
    r.transcript = args + " -> status " + std::to_string(r.status) + "\n--- script:\n" +
                   (script.empty() ? run_opts.command_string : script) + "--- stdout:\n" + r.out +
                   "--- stderr:\n" + r.err + "---";
    return r;
}

// The line naming `name` that the shell prints for a command it cannot find,
// on this machine and without fod (interactive, no rc files, env's login
// environment): its own message ("bash: NAME: command not found"), or that of
// the program its default handler calls (fish's calls Debian's
// command-not-found where that is installed). What a line holds before a CR
// is not part of it (zsh marks a partial line before each prompt: "#  \r \r").
std::string usual_miss_line(const FodEnv& env, Shell s, const std::string& name) {
    const ShellResult r = run_shell(env, s, name + "\n");
    for (const auto& line : lines_of(r.err))
        if (contains(line, name)) return line.substr(line.rfind('\r') + 1);
    return "<" + shell_name(s) + " printed no line naming " + name + ": " + r.err + ">";
}

// An interactive shell (no rc files) with env's login environment in a pane of
// 100x30, in work().
TmuxPane shell_pane(const FodEnv& env, Shell s) {
    std::vector<std::string> sh = shell_argv(s, true);
    if (s == Shell::fish) {
        sh.push_back("-C");
        sh.push_back(std::string("set -g fish_greeting; function fish_prompt; printf '%s' '") +
                     prompt + "'; end");
    }
    // PS1 for bash and zsh; fish gets its prompt from -C.
    return TmuxPane(env.root(), sh,
                    {.cols = 100,
                     .rows = 30,
                     .cwd = env.work(),
                     .run = env.login_options({.env_set = {{"PS1", prompt}}, .timeout_s = 30}),
                     .prompt = prompt});
}

// Types the init line into the pane's shell and waits until it ran.
void init(TmuxPane& t, Shell s) {
    INFO("tmux screen:\n" << t.screen());
    REQUIRE(t.run_line(init_line(s, fod_binary())));
}

// ============================================================ the behaviours

// 1. A mapped command runs: stdout, stderr, status, pipes both ways.
// `via_handler`: the shim directory is taken off PATH after the init, so only
// the command-not-found handler can find the command (bash, zsh).
void mapped_command_runs(Shell s, Engine e, bool via_handler) {
    if (!require_shell(s)) return;
    ShellEnv env(e);
    const std::string st = status_var(s);
    std::string script;
    if (via_handler) script += save_path();
    script += init_line(s, fod_binary()) + "\n";
    if (via_handler) {
        script += restore_path();
        script += s == Shell::bash ? "type -P tool || echo no-tool-on-path\n"
                                   : "whence -p tool || echo no-tool-on-path\n";
    } else if (s == Shell::fish) {
        script += "contains -- " + sq(env.shims_dir()) + " $PATH; and echo shim-dir-in-path\n";
        script += "command -s tool\n";
    } else {
        script +=
            "case \":$PATH:\" in *:" + sq(env.shims_dir()) + ":*) echo shim-dir-in-path;; esac\n";
        script += s == Shell::bash ? "type -P tool\n" : "whence -p tool\n";
    }
    script += "tool echo hello world </dev/null; echo \"status=" + st + "\"\n";
    script += "tool bogus </dev/null; echo \"bogus=" + st + "\"\n";
    script += "tool exit 7 </dev/null; echo \"exit7=" + st + "\"\n";
    script += "printf 'a\\nb\\n' | tool cat | wc -l\n";
    script += "true | tool exit 5 | cat; echo \"pipestatus=" + pipestatus_var(s) + "\"\n";
    script += "echo end\n";
    ShellResult r = run_shell(env, s, script);
    INFO(r.transcript);

    std::string expected =
        via_handler ? "no-tool-on-path\n" : "shim-dir-in-path\n" + env.shims_dir() + "/tool\n";
    expected += "hello world\nstatus=0\nbogus=2\nexit7=7\n2\npipestatus=0 5 0\nend\n";
    CHECK(r.status == 0);
    CHECK(r.out == expected);
    // `tool bogus` prints its usage on stderr, and only there.
    CHECK(contains(r.err, "usage: tool echo ARGS..."));
    CHECK_FALSE(contains(r.err, "command not found"));
    CHECK_FALSE(contains(r.err, "Unknown command"));
}

// 2. An unmapped name: what the shell does without fod (its own message, or its
// default handler's), byte for byte, and 127. The same script runs with and
// without the init (FOD_TEST_FOD unset).
void unmapped_name_gives_shells_message(Shell s, Engine e) {
    if (!require_shell(s)) return;
    ShellEnv env(e);
    std::string load =
        s == Shell::fish ? "if set -q FOD_TEST_FOD; $FOD_TEST_FOD init fish | source; end\n"
                         : "if [ -n \"${FOD_TEST_FOD-}\" ]; then eval \"$(\"$FOD_TEST_FOD\" init " +
                               shell_name(s) + ")\"; fi\n";
    std::string script = load + "nosuch-cmd arg1 arg2\necho \"st=" + status_var(s) + "\"\n" +
                         "nosuch-cmd </dev/null 2>&1 | cat; echo \"piped=" + pipestatus_var(s) +
                         "\"\n";
    ShellResult with = run_shell(env, s, script, {.env_set = {{"FOD_TEST_FOD", fod_binary()}}});
    INFO(with.transcript);
    ShellResult without = run_shell(env, s, script);
    INFO(without.transcript);
    const std::string usual = usual_miss_line(env, s, "nosuch-cmd");
    // The init did load in the first run: its shims exist. No catalogs are
    // configured, so no marker: the handler decides from builtins alone.
    CHECK(path_exists(env.shims_dir() + "/tool"));
    CHECK_FALSE(path_exists(env.shims_dir() + "/.catalogs"));
    if (s == Shell::fish) {
        // fish prints its message on its own stderr, whatever the redirection
        // (and gives up the pipeline at its first command).
        CHECK(without.out.rfind("st=127\npiped=127", 0) == 0);
    } else {
        CHECK(without.out == "st=127\n" + usual + "\npiped=127 0\n");
    }
    CHECK(contains(without.err, usual + "\n"));
    CHECK(with.status == without.status);
    CHECK(with.out == without.out);
    CHECK(normalized_stderr(with.err) == normalized_stderr(without.err));
}

// 2b. The same in a non-interactive shell hooked with FOD_HOOK_NONINTERACTIVE=1:
// a script on stdin and a -c string.
void unmapped_name_noninteractive(Shell s, Engine e) {
    if (!require_shell(s)) return;
    ShellEnv env(e);
    std::string load =
        s == Shell::fish ? "if set -q FOD_TEST_FOD; $FOD_TEST_FOD init fish | source; end\n"
                         : "if [ -n \"${FOD_TEST_FOD-}\" ]; then eval \"$(\"$FOD_TEST_FOD\" init " +
                               shell_name(s) + ")\"; fi\n";
    std::string script = load + "nosuch-cmd arg1\necho \"st=" + status_var(s) + "\"\n";
    const std::map<std::string, std::string> hook{{"FOD_TEST_FOD", fod_binary()},
                                                  {"FOD_HOOK_NONINTERACTIVE", "1"}};
    SECTION("script on stdin") {
        ShellResult with = run_shell(env, s, script, {.interactive = false, .env_set = hook});
        INFO(with.transcript);
        ShellResult without = run_shell(env, s, script, {.interactive = false});
        INFO(without.transcript);
        CHECK(path_exists(env.shims_dir() + "/tool"));
        CHECK(without.out == "st=127\n");
        CHECK(contains(without.err, "nosuch-cmd"));
        CHECK(with.out == without.out);
        CHECK(with.err == without.err);
    }
    SECTION("-c") {
        ShellResult with = run_shell(
            env, s, "", {.interactive = false, .command_string = script, .env_set = hook});
        INFO(with.transcript);
        ShellResult without =
            run_shell(env, s, "", {.interactive = false, .command_string = script});
        INFO(without.transcript);
        CHECK(path_exists(env.shims_dir() + "/tool"));
        CHECK(without.out == "st=127\n");
        CHECK(contains(without.err, "nosuch-cmd"));
        CHECK(with.out == without.out);
        CHECK(with.err == without.err);
    }
}

// 2c. With catalogs configured, the handler asks `fod _catalog`: a hit runs
// the catalog's image (then its shim serves the name), a command's own 127 is
// not a miss, and a miss goes to the previous handler exactly as before.
void catalog_through_handler(Shell s, Engine e) {
    if (!require_shell(s)) return;
    if (!require_registry()) return;
    ShellEnv env(e);
    TestRegistry registry;
    registry.push(scratch_image, "cat/tool-cat:latest");
    env.write_config("config.yaml", "confirm: never\ninsecure_registries: [\"" + registry.host() +
                                        "\"]\ncatalogs: [\"" + registry.host() + "/cat\"]\n");
    std::string script = previous_handler(s) + init_line(s, fod_binary()) + "\n" +
                         "tool-cat echo via catalog </dev/null\necho \"st=" + status_var(s) +
                         "\"\n" + "tool-cat exit 127 </dev/null\necho \"own=" + status_var(s) +
                         "\"\n" + "nosuch-cat a\necho \"miss=" + status_var(s) + "\"\n";
    ShellResult r = run_shell(env, s, script);
    INFO(r.transcript);
    const std::string all = r.out + r.err;
    CHECK(path_exists(env.shims_dir() + "/.catalogs"));
    CHECK(path_exists(env.shims_dir() + "/tool-cat"));
    CHECK(contains(all, "via catalog\n"));
    // fish reports 127 for anything its handler did.
    if (s != Shell::fish) CHECK(contains(r.out, "via catalog\nst=0\n"));
    CHECK(contains(r.out, "own=127\n"));
    CHECK(contains(r.out, "miss=127\n"));
    CHECK(count_of(all, "previous: nosuch-cat") == 1);
    CHECK(count_of(all, "previous:") == 1);
    // The image is the test's; the name it got here goes with the registry.
    Result rm = run({engine_cli(e), "rmi", registry.host() + "/cat/tool-cat:latest"},
                    engine_options(e, {.timeout_s = 60}));
    (void)rm;
}

// 3. A handler defined before the init runs for an unmapped name, exactly
// once, whether the init was loaded once or twice.
void chains_to_previous_handler(Shell s, Engine e) {
    if (!require_shell(s)) return;
    ShellEnv env(e);
    std::vector<std::pair<int, bool>> variants{{1, false}, {2, false}};
    if (s == Shell::fish) variants.emplace_back(2, true);
    for (auto [loads, fish_event] : variants) {
        INFO("init loaded " << loads << " time(s)"
                            << (fish_event ? ", previous one an event handler" : ""));
        std::string script = previous_handler(s, fish_event);
        for (int i = 0; i < loads; ++i) script += init_line(s, fod_binary()) + "\n";
        script += "nosuch-cmd a b\necho \"st=" + status_var(s) + "\"\n";
        script += "tool echo mapped </dev/null\n";
        ShellResult r = run_shell(env, s, script);
        INFO(r.transcript);
        const std::string all = r.out + r.err;
        CHECK(count_of(all, "previous: nosuch-cmd") == 1);
        CHECK(count_of(all, "previous:") == 1);
        CHECK(contains(r.out, "st=127\n"));
        CHECK(contains(r.out, "mapped\n"));
        CHECK_FALSE(contains(all, "command not found"));
        CHECK_FALSE(contains(all, "Unknown command"));
        if (s != Shell::fish) CHECK(r.out == "previous: nosuch-cmd\nst=127\nmapped\n");
    }
}

// 4. A mapped command whose own status is 127 returns 127 and does not run
// the previous handler (through the shim, and in bash and zsh through the
// handler alone).
void mapped_127_is_not_chained(Shell s, Engine e) {
    if (!require_shell(s)) return;
    ShellEnv env(e);
    std::vector<bool> modes{false};
    if (s != Shell::fish) modes.push_back(true);
    for (bool via_handler : modes) {
        INFO((via_handler ? "through the handler" : "through the shim"));
        std::string script = previous_handler(s);
        if (via_handler) script += save_path();
        script += init_line(s, fod_binary()) + "\n";
        if (via_handler) script += restore_path();
        script += "tool exit 127 </dev/null; echo \"st=" + status_var(s) + "\"\n";
        script += "echo end\n";
        ShellResult r = run_shell(env, s, script);
        INFO(r.transcript);
        CHECK(r.out == "st=127\nend\n");
        CHECK_FALSE(contains(r.out + r.err, "previous:"));
        CHECK_FALSE(contains(r.err, "command not found"));
        CHECK_FALSE(contains(r.err, "Unknown command"));
    }
}

// 5. A non-interactive shell is not hooked unless FOD_HOOK_NONINTERACTIVE is
// set: PATH, the handler and the prompt hooks stay as they were.
void noninteractive_not_hooked(Shell s, Engine e) {
    if (!require_shell(s)) return;
    ShellEnv env(e);
    std::string script;
    switch (s) {
    case Shell::bash:
        script = "before=$PATH\n" + init_line(s, fod_binary()) + "\n" +
                 "[ \"$PATH\" = \"$before\" ] && echo path-unchanged\n"
                 "declare -F command_not_found_handle >/dev/null || echo no-handler\n"
                 "[ -z \"${PROMPT_COMMAND-}\" ] && echo no-prompt-hook\n";
        break;
    case Shell::zsh:
        script = "before=$PATH\n" + init_line(s, fod_binary()) + "\n" +
                 "[ \"$PATH\" = \"$before\" ] && echo path-unchanged\n"
                 "(( ${+functions[command_not_found_handler]} )) || echo no-handler\n"
                 "(( ${#precmd_functions} == 0 )) && echo no-prompt-hook\n";
        break;
    case Shell::fish:
        script =
            "set before $PATH\n" + init_line(s, fod_binary()) + "\n" +
            "test (string join : $PATH) = (string join : $before); and echo path-unchanged\n"
            "functions fish_command_not_found | string match -q '*__fod*'; or echo no-handler\n"
            "functions -q __fod_prompt; or echo no-prompt-hook\n";
        break;
    }
    script += "tool echo RAN </dev/null; echo \"st=" + status_var(s) + "\"\n";

    SECTION("not hooked by default (script on stdin, and -c)") {
        for (bool as_c : {false, true}) {
            INFO((as_c ? "-c" : "script on stdin"));
            ShellResult r =
                as_c ? run_shell(env, s, "",
                                 {.interactive = false,
                                  .command_string = script,
                                  .env_unset = {"FOD_HOOK_NONINTERACTIVE"}})
                     : run_shell(env, s, script,
                                 {.interactive = false, .env_unset = {"FOD_HOOK_NONINTERACTIVE"}});
            INFO(r.transcript);
            CHECK(r.out == "path-unchanged\nno-handler\nno-prompt-hook\nst=127\n");
            CHECK_FALSE(has_line(r.out + r.err, "RAN"));
            CHECK(contains(r.err, "tool"));
            CHECK_FALSE(path_exists(env.shims_dir()));
        }
    }
    SECTION("FOD_HOOK_NONINTERACTIVE=1 hooks them") {
        for (bool as_c : {false, true}) {
            INFO((as_c ? "-c" : "script on stdin"));
            const std::map<std::string, std::string> hook{{"FOD_HOOK_NONINTERACTIVE", "1"}};
            ShellResult r =
                as_c ? run_shell(env, s, "",
                                 {.interactive = false, .command_string = script, .env_set = hook})
                     : run_shell(env, s, script, {.interactive = false, .env_set = hook});
            INFO(r.transcript);
            // bash and zsh hooked non-interactively get the shims on PATH only: no
            // handler and no prompt hook, so unmapped names keep the shell's own
            // handling (its messages carry line numbers there).
            CHECK(r.out ==
                  (s == Shell::fish ? "RAN\nst=0\n" : "no-handler\nno-prompt-hook\nRAN\nst=0\n"));
            CHECK(path_exists(env.shims_dir() + "/tool"));
        }
    }
}

// 6. At the next prompt, a mapping added to mappings.yaml has its command,
// and a removed one is gone (shim removed, the shell's usual message).
void mapping_changes_show_at_next_prompt(Shell s, Engine e) {
    if (!require_shell(s) || !require_tmux()) return;
    ShellEnv env(e);
    write_tool_mappings(env, {"tool"});
    const std::string usual = usual_miss_line(env, s, "tool2");
    TmuxPane t = shell_pane(env, s);
    init(t, s);
    const std::string st = status_var(s);
    const std::string shim = env.shims_dir() + "/tool2";
    REQUIRE(path_exists(env.shims_dir() + "/tool"));
    REQUIRE_FALSE(path_exists(shim));

    // Not mapped yet.
    CHECK_ON_SCREEN(t, t.run_line("tool2 echo EAR''LY; echo \"st1=" + st + "\""));
    CHECK_ON_SCREEN(t, has_line(t.screen(), "st1=127"));
    CHECK_ON_SCREEN(t, contains(t.screen(), usual));
    CHECK_ON_SCREEN(t, !has_line(t.screen(), "EARLY"));

    // Added: the shim is there at the next prompt, before anything runs it.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write_tool_mappings(env, {"tool", "tool2"});
    t.type("");
    CHECK_ON_SCREEN(t, poll_until([&] { return path_exists(shim); }, 15));
    CHECK_ON_SCREEN(t, t.run_line("tool2 echo AD''DED; echo \"st2=" + st + "\""));
    CHECK_ON_SCREEN(t, has_line(t.screen(), "ADDED"));
    CHECK_ON_SCREEN(t, has_line(t.screen(), "st2=0"));

    // Removed: the shim goes at the next prompt, the name is unknown again.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write_tool_mappings(env, {"tool"});
    t.type("");
    CHECK_ON_SCREEN(t, poll_until([&] { return !path_exists(shim); }, 15));
    CHECK(path_exists(env.shims_dir() + "/tool"));
    CHECK_ON_SCREEN(t, t.run_line("tool2 echo GO''NE; echo \"st3=" + st + "\""));
    const std::string screen = t.screen();
    INFO("tmux screen:\n" << screen);
    CHECK(has_line(screen, "st3=127"));
    CHECK_FALSE(has_line(screen, "GONE"));
    CHECK(count_of(screen, usual) == 2);
}

// 7. fod removed after the init: the shell goes on, a missing command (a
// mapped one included) gives the shell's usual message.
void fod_removed_after_init(Shell s, Engine e) {
    if (!require_shell(s)) return;
    ShellEnv env(e);
    TempDir prefix;
    // fod finds its helper programs in <prefix>/libexec/fod, or beside it in
    // a build tree.
    const fs::path bin = fs::path(fod_binary()).parent_path();
    fs::create_directories(prefix.path() + "/bin");
    fs::create_directories(prefix.path() + "/libexec/fod");
    fs::copy_file(fod_binary(), prefix.path() + "/bin/fod");
    // fod-run is there when fod is the musl front (hook/fod/front.c).
    for (const char* helper : {"fod-run", "fod-commands", "fod-keeper", "fod-registry"}) {
        fs::path from = bin.parent_path() / "libexec/fod" / helper;
        if (!fs::exists(from)) from = bin / helper;
        if (std::string(helper) == "fod-run" && !fs::exists(from)) continue;
        fs::copy_file(from, prefix.path() + "/libexec/fod/" + helper);
    }
    const std::string fod = prefix.path() + "/bin/fod";
    const std::string st = status_var(s);
    std::string script = init_line(s, fod) + "\n";
    script += "tool echo before </dev/null; echo \"st1=" + st + "\"\n";
    script += "rm " + sq(fod) + "\n";
    script += "nosuch-cmd; echo \"st2=" + st + "\"\n";
    script += "tool echo after </dev/null; echo \"st3=" + st + "\"\n";
    script += "bbsh -c 'echo after' </dev/null; echo \"st4=" + st + "\"\n";
    script += "echo still-working\n";
    ShellResult r = run_shell(env, s, script);
    INFO(r.transcript);
    CHECK_FALSE(path_exists(fod));
    CHECK(r.status == 0);
    CHECK(r.out == "before\nst1=0\nst2=127\nst3=127\nst4=127\nstill-working\n");
    CHECK(contains(r.err, usual_miss_line(env, s, "nosuch-cmd") + "\n"));
    // tool ran before (bash has it hashed), bbsh did not.
    CHECK(contains(r.err, usual_miss_line(env, s, "tool") + "\n"));
    CHECK(contains(r.err, usual_miss_line(env, s, "bbsh") + "\n"));
    CHECK_FALSE(contains(r.err, "No such file"));
    CHECK_FALSE(has_line(r.out + r.err, "after"));
}

// 8. bash: nothing runs during completion: the handler called with COMP_LINE
// set for a mapped name starts no fod run and gives bash's own message.
void bash_completion_runs_nothing(Engine e) {
    if (!require_shell(Shell::bash)) return;
    ShellEnv env(e);
    std::string script = init_line(Shell::bash, fod_binary()) + "\n";
    script += "COMP_LINE='tool ec' command_not_found_handle tool echo SHOULD-NOT-RUN </dev/null; "
              "echo \"st=$?\"\n";
    ShellResult r = run_shell(env, Shell::bash, script);
    INFO(r.transcript);
    CHECK(r.out == "st=127\n");
    CHECK_FALSE(contains(r.out + r.err, "SHOULD-NOT-RUN"));
    CHECK(contains(r.err, "bash: tool: command not found\n"));
    // No container was started for it.
    Result ps = env.fod({"ps"});
    INFO("fod ps: " << ps.out << ps.err);
    CHECK_FALSE(contains(ps.out, scratch_image));
    CHECK_FALSE(path_exists(env.root() + "/run/fod/c"));
}

// 9. At a terminal: a mapped command's output, and it has the terminal.
void terminal_output(Shell s, Engine e) {
    if (!require_shell(s) || !require_tmux()) return;
    ShellEnv env(e);
    TmuxPane t = shell_pane(env, s);
    init(t, s);
    CHECK_ON_SCREEN(t, t.run_line("tool echo HEL''LO-TERM; tool tty"));
    const std::string screen = t.screen();
    INFO("tmux screen:\n" << screen);
    CHECK(has_line(screen, "HELLO-TERM"));
    CHECK(has_line(screen, "tty"));
}

// 10. At a terminal: a program that reads the keyboard gets the typed line;
// `tool cat` gets a line and then end of file from Ctrl-D.
void terminal_keyboard_input(Shell s, Engine e) {
    if (!require_shell(s) || !require_tmux()) return;
    ShellEnv env(e);
    TmuxPane t = shell_pane(env, s);
    init(t, s);
    t.type("bbsh -c 'printf \"na\"\"me? \"; read x; echo \"got [$x]\"'; echo DO''NE-read");
    {
        INFO("tmux screen:\n" << t.screen());
        REQUIRE(poll_until([&] { return has_line(t.screen(), "name?"); }, 30));
    }
    t.type("typed words");
    CHECK_ON_SCREEN(t, t.wait_for_line("DONE-read"));
    CHECK_ON_SCREEN(t, has_line(t.screen(), "got [typed words]"));

    const int before = t.prompts();
    t.type("tool cat");
    CHECK_ON_SCREEN(t, poll_until(
                           [&] {
                               return !find_processes({"/tool", "cat"}, env.work()).empty();
                           },
                           30));
    t.type("a line for cat");
    // Echoed by the terminal, then copied by cat.
    CHECK_ON_SCREEN(
        t, poll_until([&] { return count_of(t.screen(), "\na line for cat\n") >= 2; }, 15));
    t.key("C-d");
    CHECK_ON_SCREEN(t, poll_until([&] { return t.prompts() > before; }, 15));
    CHECK_ON_SCREEN(t, t.run_line("echo \"cat-st=" + status_var(s) + "\""));
    const std::string screen = t.screen();
    INFO("tmux screen:\n" << screen);
    CHECK(has_line(screen, "cat-st=0"));
    CHECK(count_of(screen, "\na line for cat\n") == 2);
}

// 11. At a terminal: Ctrl-C stops a long-running command quickly, the prompt
// comes back and the status is 130.
void terminal_ctrl_c(Shell s, Engine e) {
    if (!require_shell(s) || !require_tmux()) return;
    ShellEnv env(e);
    TmuxPane t = shell_pane(env, s);
    init(t, s);
    // A duration that no other test uses, to find this process.
    const std::string secs = "60." + std::to_string(getpid()) + std::to_string(next_id());
    const int before = t.prompts();
    t.type("tool sleep " + secs);
    {
        INFO("tmux screen:\n" << t.screen());
        // Running, and past installing its handler (else Ctrl-C kills it silently).
        REQUIRE(wait_until_catching({"/tool", "sleep", secs}, env.work(), SIGINT, 30));
    }
    const auto t0 = Clock::now();
    t.key("C-c");
    const bool back = poll_until([&] { return t.prompts() > before; }, 30);
    const double took = seconds_since(t0);
    CHECK_ON_SCREEN(t, back);
    CHECK_ON_SCREEN(t, took < 5);
    CHECK_ON_SCREEN(t, t.run_line("echo \"st=" + status_var(s) + "\""));
    const std::string screen = t.screen();
    INFO("tmux screen:\n" << screen << "\nprompt back after " << took << " s");
    CHECK(has_line(screen, "st=130"));
    CHECK(contains(screen, "tool: got signal 2"));
    CHECK_ON_SCREEN(t, poll_until(
                           [&] {
                               return find_processes({"/tool", "sleep", secs}, env.work()).empty();
                           },
                           10));
    CHECK(env.trace() == std::vector<std::string>{"agent"});
}

// 12. At a terminal: the window size, after a resize, and a resize made while
// the command runs.
void terminal_window_size(Shell s, Engine e) {
    if (!require_shell(s) || !require_tmux()) return;
    ShellEnv env(e);
    TmuxPane t = shell_pane(env, s);
    init(t, s);
    REQUIRE(t.pane_size() == "30 100");
    CHECK_ON_SCREEN(t, t.run_line("stty size; tool winsize"));
    {
        const std::string screen = t.screen();
        INFO("tmux screen:\n" << screen);
        CHECK(count_of(screen, "\n30 100\n") == 2);
    }

    t.resize(80, 20);
    REQUIRE(t.pane_size() == "20 80");
    CHECK_ON_SCREEN(t, t.run_line("stty size; tool winsize"));
    {
        const std::string screen = t.screen();
        INFO("tmux screen:\n" << screen);
        CHECK(count_of(screen, "\n20 80\n") == 2);
    }

    t.type("bbsh -c 'echo STA\"\"RTED; sleep 2; stty size'; echo DO''NE-live");
    {
        INFO("tmux screen:\n" << t.screen());
        REQUIRE(t.wait_for_line("STARTED"));
    }
    t.resize(90, 25);
    REQUIRE(t.pane_size() == "25 90");
    CHECK_ON_SCREEN(t, t.wait_for_line("DONE-live"));
    const std::string screen = t.screen();
    INFO("tmux screen:\n" << screen);
    CHECK(has_line(screen, "25 90"));
    CHECK(env.trace() == std::vector<std::string>(3, "agent"));
}

// 13. At a terminal, through the agent: Ctrl-Z stops the command and the shell
// shows the job stopped with its prompt back; `fg` continues it, and Ctrl-C
// then ends it with 130. Piped into cat, the command has no terminal of its
// own: fod passes the stop and the continue on.
void terminal_ctrl_z_and_fg(Shell s, Engine e, bool piped) {
    if (!require_shell(s) || !require_tmux()) return;
    ShellEnv env(e);
    TmuxPane t = shell_pane(env, s);
    init(t, s);
    const std::string secs = "62." + std::to_string(getpid()) + std::to_string(next_id());
    const int before = t.prompts();
    t.type("tool sleep " + secs + (piped ? " | cat" : ""));
    std::vector<pid_t> pids;
    {
        INFO("tmux screen:\n" << t.screen());
        REQUIRE(poll_until(
            [&] {
                return !(pids = find_processes({"/tool", "sleep", secs}, env.work())).empty();
            },
            30));
    }
    t.key("C-z");
    CHECK_ON_SCREEN(t, poll_until([&] { return t.prompts() > before; }, 15));
    CHECK_ON_SCREEN(t, contains(t.screen(), s == Shell::zsh ? "suspended" : "Stopped"));
    CHECK_ON_SCREEN(t, poll_until([&] { return process_state(pids[0]) == 'T'; }, 10));
    CHECK_ON_SCREEN(t, t.run_line("jobs"));
    CHECK_ON_SCREEN(t, contains(t.screen(), "tool sleep " + secs));

    const int stopped = t.prompts();
    t.type("fg");
    CHECK_ON_SCREEN(t, poll_until([&] { return process_state(pids[0]) == 'S'; }, 10));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK_ON_SCREEN(t, t.prompts() == stopped);  // in the foreground again
    t.key("C-c");
    CHECK_ON_SCREEN(t, poll_until([&] { return t.prompts() > stopped; }, 15));
    CHECK_ON_SCREEN(t, t.run_line("echo \"st=" + status_var(s) + "\""));
    const std::string screen = t.screen();
    INFO("tmux screen:\n" << screen);
    CHECK(has_line(screen, "st=130"));
    CHECK(contains(screen, "tool: got signal 2"));
    CHECK(poll_until([&] { return process_state(pids[0]) == '?'; }, 10));
    CHECK(env.trace() == std::vector<std::string>{"agent"});
}

void terminal_ctrl_z_own_tty(Shell s, Engine e) { terminal_ctrl_z_and_fg(s, e, false); }
void terminal_ctrl_z_piped(Shell s, Engine e) { terminal_ctrl_z_and_fg(s, e, true); }

// 14. At a terminal, through the agent: the command has a terminal of its own
// that /dev/tty opens, and its keyboard input comes through it.
void terminal_dev_tty(Shell s, Engine e) {
    if (!require_shell(s) || !require_tmux()) return;
    ShellEnv env(e);
    TmuxPane t = shell_pane(env, s);
    init(t, s);
    CHECK_ON_SCREEN(t, t.run_line("bbsh -c 'echo TO-DEV''-TTY >/dev/tty && tty'; echo \"st=" +
                                  status_var(s) + "\""));
    t.type("bbsh -c 'printf \"as\"\"k? \" >/dev/tty; read x </dev/tty; echo \"tty-got [$x]\"'");
    CHECK_ON_SCREEN(t, poll_until([&] { return contains(t.screen(), "ask?"); }, 30));
    t.type("secret words");
    CHECK_ON_SCREEN(t, t.wait_for_line("tty-got [secret words]"));
    const std::string screen = t.screen();
    INFO("tmux screen:\n" << screen);
    CHECK(has_line(screen, "TO-DEV-TTY"));
    CHECK(has_line(screen, "st=0"));
    bool pts = false;
    for (const auto& l : lines_of(screen)) pts = pts || rtrim(l).rfind("/dev/pts/", 0) == 0;
    CHECK(pts);
    CHECK(env.trace() == std::vector<std::string>(2, "agent"));
}

// 8. Files beyond the current directory: from a project's subdirectory, ../ is
// the project's; a file outside it named as an argument, and a new file there,
// reach the tool as if it were installed (README, "Mounts").
void project_paths(Shell s, Engine e) {
    if (!require_shell(s)) return;
    ShellEnv env(e);
    env.make_work_dir("proj");
    env.make_work_dir("proj/.git");
    env.make_work_dir("proj/sub");
    env.write_work("proj/top.txt", "top\n");
    env.make_work_dir("outside");
    env.write_work("outside/file.txt", "outside\n");
    std::string script = init_line(s, fod_binary()) + "\n";
    script += "cd proj/sub\n";
    script += "bbsh -c 'cat ../top.txt'\n";
    script += "bbsh -c 'cat \"$1\"' x ../../outside/file.txt\n";
    script += "bbsh -c 'echo made >\"$1\"' x ../../outside/new.txt\n";
    script += "cd ..\n";
    script += "bbsh -c 'cat top.txt'\n";
    script += "echo end\n";
    ShellResult r = run_shell(env, s, script);
    INFO(r.transcript);
    CHECK(r.status == 0);
    CHECK(r.out == "top\noutside\ntop\nend\n");
    CHECK(read_file(env.work() + "/outside/new.txt") == "made\n");
    env.stop_all_checked();
}

}  // namespace

// One TEST_CASE per shell and engine. FOD_REQUIRE_ENGINE runs outside any SECTION.
#define FOD_SHELL_CASE_TAGGED(tags, shell, title, body, ...)                                       \
    TEST_CASE(shell ": " title " (podman)", "[integration][shell]" tags "[" shell "][podman]") {   \
        FOD_REQUIRE_ENGINE(Engine::podman);                                                        \
        body(__VA_ARGS__ __VA_OPT__(, ) Engine::podman);                                           \
    }                                                                                              \
    TEST_CASE(shell ": " title " (docker)", "[integration][shell]" tags "[" shell "][docker]") {   \
        FOD_REQUIRE_ENGINE(Engine::docker);                                                        \
        body(__VA_ARGS__ __VA_OPT__(, ) Engine::docker);                                           \
    }
#define FOD_SHELL_CASE(shell, title, body, ...)                                                    \
    FOD_SHELL_CASE_TAGGED("", shell, title, body, __VA_ARGS__)
// The same, tagged [agent]: terminal behaviour of the fast path.
#define FOD_AGENT_SHELL_CASE(shell, title, body, ...)                                              \
    FOD_SHELL_CASE_TAGGED("[agent]", shell, title, body, __VA_ARGS__)
#define FOD_ALL_SHELLS(title, body)                                                                \
    FOD_SHELL_CASE("bash", title, body, Shell::bash)                                               \
    FOD_SHELL_CASE("zsh", title, body, Shell::zsh)                                                 \
    FOD_SHELL_CASE("fish", title, body, Shell::fish)

namespace {
void via_shim(Shell s, Engine e) { mapped_command_runs(s, e, false); }
void via_handler(Shell s, Engine e) { mapped_command_runs(s, e, true); }
}  // namespace

FOD_ALL_SHELLS("a mapped command runs through its shim: output, status, pipes", via_shim)
FOD_SHELL_CASE("bash", "a mapped command runs through the handler alone: output, status, pipes",
               via_handler, Shell::bash)
FOD_SHELL_CASE("zsh", "a mapped command runs through the handler alone: output, status, pipes",
               via_handler, Shell::zsh)
FOD_ALL_SHELLS("an unmapped name gives the shell's own message and 127",
               unmapped_name_gives_shells_message)
FOD_ALL_SHELLS("an unmapped name gives the shell's own message when hooked non-interactively",
               unmapped_name_noninteractive)
FOD_ALL_SHELLS("with catalogs a hit runs through the handler, a miss chains as before",
               catalog_through_handler)
FOD_ALL_SHELLS("the previous handler runs once for an unmapped name, init loaded once or twice",
               chains_to_previous_handler)
FOD_ALL_SHELLS("a mapped command's own 127 is returned without the previous handler",
               mapped_127_is_not_chained)
FOD_ALL_SHELLS("a non-interactive shell is hooked only with FOD_HOOK_NONINTERACTIVE",
               noninteractive_not_hooked)
FOD_ALL_SHELLS("mappings added or removed take effect at the next prompt",
               mapping_changes_show_at_next_prompt)
FOD_ALL_SHELLS("with fod removed after the init the shell goes on with its own messages",
               fod_removed_after_init)
FOD_SHELL_CASE("bash", "the handler runs nothing during completion", bash_completion_runs_nothing)
FOD_ALL_SHELLS("terminal: a mapped command prints to the terminal and has it", terminal_output)
FOD_ALL_SHELLS("terminal: a mapped command reads the keyboard", terminal_keyboard_input)
FOD_ALL_SHELLS("terminal: Ctrl-C stops a long command quickly with status 130", terminal_ctrl_c)
FOD_ALL_SHELLS("terminal: the command sees the window size and its changes", terminal_window_size)
FOD_AGENT_SHELL_CASE("bash", "terminal: a program opening /dev/tty gets the command's terminal",
                     terminal_dev_tty, Shell::bash)
FOD_AGENT_SHELL_CASE("zsh", "terminal: a program opening /dev/tty gets the command's terminal",
                     terminal_dev_tty, Shell::zsh)
FOD_AGENT_SHELL_CASE("fish", "terminal: a program opening /dev/tty gets the command's terminal",
                     terminal_dev_tty, Shell::fish)
FOD_AGENT_SHELL_CASE("bash", "terminal: Ctrl-Z stops the command, fg continues it",
                     terminal_ctrl_z_own_tty, Shell::bash)
FOD_AGENT_SHELL_CASE("zsh", "terminal: Ctrl-Z stops the command, fg continues it",
                     terminal_ctrl_z_own_tty, Shell::zsh)
FOD_AGENT_SHELL_CASE("bash", "terminal: Ctrl-Z stops a piped command, fg continues it",
                     terminal_ctrl_z_piped, Shell::bash)
FOD_AGENT_SHELL_CASE("zsh", "terminal: Ctrl-Z stops a piped command, fg continues it",
                     terminal_ctrl_z_piped, Shell::zsh)
FOD_ALL_SHELLS("paths: ../ in a project and files named outside it reach the tool", project_paths)
