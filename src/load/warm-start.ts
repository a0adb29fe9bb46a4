// What a cgroup's first loadavg reading starts from (issue 21, item 6): its tasks that are
// runnable (R) or in uninterruptible sleep (D) now, less the reader itself and tasks that only
// wait for a FUSE reply. Neither is load: the reader is R from the moment it queues its request
// until it sleeps in request_wait_answer (S, measured), which a CPU quota can stretch to a whole
// period when the throttle lands there; a task signalled while waiting on a FUSE reply sleeps
// there in D (fs/fuse/dev.c, reference §INTERRUPT). A seeded 1.00 takes minutes to decay.
import { join } from 'node:path';
import type { TaskReader } from '../cgroup/task-reader.js';
import { subtreeTasks, type TaskList } from '../cgroup/tasks.js';
import { readOptionalText } from '../host/files.js';

const RUNNING = 'R';
const UNINTERRUPTIBLE = 'D';
/**
 * Where a task waiting for a FUSE reply sleeps (its /proc/<tid>/wchan). wchan cannot tell our
 * connection from another FUSE mount's, so a task blocked on any FUSE server is left out of
 * the warm start too; the sampler counts it from the next tick on, as every D task.
 */
const FUSE_WAIT = /^(?:request_wait_answer|fuse_\w+)$/;
/**
 * Tasks read for one warm start, at most (the census's per-rendering share, issue 17): a
 * container with more is counted from these and scaled, so a first read of a container
 * with 20,000 threads costs what one of 256 does.
 */
const WARM_START_TASKS = 256;

function waitsOnFuse(procRoot: string, tid: number): boolean {
  return FUSE_WAIT.test((readOptionalText(join(procRoot, String(tid), 'wchan')) ?? '').trim());
}

/**
 * Active tasks of the subtree listed at `list` for a warm start, read with `reader`, never counting `readerTid`
 * (the thread whose read is being answered, in the daemon's pid namespace) nor FUSE waiters.
 */
export function warmStartActive(
  reader: TaskReader,
  procRoot: string,
  list: Pick<TaskList, 'dir' | 'file'>,
  readerTid: number | undefined,
): number {
  const tids = subtreeTasks(list.dir, list.file) ?? [];
  const tried = tids.slice(0, WARM_START_TASKS);
  let active = 0;
  for (const tid of tried) {
    if (tid === readerTid) continue;
    const state = reader.read(tid)?.state;
    if (state === RUNNING || (state === UNINTERRUPTIBLE && !waitsOnFuse(procRoot, tid))) active++;
  }
  return tried.length === tids.length ? active : Math.round((active * tids.length) / tried.length);
}
