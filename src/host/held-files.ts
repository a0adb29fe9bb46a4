// Descriptors kept open on the kernel pseudo-files that renderings read again and
// again (a container's memory.stat, /proc/stat, a task's stat). Opening a file in
// cgroupfs or procfs costs a path walk and three more system calls; a read at offset
// 0 of a descriptor already open makes the kernel generate the file anew, as `top`
// relies on for /proc/stat. Measured here: 7-18 µs per file with readFileSync, 2-10 µs
// through a held descriptor.
//
// A held descriptor stays right because of how these filesystems behave:
// - a removed cgroup's files (rmdir, or a controller taken out of subtree_control)
//   fail with ENODEV, also after a cgroup of the same name is made again;
// - a /proc/<pid> file fails with ESRCH once its task is gone, also after the pid is
//   reused by another task.
// A failed read closes the descriptor and opens the path again. Only files on proc,
// sysfs and cgroupfs are held: a regular file (a test's fixture tree) can be replaced
// under its name without the old descriptor noticing. Nor are cgroup v1's task lists
// (`tasks`, `cgroup.procs`): the kernel keeps the list it built for a descriptor and
// serves it again to reads within a second of the last one (cgroup_pidlist_start).
// The one change a held descriptor does not notice is a cgroup v1 directory renamed
// and another made under its old name (cgroup v2 has no rename); `maxAgeMs` bounds
// how long that can show the renamed one.
import { closeSync, openSync, readSync, statfsSync } from 'node:fs';
import { basename } from 'node:path';
import { systemErrorCode } from '../errors.js';
import { LruMap } from '../shared/lru.js';
import { monotonicMs } from '../shared/clock.js';

const CGROUP_V1_MAGIC = 0x27e0eb;
/** statfs f_type of the filesystems whose files are generated anew at each read. */
const PSEUDO_FILESYSTEMS: ReadonlySet<number> = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  CGROUP_V1_MAGIC,
  0x63677270, // cgroup2
]);
/** cgroup v1 files whose reads through one descriptor may repeat an old list. */
const V1_TASK_LISTS: ReadonlySet<string> = new Set(['tasks', 'cgroup.procs']);

/** Whether a read at offset 0 of a descriptor held on `path` gives what a new open would. */
export function readsAnewThroughDescriptor(path: string): boolean {
  const type = statfsSync(path).type;
  return PSEUDO_FILESYSTEMS.has(type) && !(type === CGROUP_V1_MAGIC && V1_TASK_LISTS.has(basename(path)));
}

/**
 * How many descriptors one holder may keep: a sixteenth of the process's soft limit
 * on open files (several threads hold, and the server needs descriptors of its own),
 * at most `wanted`. Node raises the soft limit to the hard one at start.
 */
export function heldFilesCapacity(wanted: number, limitsText?: string): number {
  const line = limitsText?.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.split(/\s+/)[3]);
  if (!Number.isFinite(soft)) return wanted; // "unlimited", or no limits to read
  return Math.max(1, Math.min(wanted, Math.floor(soft / 16)));
}

export interface HeldFilesOptions {
  /** Most descriptors held at once; the least recently read is closed first. */
  capacity: number;
  /** A descriptor older than this is reopened before its next read. */
  maxAgeMs: number;
  clockMs?: () => number;
  /** Whether a path's descriptor may be held (default: readsAnewThroughDescriptor). */
  holdable?: (path: string) => boolean;
}

interface Held {
  readonly fd: number;
  readonly openedAtMs: number;
}

/** Room for any file read here but a large host's cpuinfo; the buffer doubles when filled. */
const READ_BYTES = 64 * 1024;

export class HeldFiles {
  private readonly held: LruMap<string, Held>;
  private readonly clockMs: () => number;
  private readonly holdable: (path: string) => boolean;
  private buffer = Buffer.allocUnsafe(READ_BYTES);

  constructor(private readonly options: HeldFilesOptions) {
    this.held = new LruMap(options.capacity, (_path, { fd }) => closeQuietly(fd));
    this.clockMs = options.clockMs ?? monotonicMs;
    this.holdable = options.holdable ?? readsAnewThroughDescriptor;
  }

  /** Descriptors held now. */
  get size(): number {
    return this.held.size;
  }

  /**
   * The file's text now; with `hold` false, a descriptor not yet held is closed after
   * the read. Throws the system error of opening or reading it, as readFileSync does.
   */
  read(path: string, hold = true): string {
    const now = this.clockMs();
    this.closeOneExpired(now);
    const held = this.held.get(path);
    if (held !== undefined) {
      if (now - held.openedAtMs < this.options.maxAgeMs) {
        const text = this.tryRead(held.fd);
        if (text !== undefined) return text;
      }
      // Gone (ENODEV, ESRCH) or too old: what the path names now is read instead.
      this.held.delete(path);
    }
    const fd = this.open(path);
    let keep = false;
    try {
      const text = this.readAll(fd);
      keep = hold && this.mayHold(path);
      if (keep) this.held.set(path, { fd, openedAtMs: now });
      return text;
    } finally {
      if (!keep) closeQuietly(fd);
    }
  }

  /** Closes every held descriptor. */
  clear(): void {
    this.held.clear();
  }

  /**
   * Closes the least recently read descriptor if it is past its age (it would be
   * reopened anyway), so descriptors on removed cgroups or ended tasks do not stay
   * open for as long as nothing pushes them out: one per read keeps up with any rate
   * at which paths stop being read.
   */
  private closeOneExpired(now: number): void {
    const oldest = this.held.oldest();
    if (oldest !== undefined && now - oldest[1].openedAtMs >= this.options.maxAgeMs) this.held.delete(oldest[0]);
  }

  /** Opens `path`; out of descriptors, gives back the held ones first, so holding never makes a read fail. */
  private open(path: string): number {
    try {
      return openSync(path, 'r');
    } catch (error) {
      const code = systemErrorCode(error);
      if ((code !== 'EMFILE' && code !== 'ENFILE') || this.held.size === 0) throw error;
      this.held.clear();
      return openSync(path, 'r');
    }
  }

  /** Whether to keep the descriptor; a path that cannot be asked about (gone meanwhile) is not kept. */
  private mayHold(path: string): boolean {
    try {
      return this.holdable(path);
    } catch {
      return false;
    }
  }

  private tryRead(fd: number): string | undefined {
    try {
      return this.readAll(fd);
    } catch {
      return undefined;
    }
  }

  /**
   * The whole file from offset 0, read until a read returns nothing: a seq_file with
   * many records (cpuinfo, a task list) returns about a page per read however large
   * the buffer. A read at the offset where the last one ended continues the same
   * generation of the file.
   */
  private readAll(fd: number): string {
    let length = 0;
    for (;;) {
      if (length === this.buffer.length) {
        const larger = Buffer.allocUnsafe(this.buffer.length * 2);
        this.buffer.copy(larger);
        this.buffer = larger;
      }
      const count = readSync(fd, this.buffer, length, this.buffer.length - length, length);
      if (count === 0) return this.buffer.toString('utf8', 0, length);
      length += count;
    }
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
