/* Reading and parsing the files the hooks answer from (see files.h). Strict about the
 * kernel's formats: a value is used only when its line is exactly as the kernel prints
 * it, so a garbled or truncated file makes the hook ask libc instead of guessing. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/sysinfo.h> /* SI_LOAD_SHIFT */
#include <unistd.h>

#define PATH_MEMINFO "/proc/meminfo"
#define PATH_UPTIME "/proc/uptime"
#define PATH_LOADAVG "/proc/loadavg"

/* Above any NR_CPUS the kernel builds with (8192); bounds the count of a garbled list. */
#define MAX_CPU_ID 65535
/* Digits after the point we accept: the kernel prints two; nine keep 10^n in range. */
#define MAX_FRACTION_DIGITS 9

static const struct {
  const char *name;
  size_t len;
} MEMINFO_KEYS[MI_KEY_COUNT] = {
  [MI_MEM_TOTAL] = {"MemTotal", 8},   [MI_MEM_FREE] = {"MemFree", 7},
  [MI_SHMEM] = {"Shmem", 5},          [MI_BUFFERS] = {"Buffers", 7},
  [MI_SWAP_TOTAL] = {"SwapTotal", 9}, [MI_SWAP_FREE] = {"SwapFree", 8},
};

static int open_ro(const char *path) {
  int fd;
  do fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);
  return fd;
}

static ssize_t read_some(int fd, char *buf, size_t cap) {
  ssize_t n;
  do n = read(fd, buf, cap);
  while (n < 0 && errno == EINTR);
  return n;
}

/* A whole small file as a NUL-terminated string; false when absent, empty or too big. */
static bool read_small(const char *path, char *buf, size_t cap) {
  int fd = open_ro(path);
  if (fd < 0) return false;
  size_t len = 0;
  bool ok = true;
  for (;;) {
    ssize_t n = read_some(fd, buf + len, cap - 1 - len);
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    len += (size_t)n;
    if (len == cap - 1) { /* full: fine only if the file ends exactly here */
      char extra;
      ok = read_some(fd, &extra, 1) == 0;
      break;
    }
  }
  close(fd);
  buf[len] = '\0';
  return ok && len > 0 && strlen(buf) == len;
}

