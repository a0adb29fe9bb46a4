// The files a container gets from a live mount, bound over its own /proc and /sys, and
// which runtimes accept each bind: the one list `docker-flags`, the OCI runtime wrapper
// (cgprocfs-runc) and the LXC hook read (issue 15). Also where the preload library is.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BindTarget {
  /** The path inside the mount, which is also the target's path under the container's `/`. */
  readonly path: string;
  /**
   * runc refuses a bind inside /proc anywhere but cpuinfo, diskstats, meminfo, stat, swaps,
   * uptime, loadavg, slabinfo, sys/kernel/ns_last_pid and sys/crypto/fips_enabled (its
   * checkProcMount), whoever put it in config.json: the container then fails to start
   * (a webhook adding /proc/pressure broke every pod it selected, lxcfs-on-kubernetes#128).
   * Docker, containerd, Kubernetes and Podman run containers through runc. LXC and
   * systemd-nspawn mount /proc themselves and bind any file below it.
   */
  readonly runcAccepts: boolean;
}

export const BIND_TARGETS: readonly BindTarget[] = [
  { path: 'proc/cpuinfo', runcAccepts: true },
  { path: 'proc/diskstats', runcAccepts: true },
  { path: 'proc/meminfo', runcAccepts: true },
  { path: 'proc/stat', runcAccepts: true },
  { path: 'proc/swaps', runcAccepts: true },
  { path: 'proc/uptime', runcAccepts: true },
  { path: 'proc/loadavg', runcAccepts: true },
  { path: 'proc/pressure/cpu', runcAccepts: false },
  { path: 'proc/pressure/memory', runcAccepts: false },
  { path: 'proc/pressure/io', runcAccepts: false },
  // The container's paging and fault counters (issue 21); runc refuses it like pressure/*.
  { path: 'proc/vmstat', runcAccepts: false },
  // The whole CPU directory (cpuN entries of the visible CPUs, online, possible...):
  // tools count CPUs from its entries as well as from its lists (issue 9).
  { path: 'sys/devices/system/cpu', runcAccepts: true },
  // The NUMA nodes of the visible CPUs, their CPU lists cut (lscpu, libnuma: issue 21).
  { path: 'sys/devices/system/node', runcAccepts: true },
];

/** The targets a runc-based runtime accepts, in BIND_TARGETS order. */
export const RUNC_TARGETS: readonly string[] = BIND_TARGETS.filter((t) => t.runcAccepts).map((t) => t.path);

/** Every target: what a runtime that mounts /proc itself (LXC) can bind. */
export const ALL_TARGETS: readonly string[] = BIND_TARGETS.map((t) => t.path);

export interface BindMount {
  /** The file in the mount, on the host. */
  src: string;
  /** Where it goes in the container: the tree path under `/`. */
  dst: string;
}

/** The binds of `targets` that `exists` accepts (a mount offers them), in their order. */
export function bindsFrom(mountpoint: string, targets: readonly string[], exists: (treePath: string) => boolean): BindMount[] {
  return targets.filter(exists).map((path) => ({ src: join(mountpoint, path), dst: `/${path}` }));
}

/** Where the preload library is installed with the daemon (docs/preload.md), and where a container gets it. */
export const PRELOAD_LIBRARY = fileURLToPath(new URL('../preload/libcgprocfs-preload.so', import.meta.url));
export const PRELOAD_TARGET = '/usr/lib/cgprocfs/libcgprocfs-preload.so';
