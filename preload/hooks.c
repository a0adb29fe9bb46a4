/* The exported entry points of libcgprocfs-preload.so. Each answers from the container's
 * own files (files.h) and otherwise calls the next definition, libc's. Every public name
 * is hooked on its own: glibc's sysconf, get_phys_pages, get_nprocs and getloadavg call
 * internal aliases (__sysinfo, __get_nprocs), never the PLT, so hooking sysinfo() alone
 * changes none of them (issue 9). sched_getaffinity and pthread_getaffinity_np answer a
 * caller about itself with the visible CPUs (issue 21). The only state is the table of
 * next definitions. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "files.h"

#define EXPORT __attribute__((visibility("default")))

/* Against glibc >= 2.34 dlsym links as dlsym@GLIBC_2.34, and ld.so would refuse the whole
 * library (and, from /etc/ld.so.preload, every program) in images with an older glibc:
 * Debian 11, Ubuntu 20.04, RHEL 8. Every glibc still has the first version, in libdl.so.2
 * before 2.34 and in libc.so.6 since, so bind that one (the build links libdl.so.2). */
#ifdef __GLIBC__ /* not musl: __GLIBC_PREREQ would not even parse there */
#if __GLIBC_PREREQ(2, 34) && defined(__x86_64__) && defined(__LP64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
#elif __GLIBC_PREREQ(2, 34) && defined(__aarch64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.17");
#endif
#endif

#define CPU_ONLINE "/sys/devices/system/cpu/online"
#define CPU_POSSIBLE "/sys/devices/system/cpu/possible"

enum hook {
  H_SYSINFO,
  H_SYSCONF,
  H___SYSCONF, /* glibc >= 2.34 programs import it too (PTHREAD_STACK_MIN expands to it) */
  H_GET_PHYS_PAGES,
  H_GET_AVPHYS_PAGES,
  H_GET_NPROCS,
  H_GET_NPROCS_CONF,
  H_GETLOADAVG,
  H_SCHED_GETAFFINITY,
  H_PTHREAD_GETAFFINITY_NP,
  HOOK_COUNT
};

static const char *const HOOK_NAMES[HOOK_COUNT] = {
  [H_SYSINFO] = "sysinfo",
  [H_SYSCONF] = "sysconf",
  [H___SYSCONF] = "__sysconf",
  [H_GET_PHYS_PAGES] = "get_phys_pages",
  [H_GET_AVPHYS_PAGES] = "get_avphys_pages",
  [H_GET_NPROCS] = "get_nprocs",
  [H_GET_NPROCS_CONF] = "get_nprocs_conf",
  [H_GETLOADAVG] = "getloadavg",
  [H_SCHED_GETAFFINITY] = "sched_getaffinity",
  [H_PTHREAD_GETAFFINITY_NP] = "pthread_getaffinity_np",
};

static void *next_fn[HOOK_COUNT];

/* libc's definition of a hooked name. Found by the constructor, so a hook running in a
 * signal handler never calls dlsym; found here when another library's constructor calls
 * a hook before ours ran. Racing threads store the same pointer. */
static void *next(enum hook h) {
  void *fn = __atomic_load_n(&next_fn[h], __ATOMIC_ACQUIRE);
  if (fn == NULL) {
    fn = dlsym(RTLD_NEXT, HOOK_NAMES[h]);
    __atomic_store_n(&next_fn[h], fn, __ATOMIC_RELEASE);
  }
  return fn;
}

__attribute__((constructor)) static void find_next_definitions(void) {
  for (int h = 0; h < HOOK_COUNT; h++) next((enum hook)h);
}

/* A meminfo value in pages of this process's page size, or -1 when it cannot be read. */
static long meminfo_pages(enum meminfo_key key) {
  struct meminfo mi;
  if (!(read_meminfo(&mi, MI_BIT(key)) & MI_BIT(key))) return -1;
  uint64_t pages = mi.kb[key] / ((uint64_t)getpagesize() / 1024);
  return pages > LONG_MAX ? LONG_MAX : (long)pages;
}

static long cpu_count(const char *path) {
  long n;
  return read_cpu_count(path, &n) ? n : -1;
}

/* Our answer for a sysconf name, or -1: not ours (it falls through), or unreadable. */
static long own_sysconf(int name) {
  switch (name) {
  case _SC_PHYS_PAGES: return meminfo_pages(MI_MEM_TOTAL);
  case _SC_AVPHYS_PAGES: return meminfo_pages(MI_MEM_FREE);
  case _SC_NPROCESSORS_CONF: return cpu_count(CPU_POSSIBLE);
  case _SC_NPROCESSORS_ONLN: return cpu_count(CPU_ONLINE);
  default: return -1;
  }
}

