// /proc/loadavg for one view: the cgroup's 1/5/15-minute averages (advanced by the
// main thread's sampler, read from the shared table), running/total tasks from a
// census at render time, and a last pid in the reader's own pid namespace. The
// root cgroup gets the host's file unchanged. collect() does the I/O, render() is pure.
import { ROOT_CGROUP } from '../cgroup/hierarchy.js';
import { CgprocfsError } from '../errors.js';
import { readHostLoadavg } from '../host/loadavg.js';
import { formatLoad, seededAverages, type LoadAverages } from '../load/fixed-point.js';
import type { LoadavgTable } from '../load/table.js';
import { warmStartActive } from '../load/warm-start.js';
import { monotonicMs } from '../shared/clock.js';
import type { FileView, ViewContext } from './sources.js';
import { listCensus } from './task-census.js';

export type LoadavgSnapshot =
  | { readonly host: string }
  | {
      readonly averages: LoadAverages;
      /** Runnable tasks; at least 1, the reader itself (the kernel counts it too). */
      readonly running: number;
      readonly total: number;
      readonly lastPid: number;
    };

/** How long a warm start waits before counting the tasks a second time. */
const SETTLE_MS = 5;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The active count to warm-start from: the smaller of two censuses a moment apart. One
 * census can catch a task that is runnable only for an instant (the reader's own shell
 * right after it forked the reader), and a seeded 1.00 takes minutes to decay.
 */
function settledActive(first: number, recount: () => number): number {
  if (first === 0) return 0;
  Atomics.wait(pause, 0, 0, SETTLE_MS);
  return Math.min(first, recount());
}

export function collect({ sources, target, readerTid }: ViewContext, table: LoadavgTable, now: number): LoadavgSnapshot {
  const { procRoot } = sources;
  const list = sources.cgroups.taskList(target.cgroups);
  if (list === undefined) throw new CgprocfsError('SOURCE_UNREADABLE', 'no cgroup hierarchy lists the tasks of the view');
  if (list.path === ROOT_CGROUP) return { host: readHostLoadavg(procRoot).text };
  const level = sources.pidLevels.of(target);
  const census = listCensus(sources, list, target.cgroups, typeof level === 'number' ? level : undefined);
  // A cgroup the sampler has no averages for yet starts from its current count (warm
  // start), counted twice a moment apart, never from one moment's, and never counting
  // the reader or tasks waiting on a FUSE reply (warm-start.ts).
  let seed: number | undefined;
  const active = (): number => warmStartActive(sources.tasks.reader, procRoot, list, readerTid);
  const settled = (): number => (seed ??= settledActive(active(), active));
  // A container too large to count at a rendering (issue 17) is not warm-started here
  // either: until the sampler counts it, it shows what the census has (0, or scaled).
  const fallback = (): LoadAverages => seededAverages(census.exact ? settled() : census.running + census.blocked);
  const averages = table.read(list, now, () => ({ active: settled(), total: census.total })) ?? fallback();
  const running = Math.max(1, census.running);
  const lastPid = level === 'host' ? readHostLoadavg(procRoot).lastPid : level === 'gone' ? 0 : census.newestNsPid;
  return { averages, running, total: Math.max(running, census.total), lastPid };
}

/** The kernel's `%lu.%02lu %lu.%02lu %lu.%02lu %u/%d %d\n`. */
export function render(snapshot: LoadavgSnapshot): string {
  if ('host' in snapshot) return snapshot.host;
  const [one, five, fifteen] = snapshot.averages.map(formatLoad);
  return `${one} ${five} ${fifteen} ${snapshot.running}/${snapshot.total} ${snapshot.lastPid}\n`;
}

/** The proc/loadavg view of a worker, reading the table that the main thread's sampler fills. */
export function createLoadavgView(table: LoadavgTable, now: () => number = monotonicMs): FileView {
  return (context) => render(collect(context, table, now()));
}
