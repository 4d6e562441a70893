#pragma once

namespace fod::cli {

// fod-run _zygote: the user's zygote (hook/agent-protocol/zygote_proto.h). Listens on
// <runtime>/zygote-DEV-INO.sock, one per runtime directory and fod-run file (the first to
// lock its .lock), and serves each call in a child forked before it came (a spare waiting in
// accept()), which takes the caller's argv, environment, working directory, umask, signal
// dispositions and stdin, stdout and stderr, and runs fast_main warm only
// (run::serve_warm_only): the call is served by a process that has started already. The
// child refuses a caller that differs from the zygote in anything but its argv, environment
// and directory: user, groups, capabilities, namespaces, seccomp mode and filters, security
// label, root directory, or the fod-run it would run. Exits when idle for 2 minutes, when its
// runtime directory goes, when its program was replaced (an upgrade), and on SIGTERM, SIGINT
// or SIGHUP, letting the calls it took end. Returns its exit status.
int serve_zygote();

// Starts a detached zygote when fod found none listening ($FOD_ZYGOTE_START, which it
// unsets).
void start_zygote_when_asked();

} // namespace fod::cli
