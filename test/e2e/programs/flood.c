// N processes reading a file as fast as they can (open, read to EOF, close, again):
// a container flooding the mount with reads (issue 17). Prints "flooding" once all
// run; they stop when the parent is killed (PR_SET_PDEATHSIG) or its stdin closes.
//   flood N PATH
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void read_forever(const char *path) {
  static char buf[65536];
  for (;;) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
  }
}

int main(int argc, char **argv) {
  int n = argc > 2 ? atoi(argv[1]) : 0;
  if (n < 1) {
    fprintf(stderr, "usage: flood N PATH\n");
    return 2;
  }
  pid_t parent = getpid();
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
      read_forever(argv[2]);
    }
  }
  printf("flooding\n");
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
  }
  return 0;
}
