// The table of served files (issue 20): one entry per path of the mount, and the only
// place a file's facts live: how long a rendering may be reused, what its key must hold,
// whether it counts from the view's boot, and which runtimes may bind it. Caching, the
// tree, `render`, docker-flags, cgprocfs-runc and the LXC hook all read it; renderers
// are bound to its entries in render/files.ts, where a missing one is a type error.
// Pure data with no imports: cgprocfs-runc loads it at every container start.

/**
 * How long a rendering may be served again to readers of the same view:
 * `steady` (no counters: meminfo, swaps, cpuinfo, the CPU lists) for the daemon's
 * RENDERING_CACHE_MS; `counting` (counters or momentary figures) for COUNTER_CACHE_MS,
 * one clock tick, the shared cache making one view's renderings one after another so
 * a counter a reader saw never goes back; `live`: never (the host's sysfs files, read
 * at every open).
 */
export type Freshness = 'steady' | 'counting' | 'live';

/**
 * Who may bind the path over a container's own: `runc`, every runtime; `own-proc`,
 * only for runtimes that mount /proc themselves (LXC, systemd-nspawn). runc refuses a
 * bind inside /proc anywhere but cpuinfo, diskstats, meminfo, stat, swaps, uptime,
 * loadavg, slabinfo, sys/kernel/ns_last_pid and sys/crypto/fips_enabled (its
 * checkProcMount), whoever put it in config.json: the container then fails to start (a
 * webhook adding /proc/pressure broke every pod it selected, lxcfs-on-kubernetes#128).
 * Docker, containerd, Kubernetes and Podman run containers through runc.
 */
export type BindRuntime = 'runc' | 'own-proc';

export interface Bind {
  readonly runtime: BindRuntime;
  /** Where the bind comes in the lists of binds (unique; docker-flags prints them in this order). */
  readonly rank: number;
}

interface EntryFacts {
  /** The path inside the mount, which is also the path under the container's `/`. */
  readonly path: string;
  readonly freshness: Freshness;
  /** Shows pids at the reader's pid namespace level, which a non-init target's cache key does not hold. */
  readonly showsPids: boolean;
  /** Counts from the view's boot: its container init's start, or an explicit cgroup's dating. */
  readonly dated: boolean;
  /** Bound over the container's own path, and by whom; `not-bound`: it lies in a bound directory. */
  readonly bind: Bind | 'not-bound';
}

/** One rendered file. */
export interface FileEntry extends EntryFacts {
  readonly kind: 'file';
}

/**
 * A host sysfs directory, walked once when the server starts: each readable file not
 * a file entry of its own is the host's, cut to the view (render/cpu-tree.ts,
 * node-tree.ts). `readerDirs`: its cpuN or nodeN entries exist only for the readers
 * whose view has those CPUs (render/cpu-dirs.ts), so the kernel must not cache them.
 */
export interface TreeEntry extends EntryFacts {
  readonly kind: 'tree';
  readonly readerDirs: boolean;
}

export type ServedEntry = FileEntry | TreeEntry;

/**
 * Every served path, in the tree's order (`render --list`, READDIR). `bind` ranks give
 * the order docker-flags, the wrapper and the LXC hook list the binds in (issue 15's).
 */
export const SERVED_FILES = [
  { kind: 'file', path: 'proc/meminfo', freshness: 'steady', showsPids: false, dated: false, bind: { runtime: 'runc', rank: 3 } },
  { kind: 'file', path: 'proc/swaps', freshness: 'steady', showsPids: false, dated: false, bind: { runtime: 'runc', rank: 5 } },
  { kind: 'file', path: 'proc/cpuinfo', freshness: 'steady', showsPids: false, dated: false, bind: { runtime: 'runc', rank: 1 } },
  { kind: 'file', path: 'proc/stat', freshness: 'counting', showsPids: true, dated: true, bind: { runtime: 'runc', rank: 4 } },
  { kind: 'file', path: 'proc/uptime', freshness: 'counting', showsPids: false, dated: true, bind: { runtime: 'runc', rank: 6 } },
  // The CPU lists are rendered, not the host's: they lie in the bound CPU directory.
  { kind: 'file', path: 'sys/devices/system/cpu/online', freshness: 'steady', showsPids: false, dated: false, bind: 'not-bound' },
  { kind: 'file', path: 'sys/devices/system/cpu/possible', freshness: 'steady', showsPids: false, dated: false, bind: 'not-bound' },
  { kind: 'file', path: 'sys/devices/system/cpu/present', freshness: 'steady', showsPids: false, dated: false, bind: 'not-bound' },
  { kind: 'file', path: 'sys/devices/system/cpu/offline', freshness: 'steady', showsPids: false, dated: false, bind: 'not-bound' },
  // The whole CPU directory (cpuN entries of the visible CPUs, online, possible...):
  // tools count CPUs from its entries as well as from its lists (issue 9).
  { kind: 'tree', path: 'sys/devices/system/cpu', freshness: 'live', showsPids: false, dated: false, readerDirs: true, bind: { runtime: 'runc', rank: 12 } },
  // The NUMA nodes of the visible CPUs, their CPU lists cut (lscpu, libnuma: issue 21).
  { kind: 'tree', path: 'sys/devices/system/node', freshness: 'live', showsPids: false, dated: false, readerDirs: true, bind: { runtime: 'runc', rank: 13 } },
  { kind: 'file', path: 'proc/loadavg', freshness: 'counting', showsPids: true, dated: false, bind: { runtime: 'runc', rank: 7 } },
  { kind: 'file', path: 'proc/diskstats', freshness: 'counting', showsPids: false, dated: false, bind: { runtime: 'runc', rank: 2 } },
  // The container's paging and fault counters (issue 21); runc refuses it like pressure/*.
  { kind: 'file', path: 'proc/vmstat', freshness: 'counting', showsPids: false, dated: false, bind: { runtime: 'own-proc', rank: 11 } },
  { kind: 'file', path: 'proc/pressure/cpu', freshness: 'counting', showsPids: false, dated: false, bind: { runtime: 'own-proc', rank: 8 } },
  { kind: 'file', path: 'proc/pressure/memory', freshness: 'counting', showsPids: false, dated: false, bind: { runtime: 'own-proc', rank: 9 } },
  { kind: 'file', path: 'proc/pressure/io', freshness: 'counting', showsPids: false, dated: false, bind: { runtime: 'own-proc', rank: 10 } },
] as const satisfies readonly ServedEntry[];

type Served = (typeof SERVED_FILES)[number];
/** The path of every file entry: render/files.ts must give each a renderer. */
export type FilePath = Extract<Served, { kind: 'file' }>['path'];
/** The path of every tree entry: render/files.ts must give each a walk. */
export type TreePath = Extract<Served, { kind: 'tree' }>['path'];

/** The paths a runtime may bind, by rank: runc's (`runc`) or every one (`own-proc`: LXC). */
export function bindTargets(runtime: BindRuntime): readonly string[] {
  const entries: readonly ServedEntry[] = SERVED_FILES;
  return entries
    .flatMap(({ path, bind }) => (bind === 'not-bound' || (bind.runtime === 'own-proc' && runtime === 'runc') ? [] : [{ path, rank: bind.rank }]))
    .sort((a, b) => a.rank - b.rank)
    .map((bound) => bound.path);
}

/** Every path of the table, files and trees. */
export type ServedPath = Served['path'];
