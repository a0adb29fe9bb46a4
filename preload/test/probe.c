/* Test program for test/e2e/preload.test.ts. `probe` prints one line per value,
 * "NAME HOOKED LIBC": HOOKED through the ordinary call (the preload library's when it is
 * loaded), LIBC through libc's own definition (dlsym on libc.so.6), in the same instant,
 * after "preloaded 0|1" (is sysinfo not libc's?) and "file.loadavg TEXT", "file.uptime TEXT"
 * as the process saw them around the calls (/proc/loadavg the same before and after).
 * `probe stress [MS]` calls the hooks for MS milliseconds (default 1000) from 4 threads
 * while a SIGALRM handler calls them every 5 ms, interrupting malloc too, and prints the
 * calls made and the values that disagreed. (At 1 kHz through FUSE on a busy host the handler
 * alone can take every millisecond: the threads starve, which proves nothing.) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void *libc;

static void *libc_fn(const char *name) {
  void *fn = dlsym(libc, name);
  if (!fn) {
    fprintf(stderr, "probe: libc has no %s\n", name);
    exit(2);
  }
  return fn;
}

static void read_text(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, cap - 1);
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
}

static void sysinfo_lines(const struct sysinfo *h, const struct sysinfo *l) {
#define BYTES(f) printf("sysinfo." #f " %llu %llu\n", (unsigned long long)h->f * h->mem_unit, (unsigned long long)l->f * l->mem_unit)
  BYTES(totalram); BYTES(freeram); BYTES(sharedram); BYTES(bufferram); BYTES(totalswap); BYTES(freeswap);
  printf("sysinfo.uptime %ld %ld\n", h->uptime, l->uptime);
  for (int i = 0; i < 3; i++) printf("sysinfo.loads.%d %lu %lu\n", i, (unsigned long)h->loads[i], (unsigned long)l->loads[i]);
  printf("sysinfo.procs %u %u\n", h->procs, l->procs);
}

static int probe(void) {
  int (*l_sysinfo)(struct sysinfo *) = libc_fn("sysinfo");
  long (*l_sysconf)(int) = libc_fn("sysconf");
  long (*l_pages)(void) = libc_fn("get_phys_pages"), (*l_avpages)(void) = libc_fn("get_avphys_pages");
  int (*l_nprocs)(void) = libc_fn("get_nprocs"), (*l_nprocs_conf)(void) = libc_fn("get_nprocs_conf");
  int (*l_getloadavg)(double *, int) = libc_fn("getloadavg");
  char before[256], after[256], uptime[256];
  struct sysinfo h, l;
  double hl[3] = {0}, ll[3] = {0};
  int hn, ln;
  /* Retried until /proc/loadavg did not change around the calls (the daemon samples every 5 s). */
  for (int attempt = 0; attempt < 5; attempt++) {
    read_text("/proc/loadavg", before, sizeof before);
    read_text("/proc/uptime", uptime, sizeof uptime);
    if (sysinfo(&h) != 0 || l_sysinfo(&l) != 0) return perror("sysinfo"), 1;
    hn = getloadavg(hl, 3);
    ln = l_getloadavg(ll, 3);
    read_text("/proc/loadavg", after, sizeof after);
    if (strcmp(before, after) == 0) break;
  }
  printf("preloaded %d\n", dlsym(RTLD_DEFAULT, "sysinfo") != (void *)l_sysinfo);
  printf("file.loadavg %s\nfile.uptime %s\n", before, uptime);
  sysinfo_lines(&h, &l);
  printf("getloadavg.count %d %d\n", hn, ln);
  for (int i = 0; i < 3; i++) printf("getloadavg.%d %.2f %.2f\n", i, hl[i], ll[i]);
  static const struct { const char *name; int sc; } NAMES[] = {
    {"phys_pages", _SC_PHYS_PAGES}, {"avphys_pages", _SC_AVPHYS_PAGES}, {"nprocessors_conf", _SC_NPROCESSORS_CONF},
    {"nprocessors_onln", _SC_NPROCESSORS_ONLN}, {"pagesize", _SC_PAGESIZE}, {"arg_max", _SC_ARG_MAX},
  };
  for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
    printf("sysconf.%s %ld %ld\n", NAMES[i].name, sysconf(NAMES[i].sc), l_sysconf(NAMES[i].sc));
  }
  /* A caller that sets errno = 0 to tell "no limit" from an error must find it still 0. */
  errno = 0;
  long pages = sysconf(_SC_PHYS_PAGES);
  printf("sysconf.errno %d %d\n", pages > 0 ? errno : -1, 0);
  printf("get_phys_pages %ld %ld\n", get_phys_pages(), l_pages());
  printf("get_avphys_pages %ld %ld\n", get_avphys_pages(), l_avpages());
  printf("get_nprocs %d %d\n", get_nprocs(), l_nprocs());
  printf("get_nprocs_conf %d %d\n", get_nprocs_conf(), l_nprocs_conf());
  return 0;
}

#define THREADS 4
static unsigned long total_ram; /* bytes; what every call must report */
static int nprocs;
static struct timespec deadline;
static volatile sig_atomic_t signals, signal_mismatches;

static int mismatched(void) {
  struct sysinfo si;
  double load[3];
  return sysinfo(&si) != 0 || si.totalram * si.mem_unit != total_ram || get_nprocs() != nprocs ||
         sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) != (long)total_ram || getloadavg(load, 3) != 3;
}

static void on_alarm(int sig) {
  (void)sig;
  int saved = errno;
  signals = signals + 1;
  if (mismatched()) signal_mismatches = signal_mismatches + 1;
  errno = saved;
}

static int before_deadline(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec < deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec < deadline.tv_nsec);
}

/* Counts calls and mismatches in its two longs until the deadline. */
static void *caller(void *arg) {
  long *counts = arg;
  for (size_t i = 0; before_deadline(); i++) {
    free(malloc(64 + i % 4096)); /* so the alarm lands inside malloc's locks too */
    counts[1] += mismatched();
    counts[0]++;
  }
  return NULL;
}

/* Time-bound, not count-bound: through FUSE on a busy host a call can take milliseconds. */
static int stress(long ms) {
  struct sysinfo si;
  if (sysinfo(&si) != 0) return perror("sysinfo"), 1;
  total_ram = si.totalram * si.mem_unit;
  nprocs = get_nprocs();
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += ms / 1000 + (deadline.tv_nsec + ms % 1000 * 1000000) / 1000000000;
  deadline.tv_nsec = (deadline.tv_nsec + ms % 1000 * 1000000) % 1000000000;
  struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
  struct itimerval every_5ms = {{0, 5000}, {0, 5000}}, off = {{0, 0}, {0, 0}};
  sigaction(SIGALRM, &sa, NULL);
  setitimer(ITIMER_REAL, &every_5ms, NULL);
  pthread_t threads[THREADS];
  long counts[THREADS][2] = {{0}}, calls = 0, mismatches = 0;
  for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, caller, counts[t]);
  for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL), calls += counts[t][0], mismatches += counts[t][1];
  setitimer(ITIMER_REAL, &off, NULL);
  printf("stress.totalram %lu\nstress.calls %ld\nstress.mismatches %ld\nstress.signals %d\nstress.signal_mismatches %d\n",
         total_ram, calls, mismatches, (int)signals, (int)signal_mismatches);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (!libc) return fprintf(stderr, "probe: %s\n", dlerror()), 2;
  if (argc > 1 && strcmp(argv[1], "stress") == 0) return stress(argc > 2 ? atol(argv[2]) : 1000);
  return probe();
}
