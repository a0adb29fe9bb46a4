// Which class a requester is in for taking turns at the serving workers (issue 17): its
// pid namespace, so every process of a container is one class, and a container's
// readers cannot push ahead of another container's by being many. A cheap guess, not a
// view: a thread id reused by another namespace is misjudged until its entry expires,
// which changes only whose turn comes first.
import { join } from 'node:path';
import { readOptionalLink } from '../host/files.js';
import { LruMap } from '../shared/lru.js';
import { monotonicMs } from '../shared/clock.js';

/** Threads remembered per worker. */
const REMEMBERED = 4096;
/** How long a thread's class is trusted (a thread id is reused only after pid_max others). */
const TRUSTED_MS = 10_000;

/**
 * The class of requests a thread id makes: its pid namespace's inode number; 0 for no
 * thread (the kernel's own requests, which the queue serves first) or one gone.
 */
export function requesterClasses(procRoot: string, clock: () => number = monotonicMs): (tid: number) => number {
  const known = new LruMap<number, { cls: number; at: number }>(REMEMBERED);
  return (tid) => {
    if (tid <= 0) return 0;
    const now = clock();
    const entry = known.get(tid);
    if (entry !== undefined && now - entry.at < TRUSTED_MS) return entry.cls;
    const link = readOptionalLink(join(procRoot, String(tid), 'ns', 'pid'));
    // pid:[4026531836]: the inode number, as a 32-bit class.
    const cls = link === undefined ? 0 : Number(/\[(\d+)\]/.exec(link)?.[1] ?? 0) | 0;
    known.set(tid, { cls, at: now });
    return cls;
  };
}
