// The tasks (threads) of a cgroup and all its descendants, and what they are doing:
// the kernel's "running" (R) and "uninterruptible" (D) counts for loadavg and
// /proc/stat, and the newest pid in a pid namespace for last_pid and `processes`.
// A cgroup's own task list is not recursive, so the subtree is walked.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lines, readOptionalText, subdirectoryNames } from '../host/files.js';
import { monotonicMs } from '../shared/clock.js';
import { LruMap } from '../shared/lru.js';
import { ROOT_CGROUP } from './hierarchy.js';
import type { CgroupLayout } from './layout.js';
import type { TaskReader, TaskReading } from './task-reader.js';
import { locate, type CgroupView } from './view.js';

export interface TaskCensus {
  /** Tasks in state R (running or runnable). */
  readonly running: number;
  /** Tasks in state D (uninterruptible sleep), which the kernel's loadavg counts too. */
  readonly blocked: number;
  /** Every task counted. */
  readonly total: number;
  /** The largest pid among the tasks, in the innermost namespace or at a given level (0 when none). */
  readonly newestNsPid: number;
  /**
   * False when the time budget ran out before every task was read: running, blocked,
   * total and switches are then scaled from the tasks read to the tasks listed, and
   * newestNsPid is the newest among the tasks read.
   */
  readonly exact: boolean;
  /** The tasks' context switches, when the census was asked to count them (0 otherwise). */
  readonly switches: number;
}

/** A census as the sampler keeps it: also the task that started last among those read. */
export interface SampledCensus extends TaskCensus {
  /** Host thread id of the task read that started last (0 when none): its pids give a sampled container's last pid. */
  readonly newestTid: number;
}

/** The file that lists a cgroup's own threads: v1 `tasks`, v2 `cgroup.threads`. */
export type TaskListFile = 'tasks' | 'cgroup.threads';

/** Where the tasks of a cgroup are listed. */
export interface TaskList {
  /** The cgroup's directory on the hierarchy chosen. */
  readonly dir: string;
  readonly file: TaskListFile;
  /** The cgroup's normalized path on that hierarchy ('/' for the root cgroup). */
  readonly path: string;
}

const THREAD_LIST: Readonly<Record<1 | 2, TaskListFile>> = { 1: 'tasks', 2: 'cgroup.threads' };
/** Hierarchies that hold every task (v1 mounts each controller apart), in order of preference. */
const TASK_CONTROLLERS = ['cpu', 'pids', 'cpuacct', 'memory'] as const;
/**
 * Most thread ids taken from a subtree's lists: a bound on memory, not on time (the
 * census's time budget bounds that), far above any real container.
 */
export const MAX_LISTED_TASKS = 1 << 20;
/** Kernel task states that count towards the load: runnable, and uninterruptible sleep. */
const RUNNING = 'R';
const UNINTERRUPTIBLE = 'D';

/** The first task-holding hierarchy on which the cgroup exists and lists its threads. */
export function taskListOf(layout: CgroupLayout, view: CgroupView): TaskList | undefined {
  for (const controller of TASK_CONTROLLERS) {
    const at = locate(layout, view, controller);
    const path = at?.place.path;
    if (at === undefined || path === undefined) continue;
    const list: TaskList = { dir: join(at.mount, path), file: THREAD_LIST[at.version], path };
    if (existsSync(join(list.dir, list.file))) return list;
  }
  return undefined;
}

/**
 * Thread ids of the cgroup at `dir` and its descendants (depth first, at most
 * `limit`); undefined when the cgroup itself is gone.
 */
export function subtreeTasks(dir: string, listFile: TaskListFile, limit = MAX_LISTED_TASKS): number[] | undefined {
  const own = readOptionalText(join(dir, listFile));
  if (own === undefined) return undefined;
  const tids = parseTids(own);
  const pending = subdirectories(dir);
  while (pending.length > 0 && tids.length < limit) {
    const current = pending.pop()!;
    // A cgroup removed while we walk it simply has no more tasks.
    for (const tid of parseTids(readOptionalText(join(current, listFile)) ?? '')) tids.push(tid);
    pending.push(...subdirectories(current));
  }
  return tids.slice(0, limit);
}

function parseTids(text: string): number[] {
  return lines(text).map(Number).filter((tid) => Number.isSafeInteger(tid) && tid > 0);
}

/**
 * A leaf cgroup, the usual container, is not listed: a directory's link count is 2
 * plus its subdirectories on cgroupfs (and on the filesystems of fixture trees), and
 * one stat costs a third of a listing. A filesystem that does not count (btrfs shows
 * 1) is listed.
 */
