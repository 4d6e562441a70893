// Files beyond the current directory (README, "Mounts: the project" and "Mounts:
// what the arguments name"): one warm container per project, and the paths a
// run's arguments name outside it mounted at the path as written. Each behaviour
// runs with rootful podman, docker and rootless podman (as fodtest); the shells'
// part is in test_shell.cpp.
#include "fod_env.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace fod::test;

namespace {

// A project (work/proj with .git, top.txt and sub/) and, beside it, work/outside
// with file.txt; `bbx` runs busybox applets (`bbx cat FILE`).
struct ProjectEnv : FodEnv {
    explicit ProjectEnv(Engine e, const std::string& extra = "") : FodEnv(e) {
        make_work_dir("proj");
        make_work_dir("proj/.git");
        make_work_dir("proj/sub");
        write_work("proj/top.txt", "top\n");
        make_work_dir("outside");
        write_work("outside/file.txt", "outside\n");
        write_mappings(entry("bbx", busybox_image, {"/bin/busybox"}, "10m", extra));
    }
    std::string project() const { return work() + "/proj"; }
    std::string sub() const { return work() + "/proj/sub"; }
    std::string outside() const { return work() + "/outside"; }
    // HOME set to home(); rootless podman keeps finding its images in the user's own.
    RunOptions with_home() const {
        RunOptions o{.env_set = {{"HOME", home()}}};
        if (engine() == Engine::rootless) {
            const passwd* pw = getpwnam(test_user);
            REQUIRE(pw != nullptr);
            o.env_set["XDG_DATA_HOME"] = std::string(pw->pw_dir) + "/.local/share";
        }
        return o;
    }
    Result bbx(const std::vector<std::string>& args, const std::string& cwd,
               RunOptions base = {}) const {
        base.cwd = cwd;
        return run_cmd("bbx", args, traced(base));
    }
};

uid_t owner_of(const std::string& path) {
    struct stat st {};
    REQUIRE(lstat(path.c_str(), &st) == 0);
    return st.st_uid;
}

// `cd sub && tool ../top.txt` is a warm hit in the project's one container.
void one_container_per_project(Engine e) {
    ProjectEnv env(e);
    Result top = env.bbx({"cat", "top.txt"}, env.project());
    INFO("stderr: " << top.err);
    CHECK(top.status == 0);
    CHECK(top.out == "top\n");
    const auto names = env.containers();
    CHECK(names.size() == 1);

    env.clear_trace();
    Result from_sub = env.bbx({"cat", "../top.txt"}, env.sub());
    INFO("stderr: " << from_sub.err);
    CHECK(from_sub.status == 0);
    CHECK(from_sub.out == "top\n");
    // Not a path argument: the project root itself makes ../top.txt visible.
    Result script = env.bbx({"sh", "-c", "cat ../top.txt"}, env.sub());
    CHECK(script.out == "top\n");
    Result pwd = env.bbx({"pwd"}, env.sub());
    CHECK(pwd.out == env.sub() + "\n");  // the caller's own working directory
    CHECK(env.trace() == std::vector<std::string>(3, "agent"));
    CHECK(env.containers() == names);  // asked of the engine: still the one
    CHECK(env.recorded_dirs().size() == 1);

    Result ps = env.fod({"ps"});
    INFO("fod ps: " << ps.out << ps.err);
    CHECK(contains(ps.out, " " + env.project() + "\n"));

    // Another project: another container.
    env.make_work_dir("other");
    env.make_work_dir("other/.git");
    env.make_work_dir("other/deep");
    Result other = env.bbx({"pwd"}, env.work() + "/other/deep");
    CHECK(other.out == env.work() + "/other/deep\n");
    CHECK(env.containers().size() == 2);
    env.stop_all_checked();
}

// Files outside the project, relative and absolute, an output file, a directory.
void arguments_outside_are_mounted(Engine e) {
    ProjectEnv env(e);
    Result relative = env.bbx({"cat", "../../outside/file.txt"}, env.sub());
    INFO("stderr: " << relative.err);
    CHECK(relative.status == 0);
    CHECK(relative.out == "outside\n");

    Result absolute = env.bbx({"cat", env.outside() + "/file.txt"}, env.sub());
    INFO("stderr: " << absolute.err);
    CHECK(absolute.out == "outside\n");

    Result listing = env.bbx({"ls", "../outside"}, env.project());
    INFO("stderr: " << listing.err);
    CHECK(listing.status == 0);
    CHECK(listing.out == "file.txt\n");

    // An output file that does not exist yet: made on the host, the caller's.
    const std::string made = env.outside() + "/new.txt";
    Result copy = env.bbx({"cp", "top.txt", "../outside/new.txt"}, env.project());
    INFO("stderr: " << copy.err);
    CHECK(copy.status == 0);
    CHECK(read_file(made) == "top\n");
    CHECK(owner_of(made) == env.uid());

    // The value of --opt=PATH (busybox has no long options: sh takes the value).
    Result option =
        env.bbx({"sh", "-c", "cat \"${1#--file=}\"", "sh", "--file=" + env.outside() + "/file.txt"},
                env.project());
    INFO("stderr: " << option.err);
    CHECK(option.out == "outside\n");
    Result written =
        env.bbx({"sh", "-c", "echo top >\"${1#--out=}\"", "sh", "--out=../outside/sorted.txt"},
                env.project());
    INFO("stderr: " << written.err);
    CHECK(written.status == 0);
    CHECK(read_file(env.outside() + "/sorted.txt") == "top\n");
    env.stop_all_checked();
}

// An editor saves a file named outside the project anew: it writes a new file
// and renames it over the old one. The warm container that holds the old file
// cannot show the new one, so the next run must not be served by it; a write in
// place is seen by the container that holds the file.
void file_saved_anew_is_seen_anew(Engine e) {
    ProjectEnv env(e);
    const std::string file = env.outside() + "/file.txt";
    Result first = env.bbx({"cat", "../outside/file.txt"}, env.project());
    INFO("stderr: " << first.err);
    CHECK(first.status == 0);
    CHECK(first.out == "outside\n");
    CHECK(env.containers().size() == 1);

    env.write_work("outside/file.txt.saving", "saved\n");
    REQUIRE(rename((file + ".saving").c_str(), file.c_str()) == 0);
    env.clear_trace();
    Result saved = env.bbx({"cat", "../outside/file.txt"}, env.project());
    INFO("stderr: " << saved.err);
    CHECK(saved.status == 0);
    CHECK(saved.out == "saved\n");
    auto trace = env.trace();
    REQUIRE(!trace.empty());
    CHECK(trace[0].rfind("start: no warm container of " + std::string(busybox_image), 0) == 0);
    CHECK(env.containers().size() == 2);

    env.write_work("outside/file.txt", "in place\n");  // truncates the same file
    env.clear_trace();
    Result in_place = env.bbx({"cat", file}, env.sub());
    INFO("stderr: " << in_place.err);
    CHECK(in_place.out == "in place\n");
    CHECK(env.trace() == std::vector<std::string>{"agent"});
    CHECK(env.containers().size() == 2);
    env.stop_all_checked();
}

// A file in $HOME as the shell expands ~/notes.txt, and a run that needs a mount
// no warm container has starts one, said in FOD_TRACE; a plain run is then served
// by either.
void home_file_and_reuse(Engine e) {
    ProjectEnv env(e);
    env.put_dir("home");
    const std::string notes = env.put("home/notes.txt", "notes\n");
    const RunOptions with_home = env.with_home();
    Result plain = env.bbx({"true"}, env.project(), with_home);
    CHECK(plain.status == 0);
    CHECK(env.containers().size() == 1);

    env.clear_trace();
    Result cat = env.bbx({"cat", notes}, env.project(), with_home);
    INFO("stderr: " << cat.err);
    CHECK(cat.status == 0);
    CHECK(cat.out == "notes\n");
    auto trace = env.trace();
    REQUIRE(trace.size() == 2);
    CHECK(trace[0].rfind("start: no warm container of " + std::string(busybox_image), 0) == 0);
    CHECK(env.containers().size() == 2);

    // The next run that needs the file again: warm, no third container.
    env.clear_trace();
    Result again = env.bbx({"wc", "-l", notes}, env.sub(), with_home);
    CHECK(again.status == 0);
    CHECK(env.trace() == std::vector<std::string>{"agent"});
    CHECK(env.containers().size() == 2);
    env.stop_all_checked();
}

// A run whose own container is not up is served by a wider warm one of its family,
// and fod remembers that one (<runtime>/served/<family>) to try it first next time;
// a remembered container that does not mount what the run needs is passed over.
// Which container served a run shows in its record: the command's name is added.
void wider_container_is_remembered(Engine e) {
    ProjectEnv env(e);
    env.write_mappings(env.entry("bbx", busybox_image, {"/bin/busybox"}, "10m") +
                       env.entry("bbx-a", busybox_image, {"/bin/busybox"}, "10m") +
                       env.entry("bbx-b", busybox_image, {"/bin/busybox"}, "10m"));
    env.write_work("outside/notes.txt", "notes\n");
    env.write_work("outside/third.txt", "third\n");
    const std::string notes = env.outside() + "/notes.txt";
    const std::string third = env.outside() + "/third.txt";
    auto key_of = [&](const std::string& name) {
        return std::filesystem::path(env.container_dir(name)).filename().string();
    };
    auto record_of = [&](const std::string& name) {
        return read_file(env.container_dir(name) + "/info.json");
    };
    auto started = [&](const std::vector<std::string>& before) {
        for (const auto& name : env.containers())
            if (std::find(before.begin(), before.end(), name) == before.end()) return name;
        FAIL("no container was started");
        return std::string();
    };

    Result wide = env.bbx({"cat", notes, env.outside() + "/file.txt"}, env.project());
    INFO("stderr: " << wide.err);
    CHECK(wide.out == "notes\noutside\n");
    const std::string wide_name = started({});
    const std::string first_line = lines_of(record_of(wide_name)).at(0);
    const std::string hint = env.runtime_dir() + "/served/" +
                             nlohmann::json::parse(first_line).at("family").get<std::string>();

    env.clear_trace();
    Result served = env.bbx({"cat", notes}, env.project());
    CHECK(served.out == "notes\n");
    CHECK(env.trace() == std::vector<std::string>{"agent"});
    CHECK(env.containers() == std::vector<std::string>{wide_name});
    CHECK(read_file(hint) == key_of(wide_name));

    // Another container of the family, without notes.txt, remembered in its place.
    Result third_run = env.bbx({"cat", third}, env.project());
    CHECK(third_run.out == "third\n");
    const std::string third_name = started({wide_name});
    write_file(hint, key_of(third_name));
    env.clear_trace();
    Result again = env.bbx({"cat", notes}, env.project());
    CHECK(again.out == "notes\n");
    CHECK(env.trace() == std::vector<std::string>{"agent"});
    CHECK(env.containers().size() == 2);
    CHECK(read_file(hint) == key_of(wide_name));

    // Two containers that both serve `cat notes.txt`: the remembered one serves it.
    Result both = env.bbx({"cat", notes, third}, env.project());
    CHECK(both.out == "notes\nthird\n");
    const std::string both_name = started({wide_name, third_name});
    for (const auto& [command, chosen, other] :
         {std::tuple{"bbx-a", both_name, wide_name}, std::tuple{"bbx-b", wide_name, both_name}}) {
        write_file(hint, key_of(chosen));
        Result r = env.run_cmd(command, {"cat", notes}, env.traced({.cwd = env.project()}));
        INFO(command << " stderr: " << r.err);
        CHECK(r.out == "notes\n");
        CHECK(contains(record_of(chosen), std::string("\"") + command + "\""));
        CHECK_FALSE(contains(record_of(other), std::string("\"") + command + "\""));
    }
    CHECK(env.containers().size() == 3);
    env.stop_all_checked();
}

// A path with a space, ':', ',' and a newline; a link out of the project; a file
// under /etc, read-only.
void awkward_paths_links_and_system_files(Engine e) {
    ProjectEnv env(e);
    const std::string odd = env.make_work_dir("outside/a b:c,d\ne");
    env.write_work("outside/a b:c,d\ne/f", "odd\n");
    Result awkward = env.bbx({"cat", odd + "/f"}, env.project());
    INFO("stderr: " << awkward.err);
    CHECK(awkward.status == 0);
    CHECK(awkward.out == "odd\n");

    REQUIRE(symlink((env.outside() + "/file.txt").c_str(), (env.project() + "/link").c_str()) == 0);
    Result linked = env.bbx({"cat", "link"}, env.project());
    INFO("stderr: " << linked.err);
    CHECK(linked.status == 0);
    CHECK(linked.out == "outside\n");

    const std::string system_file = "/etc/debian_version";
    REQUIRE(access(system_file.c_str(), R_OK) == 0);
    Result read = env.bbx({"cat", system_file}, env.project());
    INFO("stderr: " << read.err);
    CHECK(read.status == 0);
    CHECK(read.out == read_file(system_file));
    struct stat before {};
    REQUIRE(stat(system_file.c_str(), &before) == 0);
    Result touch = env.bbx({"touch", system_file}, env.project());
    CHECK(touch.status != 0);
    CHECK(contains(touch.err, "Read-only file system"));
    struct stat after {};
    REQUIRE(stat(system_file.c_str(), &after) == 0);
    CHECK(after.st_mtime == before.st_mtime);
    // A directory there is the image's own.
    Result dir = env.bbx({"ls", "/etc/apt"}, env.project());
    CHECK(dir.status != 0);

    Result which = env.fod({"which", "bbx", "cat", system_file, "/etc/apt", "../outside/x"},
                           {.cwd = env.project()});
    INFO("fod which: " << which.out << which.err);
    CHECK(which.status == 0);
    CHECK(contains(which.out, "  root:        " + env.project() + " (the project)\n"));
    CHECK(contains(which.out, "  mounts:      " + system_file + ", read-only\n"));
    CHECK(contains(which.out, "  not mounted: /etc/apt (a system directory, the image's own is "
                              "used)\n"));
    CHECK(contains(which.out, "  mounts:      " + env.outside() + " (for " + env.outside() +
                                  "/x: its directory, for a new file)\n"));
    env.stop_all_checked();
}

// Attack: a hostile tool plants, in the project it may write, a link into a
// dot-file of $HOME; a later run that names the link must not lend it the file.
void planted_link_into_home_is_not_followed(Engine e) {
    ProjectEnv env(e);
    env.put_dir("home/.ssh", 0700);
    const std::string key = env.put("home/.ssh/id_test", "SECRET\n", 0600);
    const RunOptions with_home = env.with_home();
    // The key is not an argument of this run (naming it would lend it): sh's script.
    Result plant = env.bbx({"sh", "-c", "ln -s " + key + " notes.txt"}, env.project(), with_home);
    INFO("stderr: " << plant.err);
    REQUIRE(plant.status == 0);
    Result cat = env.bbx({"cat", "notes.txt"}, env.project(), with_home);
    CHECK(cat.status == 1);
    CHECK_FALSE(contains(cat.out, "SECRET"));
    RunOptions which_options = with_home;
    which_options.cwd = env.project();
    Result which = env.fod({"which", "bbx", "cat", "notes.txt"}, which_options);
    CHECK(contains(which.out, "not mounted: " + env.project() +
                                  "/notes.txt (a link into a "
                                  "dot-file of $HOME; name the "
                                  "file itself)\n"));
    // A link out to a directory is not followed either (it could lead to sockets).
    Result plant_dir =
        env.bbx({"sh", "-c", "ln -s " + env.outside() + " out"}, env.project(), with_home);
    REQUIRE(plant_dir.status == 0);
    Result ls = env.bbx({"ls", "out/"}, env.project(), with_home);
    CHECK(ls.status != 0);
    CHECK_FALSE(contains(ls.out, "file.txt"));
    // Named as itself, it is the user's choice: mounted.
    Result named = env.bbx({"cat", key}, env.project(), with_home);
    CHECK(named.out == "SECRET\n");
    env.stop_all_checked();
}

// path_args: false leaves ../x failing as before; mount_root: cwd mounts the
// directory alone, one container per directory.
void settings_turn_it_off(Engine e) {
    {
        ProjectEnv env(e, "    path_args: false\n");
        Result cat = env.bbx({"cat", env.outside() + "/file.txt"}, env.project());
        CHECK(cat.status == 1);
        CHECK(contains(cat.err, "No such file or directory"));
        Result which = env.fod({"which", "bbx", env.outside()}, {.cwd = env.project()});
        CHECK(contains(which.out, "  arguments:   not mounted (path_args: false)\n"));
        env.stop_all_checked();
    }
    {
        ProjectEnv env(e, "    mount_root: cwd\n");
        Result top = env.bbx({"cat", "top.txt"}, env.project());
        CHECK(top.out == "top\n");
        // Not a path argument: the parent is not mounted, as before, and the
        // project's container does not serve the directory below it.
        Result script = env.bbx({"sh", "-c", "cat ../top.txt"}, env.sub());
        CHECK(script.status == 1);
        CHECK(contains(script.err, "No such file or directory"));
        CHECK(env.containers().size() == 2);
        Result up = env.bbx({"cat", "../top.txt"}, env.sub());
        CHECK(up.status == 0);  // a path argument outside the root: mounted
        CHECK(up.out == "top\n");
        Result ps = env.fod({"ps"});
        CHECK(contains(ps.out, " " + env.sub() + "\n"));
        env.stop_all_checked();
    }
}

}  // namespace