/* Runs `own` (a value >= 0, or -1) with errno preserved, for a sysconf caller who set
 * errno = 0 to tell "no limit" from an error, and returns it. */
#define KEEPING_ERRNO(own)    \
  ({                          \
    int saved_errno_ = errno; \
    long own_ = (own);        \
    errno = saved_errno_;     \
    own_;                     \
  })

/* Calls libc's `h` of type `type` with the arguments, or fails with ENOSYS when it has none. */
#define CALL_NEXT(h, type, ...)                     \
  ({                                                \
    type fn_ = (type)next(h);                       \
    fn_ ? fn_(__VA_ARGS__) : (errno = ENOSYS, -1);  \
  })

typedef long (*sysconf_fn)(int);
typedef long (*pages_fn)(void);
typedef int (*count_fn)(void);
typedef int (*sysinfo_fn)(struct sysinfo *);
typedef int (*loadavg_fn)(double *, int);

EXPORT long sysconf(int name) {
  long own = KEEPING_ERRNO(own_sysconf(name));
  return own >= 0 ? own : CALL_NEXT(H_SYSCONF, sysconf_fn, name);
}

EXPORT long __sysconf(int name) {
  long own = KEEPING_ERRNO(own_sysconf(name));
  return own >= 0 ? own : CALL_NEXT(H___SYSCONF, sysconf_fn, name);
}

EXPORT long get_phys_pages(void) {
  long own = KEEPING_ERRNO(meminfo_pages(MI_MEM_TOTAL));
  return own >= 0 ? own : CALL_NEXT(H_GET_PHYS_PAGES, pages_fn);
}

EXPORT long get_avphys_pages(void) {
  long own = KEEPING_ERRNO(meminfo_pages(MI_MEM_FREE));
  return own >= 0 ? own : CALL_NEXT(H_GET_AVPHYS_PAGES, pages_fn);
}

EXPORT int get_nprocs(void) {
  long own = KEEPING_ERRNO(cpu_count(CPU_ONLINE));
  return own >= 0 ? (int)own : CALL_NEXT(H_GET_NPROCS, count_fn);
}

EXPORT int get_nprocs_conf(void) {
  long own = KEEPING_ERRNO(cpu_count(CPU_POSSIBLE));
  return own >= 0 ? (int)own : CALL_NEXT(H_GET_NPROCS_CONF, count_fn);
}

EXPORT int getloadavg(double loadavg[], int nelem) {
  int saved_errno = errno;
  struct loadavg la;
  if (nelem >= 0 && read_loadavg(&la)) {
    int n = nelem < 3 ? nelem : 3;
    for (int i = 0; i < n; i++) loadavg[i] = la.values[i];
    errno = saved_errno;
    return n;
  }
  errno = saved_errno;
  return CALL_NEXT(H_GETLOADAVG, loadavg_fn, loadavg, nelem);
}

typedef __typeof__(((struct sysinfo *)0)->totalram) ram_t;

