/* A stand-in for the podman CLI, for the `decide` case of bench/run only: it
 * measures fod's own cost from its start to the exec of the engine CLI, with
 * the engine's cost taken out. Never used instead of a real engine in tests.
 *
 *   run ... --mount type=bind,src=BOX,dst=/.fod/run ...
 *                                       starts a background process that holds
 *                                       BOX/alive locked, as fod's keeper does
 *   exec ...                            exits 0 at once
 *   rm, anything else                   exits 0
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "run") != 0) {
    return 0;
  }
  for (int i = 2; i + 1 < argc; ++i) {
    const char *prefix = "type=bind,src=", *suffix = ",dst=/.fod/run";
    size_t n = strlen(argv[i + 1]), p = strlen(prefix), s = strlen(suffix);
    if (strcmp(argv[i], "--mount") == 0 && n > p + s && strncmp(argv[i + 1], prefix, p) == 0 &&
        strcmp(argv[i + 1] + n - s, suffix) == 0) {
      char path[4096];
      snprintf(path, sizeof path, "%.*s/alive", (int)(n - p - s), argv[i + 1] + p);
      if (fork() == 0) {
        setsid();
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 0), dup2(null_fd, 1), dup2(null_fd, 2);
        int fd = open(path, O_RDWR | O_CREAT, 0600);
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
          _exit(0); /* a stand-in keeper is already there */
        }
        sleep(600);
        _exit(0);
      }
      usleep(50000); /* let the stand-in keeper take its lock */
    }
  }
  puts("0000fake");
  return 0;
}