FOD_TEST_ALL_ENGINES("paths: one warm container serves a whole project, from any directory in it",
                     "[paths][warm]", one_container_per_project)
FOD_TEST_ALL_ENGINES("paths: files and directories named outside the project are mounted",
                     "[paths]", arguments_outside_are_mounted)
FOD_TEST_ALL_ENGINES("paths: a file named outside the project and saved anew is seen anew",
                     "[paths][warm]", file_saved_anew_is_seen_anew)
FOD_TEST_ALL_ENGINES("paths: a file in $HOME, and a run needing more starts one more container",
                     "[paths][warm]", home_file_and_reuse)
FOD_TEST_ALL_ENGINES("paths: a run served by a wider warm container remembers it, and a "
                     "remembered one that does not serve the run is passed over",
                     "[paths][warm]", wider_container_is_remembered)
FOD_TEST_ALL_ENGINES("paths: awkward names, links out of the project, read-only system files",
                     "[paths][boundary]", awkward_paths_links_and_system_files)
FOD_TEST_ALL_ENGINES("paths: attack: a link planted in the project into a dot-file of $HOME "
                     "or to a directory is not followed",
                     "[paths][boundary]", planted_link_into_home_is_not_followed)
FOD_TEST_ALL_ENGINES("paths: path_args: false and mount_root: cwd keep the old behaviour",
                     "[paths]", settings_turn_it_off)