function subdirectories(dir: string): string[] {
  if (statSync(dir, { throwIfNoEntry: false })?.nlink === LEAF_DIRECTORY_LINKS) return [];
  return subdirectoryNames(dir).map((name) => join(dir, name));
}

/** The links of a directory without subdirectories: its entry in the parent, and its own `.`. */
const LEAF_DIRECTORY_LINKS = 2;

export interface CensusOptions {
  /** Which NSpid entry newestNsPid reports (0 = the outermost namespace); tasks outside a namespace that deep are ignored for it. */
  readonly nsLevel?: number;
  /** Time for reading tasks, ms (default: no limit); the listing is not cut short. */
  readonly budgetMs?: number;
  /** Count the tasks' context switches too (one more read per task). */
  readonly switches?: boolean;
  readonly clock?: () => number;
}

/**
 * Counts the tasks of a cgroup subtree through `reader`, or undefined when the cgroup
 * is gone; tasks that exit meanwhile are skipped. A census whose budget runs out
 * stops reading and scales what it read; the next census of the same list starts
 * where it stopped, so every task is read in turn.
 */
export class CensusTaker {
  /** Where the next census of a list (by directory) starts reading. */
  private readonly cursors = new LruMap<string, number>(CURSORS_LIMIT);

  constructor(readonly reader: TaskReader, private readonly clock: () => number = monotonicMs) {}

  census(list: Pick<TaskList, 'dir' | 'file'>, options: CensusOptions = {}): SampledCensus | undefined {
    const tids = subtreeTasks(list.dir, list.file);
    if (tids === undefined) return undefined;
    const clock = options.clock ?? this.clock;
    const deadline = options.budgetMs === undefined ? Infinity : clock() + options.budgetMs;
    const from = tids.length === 0 ? 0 : (this.cursors.get(list.dir) ?? 0) % tids.length;
    const tally = new Tally(options.nsLevel);
    let tried = 0;
    while (tried < tids.length && (tried === 0 || clock() < deadline)) {
      const tid = tids[(from + tried) % tids.length]!;
      const task = this.reader.read(tid);
      tally.add(tid, task, task !== undefined && options.switches === true ? this.reader.switches(tid) : 0);
      tried++;
    }
    if (tried < tids.length) this.cursors.set(list.dir, from + tried);
    else this.cursors.delete(list.dir);
    return tally.census(tried, tids.length);
  }
}

/** Cgroups whose interrupted census is remembered, per census taker. */
const CURSORS_LIMIT = 4096;

/** Counts of the tasks read so far in one census. */
class Tally {
  private running = 0;
  private blocked = 0;
  private alive = 0;
  private newestNsPid = 0;
  private switches = 0;
  private newest = { tid: 0, start: -1 };

  constructor(private readonly nsLevel: number | undefined) {}

  add(tid: number, task: TaskReading | undefined, switches: number): void {
    if (task === undefined) return;
    this.alive++;
    this.switches += switches;
    if (task.state === RUNNING) this.running++;
    else if (task.state === UNINTERRUPTIBLE) this.blocked++;
    const pid = this.nsLevel === undefined ? task.nspid.at(-1) : task.nspid[this.nsLevel];
    if (pid !== undefined) this.newestNsPid = Math.max(this.newestNsPid, pid);
    const start = Number(task.start);
    if (start > this.newest.start || (start === this.newest.start && tid > this.newest.tid)) this.newest = { tid, start };
  }

  /** The census, scaled from `tried` of `listed` tasks when not all were tried. */
  census(tried: number, listed: number): SampledCensus {
    const exact = tried === listed;
    const scale = (n: number): number => (exact ? n : Math.round((n * listed) / tried));
    return {
      running: scale(this.running),
      blocked: scale(this.blocked),
      total: scale(this.alive),
      newestNsPid: this.newestNsPid,
      exact,
      switches: scale(this.switches),
      newestTid: this.newest.tid,
    };
  }
}

/** No tasks: the census of a cgroup that is gone or lists nothing. */
export const NO_TASKS: SampledCensus = { running: 0, blocked: 0, total: 0, newestNsPid: 0, exact: true, switches: 0, newestTid: 0 };

/**
 * The number of tasks in the view's cgroup subtree, from the pids controller's
 * `pids.current` (one small read, however many tasks); undefined where that
 * controller is not on the cgroup.
 */
export function pidsCurrent(layout: CgroupLayout, view: CgroupView): number | undefined {
  const at = locate(layout, view, 'pids');
  const path = at?.place.path;
  if (at === undefined || path === undefined || path === ROOT_CGROUP) return undefined;
  const text = readOptionalText(join(at.mount, path, 'pids.current'));
  const count = Number(text?.trim());
  return text !== undefined && Number.isSafeInteger(count) && count >= 0 ? count : undefined;
}
