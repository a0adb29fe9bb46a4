// The context switches of a cgroup subtree's live tasks: the kernel counts them per task
// only (no cgroup file has them), in /proc/<tid>/schedstat's third field (pcount, the
// times the task was switched onto a CPU: its voluntary plus involuntary switches, as
// /proc/<tid>/status shows them). A task's count goes when the task exits. Issue 21.
import { join } from 'node:path';
import { readOptionalText } from '../host/files.js';
import { subtreeTasks, type TaskList } from './tasks.js';

/** pcount of a /proc/<tid>/schedstat text (`run_ns wait_ns pcount`); 0 when unreadable or without sched_info ("0 0 0"). */
export function parseSchedstatSwitches(text: string): number {
  const pcount = Number(text.trim().split(' ')[2]);
  return Number.isSafeInteger(pcount) && pcount >= 0 ? pcount : 0;
}

/**
 * Tasks read for one count, at most (the census's per-rendering share, issue 17): a
 * container with more gets the switches of these scaled to all of its tasks, so its
 * thread count costs other containers nothing (the counter record keeps it from going back).
 */
const SWITCH_TASKS = 256;

/** Switches of the tasks listed at `list` and below; tasks gone meanwhile count 0. */
export function contextSwitches(procRoot: string, list: Pick<TaskList, 'dir' | 'file'>): number {
  const tids = subtreeTasks(list.dir, list.file) ?? [];
  const read = tids.slice(0, SWITCH_TASKS);
  let total = 0;
  for (const tid of read) {
    const text = readOptionalText(join(procRoot, String(tid), 'schedstat'));
    if (text !== undefined) total += parseSchedstatSwitches(text);
  }
  return read.length === tids.length ? total : Math.round((total * tids.length) / read.length);
}
