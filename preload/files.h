/* The container's own files, read and parsed for the hooks: /proc/meminfo, /proc/uptime,
 * /proc/loadavg and the CPU lists in /sys/devices/system/cpu. Only open/read/close into
 * caller-provided or stack buffers, no malloc, no locale, no stdio: every function here
 * is async-signal-safe and thread-safe. Each returns false (or an empty mask) when its
 * file is absent, unreadable or not in the kernel's format, so the caller falls through. */
#ifndef CGPROCFS_PRELOAD_FILES_H
#define CGPROCFS_PRELOAD_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The meminfo keys sysinfo(2) has fields for (linux/sysinfo.h). */
enum meminfo_key {
  MI_MEM_TOTAL,  /* totalram */
  MI_MEM_FREE,   /* freeram */
  MI_SHMEM,      /* sharedram: the kernel fills it from the same counter as Shmem */
  MI_BUFFERS,    /* bufferram */
  MI_SWAP_TOTAL, /* totalswap */
  MI_SWAP_FREE,  /* freeswap */
  MI_KEY_COUNT
};

#define MI_BIT(key) (1u << (key))

struct meminfo {
  uint64_t kb[MI_KEY_COUNT];
  unsigned found; /* MI_BIT(key) set when kb[key] was read */
};

struct loadavg {
  /* The three averages as sysinfo(2) holds them: fixed point, 1 << SI_LOAD_SHIFT is 1.0. */
  unsigned long loads[3];
  /* The same, as the file's decimals, for getloadavg(3). */
  double values[3];
  /* The "total" of the running/total field: threads, as sysinfo's procs counts them. */
  unsigned long tasks;
};

/* Reads the keys in `wanted` (MI_BIT mask) from /proc/meminfo; returns the mask found. */
unsigned read_meminfo(struct meminfo *out, unsigned wanted);

/* /proc/uptime's first figure, rounded up to whole seconds as sysinfo(2) rounds it. */
bool read_uptime(long *seconds);

bool read_loadavg(struct loadavg *out);

/* How many CPUs a list file such as /sys/devices/system/cpu/online ("0-3,6") names;
 * an empty list is not a usable count. */
bool read_cpu_count(const char *path, long *count);

/* The CPUs a list file names, as bits in `words` (bit n of words[n / bits of a word], as
 * cpu_set_t holds them); ids beyond `nwords` words are left out. False when the file is
 * absent, unreadable, not in the kernel's format, or names no CPU. */
bool read_cpu_mask(const char *path, unsigned long *words, size_t nwords);

#endif
