// cgbench-reader: one benchmark reader, living the way a container's process does.
// It joins the cgroups it is given, optionally becomes pid 1 of a new pid namespace,
// then obeys line commands on stdin: each `run` is an open/read-to-EOF/close loop over
// one file during a shared wall-clock window, every reading checked, latencies kept in
// a log-linear histogram (3% buckets) printed as one JSON line. Also a `--sleepers N`
// mode that parks N sleeping processes in the cgroups (load for the loadavg sampler).
// With --pidns-of PID it joins the pid namespace PID made for its children (another
// reader's, started with --pidns), as a second process of that container.
//
//   cgbench-reader [--join CGROUP_PROCS_FILE]... [--pidns | --pidns-of PID] [--sleepers N]
//   stdin: run PATH EXPECT_MEMTOTAL_KB START_NS END_NS SLOT_NS SLOT_INDEX SLOT_COUNT
//          (EXPECT 0 = any non-empty, newline-terminated file; SLOT_NS 0 = always active)
//          quit, or EOF
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Histogram: exact below 64 ns, then 32 buckets per power of two up to 2^40 ns.
#define SUB_BITS 5
#define SUB_COUNT (1 << SUB_BITS)
#define BUCKETS 2048
#define BUF_SIZE (1 << 20)
// What cat asks for per read(2): the kernel splits it into FUSE READs of max_pages.
#define READ_CHUNK (128 * 1024)
#define MAX_JOINS 16

static uint64_t hist[BUCKETS];
static char buf[BUF_SIZE];

