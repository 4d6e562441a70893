// See tmux_pane.hpp.
#include "tmux_pane.hpp"

#include "files.hpp"
#include "poll.hpp"
#include "text.hpp"

#include <catch2/catch.hpp>

#include <atomic>

namespace fod::test {

TmuxPane::TmuxPane(const std::string& dir, const std::vector<std::string>& program,
                   PaneOptions options)
    : m_options(std::move(options)) {
    static std::atomic<int> count{0};
    const std::string id = std::to_string(++count);
    m_socket = dir + "/tmux-" + id + ".sock";
    const std::string conf = dir + "/tmux-" + id + ".conf";
    const std::string size = std::to_string(m_options.cols) + "x" + std::to_string(m_options.rows);
    write_file(conf, "set -g status off\nset -g history-limit 10000\nset -g escape-time 0\n"
                     "set -g default-size " +
                         size + "\n");
    std::vector<std::string> argv{"tmux",
                                  "-S",
                                  m_socket,
                                  "-f",
                                  conf,
                                  "new-session",
                                  "-d",
                                  "-x",
                                  std::to_string(m_options.cols),
                                  "-y",
                                  std::to_string(m_options.rows)};
    if (!m_options.cwd.empty()) argv.insert(argv.end(), {"-c", m_options.cwd});
    argv.insert(argv.end(), program.begin(), program.end());
    Result r = run(argv, m_options.run);
    INFO("tmux: " << r.err);
    REQUIRE(r.status == 0);
    m_started = true;
    if (m_options.prompt.empty()) return;
    const bool ready = poll_until([&] { return prompts() >= 1; }, 20);
    if (!ready) {
        const std::string last = screen();
        kill_server();
        INFO("tmux screen:\n" << last);
        REQUIRE(ready);
    }
}

TmuxPane::~TmuxPane() { kill_server(); }

void TmuxPane::type(const std::string& text) const {
    if (!text.empty()) tmux({"send-keys", "-l", text});
    tmux({"send-keys", "Enter"});
}

void TmuxPane::key(const std::string& name) const { tmux({"send-keys", name}); }

std::string TmuxPane::screen() const {
    std::string out;
    for (const auto& l : lines_of(tmux({"capture-pane", "-p", "-J", "-S", "-"}).out))
        out += rtrim(l) + "\n";
    while (out.size() >= 2 && out.compare(out.size() - 2, 2, "\n\n") == 0) out.pop_back();
    return out;
}

bool TmuxPane::has(const std::string& text) const { return contains(screen(), text); }

bool TmuxPane::wait_for(const std::string& text, double timeout_s) const {
    return poll_until([&] { return has(text); }, timeout_s);
}

bool TmuxPane::wait_for_line(const std::string& line, double timeout_s) const {
    return poll_until(
        [&] {
            const std::string s = screen();
            return m_options.indented_lines ? has_trimmed_line(s, line) : has_line(s, line);
        },
        timeout_s);
}

bool TmuxPane::run_line(const std::string& command, double timeout_s) {
    const std::string n = std::to_string(++m_markers);
    type(command + "; echo DO''NE-" + n);
    return wait_for_line("DONE-" + n, timeout_s);
}

int TmuxPane::prompts() const {
    const std::string start = rtrim(m_options.prompt);
    if (start.empty()) return 0;
    int n = 0;
    for (const auto& l : lines_of(screen()))
        if (starts_with(l, start)) ++n;
    return n;
}

void TmuxPane::resize(int cols, int rows) const {
    Result r = tmux({"resize-window", "-x", std::to_string(cols), "-y", std::to_string(rows)});
    INFO(r.err);
    REQUIRE(r.status == 0);
}

std::string TmuxPane::pane_size() const {
    return rtrim(tmux({"display-message", "-p", "#{pane_height} #{pane_width}"}).out);
}

Result TmuxPane::tmux(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"tmux", "-S", m_socket};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {.as_user = m_options.run.as_user, .timeout_s = 20});
}

void TmuxPane::kill_server() {
    if (m_started) tmux({"kill-server"});
    m_started = false;
}

}  // namespace fod::test