/* Decimal digits at *p, at most `max`; advances past them. */
static bool parse_uint(const char **p, uint64_t max, uint64_t *out) {
  const char *s = *p;
  uint64_t v = 0;
  if (*s < '0' || *s > '9') return false;
  for (; *s >= '0' && *s <= '9'; s++) {
    unsigned d = (unsigned)(*s - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *p = s;
  *out = v;
  return true;
}

static bool expect(const char **p, char c) {
  if (**p != c) return false;
  (*p)++;
  return true;
}

/* "12.34" as whole + frac / scale, without floating point or locale. */
struct decimal {
  uint64_t whole, frac, scale;
};

static bool parse_decimal(const char **p, uint64_t max_whole, struct decimal *d) {
  if (!parse_uint(p, max_whole, &d->whole)) return false;
  d->frac = 0;
  d->scale = 1;
  if (**p != '.') return true;
  const char *start = ++*p;
  if (!parse_uint(p, UINT64_MAX, &d->frac) || *p - start > MAX_FRACTION_DIGITS) return false;
  for (ptrdiff_t i = *p - start; i > 0; i--) d->scale *= 10;
  return true;
}

/* One "Key:    123 kB" line (NUL-terminated, no newline); stores the value of a wanted key. */
static void parse_meminfo_line(const char *line, size_t len, struct meminfo *out, unsigned wanted) {
  for (int k = 0; k < MI_KEY_COUNT; k++) {
    size_t n = MEMINFO_KEYS[k].len;
    if (len <= n || line[n] != ':' || memcmp(line, MEMINFO_KEYS[k].name, n) != 0) continue;
    if (!(wanted & MI_BIT(k)) || (out->found & MI_BIT(k))) return;
    const char *p = line + n + 1;
    while (*p == ' ') p++;
    uint64_t kb;
    if (!parse_uint(&p, UINT64_MAX / 1024, &kb) || !expect(&p, ' ') || !expect(&p, 'k') || !expect(&p, 'B') || *p) return;
    out->kb[k] = kb;
    out->found |= MI_BIT(k);
    return;
  }
}

unsigned read_meminfo(struct meminfo *out, unsigned wanted) {
  out->found = 0;
  int fd = open_ro(PATH_MEMINFO);
  if (fd < 0) return 0;
  /* Streamed line by line: the file's length varies by kernel; our keys are near the top. */
  char chunk[512], line[128];
  size_t len = 0;
  bool skip = false; /* the current line is too long or holds a NUL: not the kernel's */
  ssize_t n = 0;
  while ((out->found & wanted) != wanted && (n = read_some(fd, chunk, sizeof chunk)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      char c = chunk[i];
      if (c == '\n') {
        line[len] = '\0';
        if (!skip) parse_meminfo_line(line, len, out, wanted);
        len = 0;
        skip = false;
      } else if (c == '\0' || len == sizeof line - 1) {
        skip = true;
      } else {
        line[len++] = c;
      }
    }
  }
  if ((out->found & wanted) != wanted && n < 0) out->found = 0; /* a read error: trust nothing */
  close(fd);
  return out->found;
}

bool read_uptime(long *seconds) {
  char buf[128];
  const char *p = buf;
  struct decimal up, idle;
  if (!read_small(PATH_UPTIME, buf, sizeof buf)) return false;
  if (!parse_decimal(&p, LONG_MAX - 1, &up) || !expect(&p, ' ') || !parse_decimal(&p, UINT64_MAX, &idle) ||
      !expect(&p, '\n') || *p)
    return false;
  /* kernel/sys.c do_sysinfo(): uptime = tv_sec + (tv_nsec ? 1 : 0). */
  *seconds = (long)up.whole + (up.frac != 0);
  return true;
}

bool read_loadavg(struct loadavg *out) {
  char buf[128];
  const char *p = buf;
  if (!read_small(PATH_LOADAVG, buf, sizeof buf)) return false;
  for (int i = 0; i < 3; i++) {
    struct decimal d;
    /* A whole part whose fixed point, rounded up, still fits a 32-bit unsigned long. */
    if (!parse_decimal(&p, (UINT32_MAX >> SI_LOAD_SHIFT) - 1, &d) || !expect(&p, ' ')) return false;
    out->loads[i] = (unsigned long)((d.whole << SI_LOAD_SHIFT) + ((d.frac << SI_LOAD_SHIFT) + d.scale / 2) / d.scale);
    out->values[i] = (double)d.whole + (double)d.frac / (double)d.scale;
  }
  uint64_t running, total, last_pid;
  if (!parse_uint(&p, UINT32_MAX, &running) || !expect(&p, '/') || !parse_uint(&p, UINT32_MAX, &total) ||
      !expect(&p, ' ') || !parse_uint(&p, UINT32_MAX, &last_pid) || !expect(&p, '\n') || *p)
    return false;
  out->tasks = (unsigned long)total;
  return true;
}

/* Calls `each(first, last, arg)` for every run of a CPU list file; false when the file
 * cannot be read or is not a list in the kernel's format. */
static bool for_each_cpu_run(const char *path, void (*each)(uint64_t, uint64_t, void *), void *arg) {
  char buf[1024];
  const char *p = buf;
  if (!read_small(path, buf, sizeof buf)) return false;
  for (;;) {
    uint64_t first, last;
    if (!parse_uint(&p, MAX_CPU_ID, &first)) return false;
    last = first;
    if (*p == '-' && (++p, !parse_uint(&p, MAX_CPU_ID, &last) || last < first)) return false;
    each(first, last, arg);
    if (!expect(&p, ',')) break;
  }
  return expect(&p, '\n') && !*p;
}

static void count_run(uint64_t first, uint64_t last, void *arg) { *(long *)arg += (long)(last - first + 1); }

bool read_cpu_count(const char *path, long *count) {
  long n = 0;
  if (!for_each_cpu_run(path, count_run, &n)) return false;
  *count = n;
  return n > 0;
}

struct mask { unsigned long *words; size_t nwords; bool any; };

#define WORD_BITS (8 * sizeof(unsigned long))

static void set_run(uint64_t first, uint64_t last, void *arg) {
  struct mask *m = arg;
  for (uint64_t id = first; id <= last && id / WORD_BITS < m->nwords; id++) {
    m->words[id / WORD_BITS] |= 1UL << (id % WORD_BITS);
    m->any = true;
  }
}

bool read_cpu_mask(const char *path, unsigned long *words, size_t nwords) {
  struct mask m = { words, nwords, false };
  for (size_t i = 0; i < nwords; i++) words[i] = 0;
  return for_each_cpu_run(path, set_run, &m) && m.any;
}