static int bucket_of(uint64_t ns) {
  if (ns < 2 * SUB_COUNT) return (int)ns;
  int msb = 63 - __builtin_clzll(ns);
  int idx = (msb - SUB_BITS) * SUB_COUNT + (int)(ns >> (msb - SUB_BITS));
  return idx < BUCKETS ? idx : BUCKETS - 1;
}

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until_realtime(uint64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
  while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

static void die(const char *what) {
  fprintf(stderr, "cgbench-reader: %s: %s\n", what, strerror(errno));
  exit(111);
}

static void join_cgroup(const char *procs) {
  int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(procs);
  // "0" moves the writer itself, whatever pid namespace it is in.
  if (write(fd, "0\n", 2) != 2) die(procs);
  close(fd);
}

// 0 when the reading is what the reader's cgroup should see, else a reason.
static const char *check(const char *data, size_t len, uint64_t expect_kb) {
  if (len == 0) return "empty";
  if (data[len - 1] != '\n') return "incomplete";
  if (expect_kb == 0) return NULL;
  if (len < 10 || memcmp(data, "MemTotal:", 9) != 0) return "no MemTotal";
  uint64_t kb = strtoull(data + 9, NULL, 10);
  return kb == expect_kb ? NULL : "wrong MemTotal";
}

struct run_result {
  uint64_t reads, bad, errors, max_ns, active_ns;
  char first_problem[160];
};

// One open/read-to-EOF/close cycle; returns its latency and records any problem.
static uint64_t cycle(const char *path, uint64_t expect_kb, struct run_result *r, int *ok) {
  uint64_t t0 = now_ns(CLOCK_MONOTONIC);
  const char *problem = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t len = 0;
  if (fd < 0) {
    problem = strerror(errno);
  } else {
    for (;;) {
      size_t room = BUF_SIZE - len;
      if (room == 0) { problem = "file larger than 1 MiB"; break; }
      ssize_t n = read(fd, buf + len, room < READ_CHUNK ? room : READ_CHUNK);
      if (n < 0) { if (errno == EINTR) continue; problem = strerror(errno); break; }
      if (n == 0) break;
      len += (size_t)n;
    }
    close(fd);
  }
  uint64_t t1 = now_ns(CLOCK_MONOTONIC);
  int io_error = problem != NULL;
  if (!problem) problem = check(buf, len, expect_kb);
  *ok = problem == NULL;
  if (problem) {
    if (io_error) r->errors++; else r->bad++;
    if (r->first_problem[0] == 0) {
      if (!io_error && expect_kb && len > 9 && memcmp(buf, "MemTotal:", 9) == 0)
        snprintf(r->first_problem, sizeof r->first_problem, "%s: expected %" PRIu64 " kB, read %" PRIu64, problem,
                 expect_kb, (uint64_t)strtoull(buf + 9, NULL, 10));
      else
        snprintf(r->first_problem, sizeof r->first_problem, "%s", problem);
    }
  }
  return t1 - t0;
}

// Reads during [start, end), or only during this reader's slots of it.
static void run(const char *path, uint64_t expect_kb, uint64_t start, uint64_t end, uint64_t slot, uint64_t index,
                uint64_t count) {
  struct run_result r;
  memset(&r, 0, sizeof r);
  memset(hist, 0, sizeof hist);
  if (slot == 0 || count == 0) { slot = end - start; index = 0; count = 1; }
  for (uint64_t k = index; start + k * slot < end; k += count) {
    uint64_t from = start + k * slot, to = from + slot < end ? from + slot : end;
    sleep_until_realtime(from);
    uint64_t began = now_ns(CLOCK_REALTIME);
    // Never start a cycle after the slot ends, so the active readers stay as many as the lanes.
    while (now_ns(CLOCK_REALTIME) < to) {
      int ok;
      uint64_t ns = cycle(path, expect_kb, &r, &ok);
      if (ok) {
        r.reads++;
        hist[bucket_of(ns)]++;
        if (ns > r.max_ns) r.max_ns = ns;
      }
    }
    r.active_ns += now_ns(CLOCK_REALTIME) - began;
  }
  printf("{\"reads\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"maxNs\":%" PRIu64 ",\"activeNs\":%" PRIu64
         ",\"problem\":\"",
         r.reads, r.bad, r.errors, r.max_ns, r.active_ns);
  for (const char *p = r.first_problem; *p; p++) putchar(*p == '"' || *p == '\\' ? '\'' : *p);
  printf("\",\"hist\":[");
  int first = 1;
  for (int i = 0; i < BUCKETS; i++) {
    if (!hist[i]) continue;
    printf("%s[%d,%" PRIu64 "]", first ? "" : ",", i, hist[i]);
    first = 0;
  }
  printf("]}\n");
  fflush(stdout);
}

static int serve_commands(void) {
  char line[4096], path[3000];
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {
    uint64_t expect, start, end, slot, index, count;
    if (strncmp(line, "quit", 4) == 0) return 0;
    if (sscanf(line, "run %2999s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, path, &expect,
               &start, &end, &slot, &index, &count) != 7) {
      printf("{\"error\":\"bad command\"}\n");
      fflush(stdout);
      continue;
    }
    run(path, expect, start, end, slot, index, count);
  }
  return 0;
}

// Parks n children in pause(); prints their pids; they die with us (PDEATHSIG) or by SIGKILL.
static int sleepers(int n) {
  pid_t parent = getpid();
  printf("sleepers");
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
      for (;;) pause();
    }
    printf(" %d", (int)pid);
  }
  printf("\n");
  fflush(stdout);
  while (fgets(buf, sizeof buf, stdin)) {
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *joins[MAX_JOINS];
  const char *pidns_of = NULL;
  int njoins = 0, pidns = 0, nsleepers = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--join") == 0 && i + 1 < argc && njoins < MAX_JOINS) joins[njoins++] = argv[++i];
    else if (strcmp(argv[i], "--pidns") == 0) pidns = 1;
    else if (strcmp(argv[i], "--pidns-of") == 0 && i + 1 < argc) pidns_of = argv[++i];
    else if (strcmp(argv[i], "--sleepers") == 0 && i + 1 < argc) nsleepers = atoi(argv[++i]);
    else { fprintf(stderr, "usage: cgbench-reader [--join PROCS]... [--pidns | --pidns-of PID] [--sleepers N]\n"); return 2; }
  }
  // Join before anything else, so the namespace's init is born inside the cgroup.
  for (int i = 0; i < njoins; i++) join_cgroup(joins[i]);
  if (nsleepers >= 0) return sleepers(nsleepers);
  if (!pidns && !pidns_of) return serve_commands();

  if (pidns_of) {
    // The namespace another reader made for its children: its pid 1 is that reader's.
    char ns[64];
    snprintf(ns, sizeof ns, "/proc/%s/ns/pid_for_children", pidns_of);
    int fd = open(ns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(ns);
    if (setns(fd, CLONE_NEWPID) != 0) die("setns(CLONE_NEWPID)");
    close(fd);
  } else if (unshare(CLONE_NEWPID) != 0) {
    die("unshare(CLONE_NEWPID)");
  }
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    // pid 1 of the new namespace, like a container's init (or a later process of the one
    // joined); dies with its parent (whose pid is invisible from here: getppid() is 0, so
    // the usual race check cannot be made).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    return serve_commands();
  }
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
