// Remembers whose view each reader thread gets, so an OPEN costs two reads instead of
// walking /proc. Safe against pid reuse: each entry holds file descriptors on
// /proc/<tid>/comm and /proc/<target>/cgroup, and such a descriptor keeps referring
// to the task it was opened for; once that task is gone, a read through it fails
// (ESRCH) even if a new task got the same pid. Every use reads both, so a dead
// thread, a dead init or a moved process is noticed at once; a reader that is its
// own target (a container's pid 1, a host process) needs the cgroup descriptor only.
// A thread's pid namespace never changes, so the init found for it stays its init
// while alive.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { LruMap } from '../shared/lru.js';
import { targetOf, type ViewTarget, type Whose } from './target.js';

/** Enough for any /proc/<pid>/cgroup (one line per hierarchy). */
const CGROUP_TEXT_BYTES = 8192;
const COMM_BYTES = 64;

/** A descriptor on one /proc file of one task; `read` fails once the task is gone. */
class TaskFile {
  private constructor(readonly fd: number) {}

  static open(path: string): TaskFile | undefined {
    try {
      return new TaskFile(openSync(path, 'r'));
    } catch {
      return undefined;
    }
  }

  /** The file's text now, or undefined when the task is gone. */
  read(buffer: Buffer): string | undefined {
    try {
      const n = readSync(this.fd, buffer, 0, buffer.length, 0);
      return buffer.toString('latin1', 0, n);
    } catch {
      return undefined;
    }
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

interface Entry {
  /** On the reader thread; absent when the reader is the process whose view it gets (`cgroup` then vouches for it). */
  readonly alive: TaskFile | undefined;
  readonly cgroup: TaskFile;
  readonly whose: Whose;
  /** Updated in place when the membership changes: the descriptors stay the entry's. */
  target: ViewTarget;
  cgroupText: string;
}

export class TaskCache {
  private readonly entries: LruMap<number, Entry>;
  private readonly commBuffer = Buffer.allocUnsafe(COMM_BYTES);
  private readonly cgroupBuffer = Buffer.allocUnsafe(CGROUP_TEXT_BYTES);

  constructor(private readonly procRoot: string, capacity: number) {
    this.entries = new LruMap(capacity, (_tid, entry) => {
      entry.alive?.close();
      entry.cgroup.close();
    });
  }

  /** The remembered view of `tid`, current membership included; undefined to resolve afresh. */
  targetFor(tid: number): ViewTarget | undefined {
    const entry = this.entries.get(tid);
    if (entry === undefined) return undefined;
    const readerGone = entry.alive !== undefined && entry.alive.read(this.commBuffer) === undefined;
    const text = readerGone ? undefined : entry.cgroup.read(this.cgroupBuffer);
    if (text === undefined) {
      this.entries.delete(tid);
      return undefined;
    }
    if (text !== entry.cgroupText) {
      entry.target = targetOf(entry.whose, text, this.source(entry.whose));
      entry.cgroupText = text;
    }
    return entry.target;
  }

  /**
   * Opens the descriptors for `tid` and the process whose view it gets, and returns
   * that view; undefined (nothing kept) when either task is already gone.
   */
  remember(tid: number, whose: Whose): ViewTarget | undefined {
    const own = whose.pid === tid;
    const alive = own ? undefined : TaskFile.open(join(this.procRoot, String(tid), 'comm'));
    const cgroup = TaskFile.open(join(this.procRoot, String(whose.pid), 'cgroup'));
    const text = cgroup?.read(this.cgroupBuffer);
    const aliveGone = !own && (!alive || alive.read(this.commBuffer) === undefined);
    if (aliveGone || !cgroup || text === undefined) {
      alive?.close();
      cgroup?.close();
      return undefined;
    }
    const target = targetOf(whose, text, this.source(whose));
    this.entries.set(tid, { alive, cgroup, whose, target, cgroupText: text });
    return target;
  }

  private source(whose: Whose): string {
    return join(this.procRoot, String(whose.pid), 'cgroup');
  }
}
