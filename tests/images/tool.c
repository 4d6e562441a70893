/*
 * tool: a small multi-call test program. It is the only file in the
 * localhost/fod-test-scratch:1 image (no shell, no coreutils), so every
 * behaviour the integration tests need from inside a container lives here.
 * Built with `gcc -static -O2` by tests/env/build-images.
 *
 * Verbs (argv[1]):
 *   echo ARGS...     print ARGS separated by spaces, then a newline
 *   cat              copy stdin to stdout
 *   exit N           exit with status N
 *   kill-self SIG    raise numeric signal SIG with its default action.
 *                    As PID 1 of a pid namespace the kernel ignores such a
 *                    signal; the tool then says so on stderr and exits 128+SIG
 *                    (what an engine reports for a process killed by SIG).
 *   write PATH TEXT  create/truncate PATH (relative to cwd) holding exactly
 *                    TEXT (no newline added); prints nothing
 *   pwd              print the current directory
 *   id               print "uid=U gid=G"
 *   env NAME         print the value of NAME, or "unset"
 *   sleep SECONDS    sleep (fractions allowed); on SIGINT/SIGTERM print
 *                    "tool: got signal N" to stderr and exit 128+N
 *   tty              print "tty" if stdin and stdout are terminals, else "notty"
 *   winsize          print "ROWS COLS" from TIOCGWINSZ on stdout, or "none"
 * Anything else: a usage line on stderr and exit status 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: tool echo ARGS... | cat | exit N | kill-self SIG | write PATH TEXT"
    " | pwd | id | env NAME | sleep SECONDS | tty | winsize\n";

static int usage_error(void) {
    fputs(usage, stderr);
    return 2;
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int parse_int(const char *s, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* Async-signal-safe: only write() and _exit(). */
static void on_signal(int sig) {
    char msg[48] = "tool: got signal ";
    size_t n = strlen(msg);
    char digits[12];
    int d = 0, v = sig;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && d < (int)sizeof digits);
    while (d > 0)
        msg[n++] = digits[--d];
    msg[n++] = '\n';
    (void)write_all(2, msg, n);
    _exit(128 + sig);
}

static int do_echo(int argc, char **argv) {
    for (int i = 2; i < argc; i++) {
        if (i > 2)
            putchar(' ');
        fputs(argv[i], stdout);
    }
    putchar('\n');
    return 0;
}

static int do_cat(void) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("tool: cat: read");
            return 1;
        }
        if (write_all(1, buf, (size_t)n) < 0) {
            perror("tool: cat: write");
            return 1;
        }
    }
}

static int do_kill_self(const char *arg) {
    long sig;
    if (parse_int(arg, &sig) < 0 || sig <= 0 || sig >= NSIG) {
        fprintf(stderr, "tool: kill-self: bad signal '%s'\n", arg);
        return 2;
    }
    fflush(stdout);
    signal((int)sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, (int)sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise((int)sig);
    /* Still alive: PID 1 of a pid namespace ignores default-action signals
     * (or the signal's default action is to ignore/stop-and-continue). */
    fprintf(stderr, "tool: still alive after signal %ld (pid %d); exiting %ld\n", sig,
            (int)getpid(), 128 + sig);
    return (int)(128 + sig);
}

static int do_write(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "tool: write: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (write_all(fd, text, strlen(text)) < 0 || close(fd) < 0) {
        fprintf(stderr, "tool: write: %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

static int do_pwd(void) {
    char buf[4096];
    if (!getcwd(buf, sizeof buf)) {
        perror("tool: pwd");
        return 1;
    }
    puts(buf);
    return 0;
}

static int do_sleep(const char *arg) {
    char *end;
    errno = 0;
    double secs = strtod(arg, &end);
    if (errno || end == arg || *end || secs < 0) {
        fprintf(stderr, "tool: sleep: bad duration '%s'\n", arg);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
    return 0;
}

static int do_winsize(void) {
    struct winsize ws;
    if (ioctl(1, TIOCGWINSZ, &ws) < 0) {
        puts("none");
        return 0;
    }
    printf("%u %u\n", (unsigned)ws.ws_row, (unsigned)ws.ws_col);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return usage_error();
    const char *verb = argv[1];
    int nargs = argc - 2;

    if (!strcmp(verb, "echo"))
        return do_echo(argc, argv);
    if (!strcmp(verb, "cat") && nargs == 0)
        return do_cat();
    if (!strcmp(verb, "exit") && nargs == 1) {
        long n;
        if (parse_int(argv[2], &n) < 0) {
            fprintf(stderr, "tool: exit: bad status '%s'\n", argv[2]);
            return 2;
        }
        return (int)(n & 0xff);
    }
    if (!strcmp(verb, "kill-self") && nargs == 1)
        return do_kill_self(argv[2]);
    if (!strcmp(verb, "write") && nargs == 2)
        return do_write(argv[2], argv[3]);
    if (!strcmp(verb, "pwd") && nargs == 0)
        return do_pwd();
    if (!strcmp(verb, "id") && nargs == 0) {
        printf("uid=%u gid=%u\n", (unsigned)getuid(), (unsigned)getgid());
        return 0;
    }
    if (!strcmp(verb, "env") && nargs == 1) {
        const char *v = getenv(argv[2]);
        puts(v ? v : "unset");
        return 0;
    }
    if (!strcmp(verb, "sleep") && nargs == 1)
        return do_sleep(argv[2]);
    if (!strcmp(verb, "tty") && nargs == 0) {
        puts(isatty(0) && isatty(1) ? "tty" : "notty");
        return 0;
    }
    if (!strcmp(verb, "winsize") && nargs == 0)
        return do_winsize();
    return usage_error();
}
