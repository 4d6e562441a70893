// A program at a terminal: a detached tmux session of its own, whose pane the
// test types into and reads.
//
//     TmuxPane pane(env.root(), {"bash", "--norc", "-i"},
//                   {.cwd = env.work(), .run = env.options(), .prompt = "PROMPT> "});
//     CHECK(pane.run_line("echo hi"));
//     CHECK(has_line(pane.screen(), "hi"));
#pragma once

#include "harness.hpp"

#include <string>
#include <vector>

namespace fod::test {

// Options of a TmuxPane. Every member has a default member initializer, so
// designated initializers compile cleanly with -Wextra -Werror.
struct PaneOptions {
    int cols = 100;
    int rows = 30;
    std::string cwd{};  // the program's directory; empty: the tmux server's
    // How the tmux server starts (environment, timeout); with as_user the
    // server, and so the program, and every tmux command run as that user.
    RunOptions run{};
    // Non-empty: the program is a shell with this prompt; the constructor waits
    // (20 s) for the first one, and prompts() counts them.
    std::string prompt{};
    // wait_for_line() and run_line() also take a line with blanks before it
    // (see has_trimmed_line).
    bool indented_lines = false;
};

class TmuxPane {
public:
    // Starts `program` in a new session of `cols` x `rows`, no status line, on
    // a tmux server of its own whose socket and configuration go in `dir`.
    // REQUIREs that tmux starts (and that the prompt shows).
    TmuxPane(const std::string& dir, const std::vector<std::string>& program, PaneOptions options);
    ~TmuxPane();  // kills the tmux server, and so the program
    TmuxPane(const TmuxPane&) = delete;
    TmuxPane& operator=(const TmuxPane&) = delete;

    // Types `text` literally, then Enter.
    void type(const std::string& text) const;
    // Sends one key by tmux's name for it (C-c, C-d, C-z).
    void key(const std::string& name) const;

    // The pane with its history: wrapped lines joined, trailing blanks of each
    // line and blank lines at the end cut.
    std::string screen() const;
    // Whether the screen contains `text`.
    bool has(const std::string& text) const;
    // Polls the screen until it contains `text`; false after timeout_s.
    bool wait_for(const std::string& text, double timeout_s = 60) const;
    // Polls the screen until it has the line (see PaneOptions::indented_lines).
    bool wait_for_line(const std::string& line, double timeout_s = 30) const;
    // Types `command; echo DONE-n` and waits for the line DONE-n.
    bool run_line(const std::string& command, double timeout_s = 30);
    // The number of prompts shown so far: lines that begin with the prompt.
    int prompts() const;

    // Resizes the window, and so the pane, to cols x rows (REQUIREs success).
    void resize(int cols, int rows) const;
    // "ROWS COLS" of the pane as tmux sees it.
    std::string pane_size() const;

private:
    Result tmux(const std::vector<std::string>& args) const;
    void kill_server();

    PaneOptions m_options;
    std::string m_socket;
    bool m_started = false;
    int m_markers = 0;
};

}  // namespace fod::test

// CHECK(cond) with the pane's screen as it was just after cond was evaluated.
#define CHECK_ON_SCREEN(pane, ...)                                                                 \
    do {                                                                                           \
        const bool fod_ok_ = static_cast<bool>(__VA_ARGS__);                                       \
        INFO("tmux screen:\n" << (pane).screen());                                                 \
        CHECK(fod_ok_);                                                                            \
    } while (0)