/* The memory fields of sysinfo, in the order of enum meminfo_key, then the two it has no key for. */
#define RAM_FIELDS 8
static ram_t *ram_field(struct sysinfo *info, int i) {
  ram_t *fields[RAM_FIELDS] = {
    [MI_MEM_TOTAL] = &info->totalram, [MI_MEM_FREE] = &info->freeram,    [MI_SHMEM] = &info->sharedram,
    [MI_BUFFERS] = &info->bufferram,  [MI_SWAP_TOTAL] = &info->totalswap, [MI_SWAP_FREE] = &info->freeswap,
    [MI_KEY_COUNT] = &info->totalhigh, [MI_KEY_COUNT + 1] = &info->freehigh,
  };
  return fields[i];
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Memory fields from meminfo where it has them, the real ones elsewhere, in one mem_unit:
 * the real one unless a value overflows the field (32-bit), then doubled until none does. */
static void overlay_memory(struct sysinfo *info) {
  struct meminfo mi;
  if (read_meminfo(&mi, (1u << MI_KEY_COUNT) - 1) == 0) return;
  uint64_t unit = info->mem_unit ? info->mem_unit : 1, bytes[RAM_FIELDS], largest = 0;
  for (int i = 0; i < RAM_FIELDS; i++) {
    if (i < MI_KEY_COUNT && (mi.found & MI_BIT(i))) bytes[i] = mi.kb[i] * 1024;
    else if (__builtin_mul_overflow((uint64_t)*ram_field(info, i), unit, &bytes[i])) bytes[i] = UINT64_MAX;
  }
  /* A real field next to a container's total could exceed it; no reader expects that. */
  bytes[MI_MEM_FREE] = min_u64(bytes[MI_MEM_FREE], bytes[MI_MEM_TOTAL]);
  bytes[MI_SHMEM] = min_u64(bytes[MI_SHMEM], bytes[MI_MEM_TOTAL]);
  bytes[MI_BUFFERS] = min_u64(bytes[MI_BUFFERS], bytes[MI_MEM_TOTAL]);
  bytes[MI_SWAP_FREE] = min_u64(bytes[MI_SWAP_FREE], bytes[MI_SWAP_TOTAL]);
  for (int i = 0; i < RAM_FIELDS; i++) largest = bytes[i] > largest ? bytes[i] : largest;
  while (largest / unit > (ram_t)-1 && unit <= UINT32_MAX / 2) unit *= 2;
  for (int i = 0; i < RAM_FIELDS; i++) *ram_field(info, i) = (ram_t)(bytes[i] / unit);
  info->mem_unit = (__typeof__(info->mem_unit))unit;
}

static void overlay_uptime_and_load(struct sysinfo *info) {
  long uptime;
  struct loadavg la;
  if (read_uptime(&uptime)) info->uptime = uptime;
  if (!read_loadavg(&la)) return;
  for (int i = 0; i < 3; i++) info->loads[i] = la.loads[i];
  info->procs = la.tasks > 0xffff ? 0xffff : (__typeof__(info->procs))la.tasks;
}

EXPORT int sysinfo(struct sysinfo *info) {
  int saved_errno = errno;
  sysinfo_fn fn = (sysinfo_fn)next(H_SYSINFO);
  int rc = fn ? fn(info) : (int)syscall(SYS_sysinfo, info);
  if (rc != 0) return rc;
  overlay_memory(info);
  overlay_uptime_and_load(info);
  errno = saved_errno;
  return 0;
}

/* The most CPUs a kernel has ids for (NR_CPUS is at most 8192), in cpu_set_t's words. */
#define MAX_MASK_WORDS (8192 / (8 * sizeof(unsigned long)))

/* A mask of the caller's own CPUs cut to the visible ones (the mount's online list), when
 * that keeps some and drops others: nproc, os.availableParallelism() and thread pools then
 * size themselves to the container's CPUs under a quota, not to every CPU the kernel lets
 * them run on (issue 21). Only the answer changes: the kernel's mask, which decides where
 * the threads run, is never touched. */
static void cut_to_visible(size_t size, cpu_set_t *mask) {
  unsigned long online[MAX_MASK_WORDS];
  unsigned long *words = (unsigned long *)mask;
  size_t nwords = size / sizeof(unsigned long);
  if (nwords > MAX_MASK_WORDS) nwords = MAX_MASK_WORDS;
  if (nwords == 0 || !read_cpu_mask(CPU_ONLINE, online, nwords)) return;
  int kept = 0, dropped = 0;
  for (size_t i = 0; i < nwords; i++) {
    kept |= (words[i] & online[i]) != 0;
    dropped |= (words[i] & ~online[i]) != 0;
  }
  if (!kept || !dropped) return;
  for (size_t i = 0; i < nwords; i++) words[i] &= online[i];
}

typedef int (*sched_getaffinity_fn)(pid_t, size_t, cpu_set_t *);
typedef int (*pthread_getaffinity_fn)(pthread_t, size_t, cpu_set_t *);

/* About itself: pid 0, its own pid, or the calling thread's id. Another process's mask is
 * the kernel's, unchanged. */
EXPORT int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *mask) {
  int rc = CALL_NEXT(H_SCHED_GETAFFINITY, sched_getaffinity_fn, pid, size, mask);
  if (rc != 0 || (pid != 0 && pid != getpid() && pid != (pid_t)syscall(SYS_gettid))) return rc;
  int saved_errno = errno;
  cut_to_visible(size, mask);
  errno = saved_errno;
  return rc;
}

/* Any thread of the calling process (coreutils' nproc asks through this one; glibc's
 * pthread_getaffinity_np makes the system call itself, not through sched_getaffinity). */
EXPORT int pthread_getaffinity_np(pthread_t thread, size_t size, cpu_set_t *mask) {
  pthread_getaffinity_fn fn = (pthread_getaffinity_fn)next(H_PTHREAD_GETAFFINITY_NP);
  if (fn == NULL) return ENOSYS;
  int rc = fn(thread, size, mask);
  if (rc != 0) return rc;
  int saved_errno = errno;
  cut_to_visible(size, mask);
  errno = saved_errno;
  return rc;
}
