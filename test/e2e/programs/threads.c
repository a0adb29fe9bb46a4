// A process of N threads that all sleep (a thread-heavy container's workload, issue 17).
// Prints "ready <pid>" once every thread runs, and exits when its stdin closes.
//   threads N
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *sleeper(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  for (;;) pthread_cond_wait(&never, &lock);
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  if (n < 1) {
    fprintf(stderr, "usage: threads N\n");
    return 2;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  // Small stacks: 20,000 threads in a few hundred MiB of address space, little of it touched.
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (int i = 1; i < n; i++) {
    pthread_t thread;
    if (pthread_create(&thread, &attr, sleeper, NULL) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
  }
  return 0;
}
