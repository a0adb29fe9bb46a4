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

/** Switches of the tasks listed at `list` and below (the census's bound applies); tasks gone meanwhile count 0. */
export function contextSwitches(procRoot: string, list: Pick<TaskList, 'dir' | 'file'>): number {
  let total = 0;
  for (const tid of subtreeTasks(list.dir, list.file) ?? []) {
    const text = readOptionalText(join(procRoot, String(tid), 'schedstat'));
    if (text !== undefined) total += parseSchedstatSwitches(text);
  }
  return total;
}
