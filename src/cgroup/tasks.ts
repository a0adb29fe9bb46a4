// The tasks (threads) of a cgroup and all its descendants, and what they are doing:
// the kernel's "running" (R) and "uninterruptible" (D) counts for loadavg and
// /proc/stat, and the newest pid in a pid namespace for last_pid and `processes`.
// A cgroup's own task list is not recursive, so the subtree is walked.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lines, readOptionalText, subdirectoryNames } from '../host/files.js';
import { normalizeCgroupPath } from './hierarchy.js';
import type { CgroupLayout } from './layout.js';
import type { CgroupPaths } from './membership.js';

export interface TaskCensus {
  /** Tasks in state R (running or runnable). */
  readonly running: number;
  /** Tasks in state D (uninterruptible sleep), which the kernel's loadavg counts too. */
  readonly blocked: number;
  /** Every task counted. */
  readonly total: number;
  /** The largest pid among the tasks, in the innermost namespace or at a given level (0 when none). */
  readonly newestNsPid: number;
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
 * Bounds the work one open of stat or loadavg does for a huge container (one stat
 * read per task, about 6 µs each, and a status read the first time): past this
 * many tasks the counts cover the first ones only, so one tenant with tens of
 * thousands of threads cannot tie up the workers that serve everyone else (README,
 * "What the files show").
 */
export const MAX_CENSUS_TASKS = 4096;
/** Kernel task states that count towards the load: runnable, and uninterruptible sleep. */
const RUNNING = 'R';
const UNINTERRUPTIBLE = 'D';

/** The first task-holding hierarchy on which the cgroup exists and lists its threads. */
export function taskListOf(layout: CgroupLayout, paths: CgroupPaths): TaskList | undefined {
  for (const controller of TASK_CONTROLLERS) {
    const hierarchy = layout.controllers.get(controller);
    if (hierarchy === undefined) continue;
    const raw = paths(controller, hierarchy.version);
    const path = raw === undefined ? undefined : normalizeCgroupPath(raw);
    if (path === undefined) continue;
    const list: TaskList = { dir: join(hierarchy.mount, path), file: THREAD_LIST[hierarchy.version], path };
    if (existsSync(join(list.dir, list.file))) return list;
  }
  return undefined;
}

/**
 * Thread ids of the cgroup at `dir` and its descendants (depth first, at most
 * `limit`); undefined when the cgroup itself is gone.
 */
export function subtreeTasks(dir: string, listFile: TaskListFile, limit = MAX_CENSUS_TASKS): number[] | undefined {
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

/** A task's pids (outermost namespace first) from a /proc/<tid>/status text; [] without an NSpid line. */
export function parseTaskNsPids(text: string): number[] {
  return /^NSpid:\s+([\d\s]+)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
}

/** The state letter of a /proc/<tid>/stat text: the field after `(comm)`, which may hold spaces and parentheses. */
export function parseTaskStatState(text: string): string {
  const close = text.lastIndexOf(')');
  return close < 0 ? '?' : text.charAt(close + 2) || '?';
}

/**
 * State letter and start time (field 22, clock ticks after boot) of a /proc/<tid>/stat
 * text; start is '' when the text is cut short.
 */
export function parseTaskStat(text: string): { state: string; start: string } {
  const close = text.lastIndexOf(')');
  if (close < 0) return { state: '?', start: '' };
  // After ") ": state is field 3, start time field 22, so 19 spaces further on.
  let at = close + 2;
  for (let field = 3; field < 22 && at > 0; field++) at = text.indexOf(' ', at) + 1;
  const end = text.indexOf(' ', at);
  return { state: parseTaskStatState(text), start: at > 0 && end > at ? text.slice(at, end) : '' };
}

/**
 * A task's pids (NSpid) never change while it lives, and a thread id that comes back
 * with another start time is another task: so status, which costs twice what stat
 * costs, is read once per task, not at every census. Per procRoot, bounded.
 */
const NSPID_MEMO_LIMIT = 16384;
const nspidMemos = new Map<string, Map<number, { start: string; nspid: number[] }>>();

function nspidOf(procRoot: string, tid: number, start: string): number[] | undefined {
  let memo = nspidMemos.get(procRoot);
  if (memo === undefined) nspidMemos.set(procRoot, (memo = new Map()));
  const known = memo.get(tid);
  if (known !== undefined && start !== '' && known.start === start) return known.nspid;
  const text = readOptionalText(join(procRoot, String(tid), 'status'));
  if (text === undefined) return undefined;
  const nspid = parseTaskNsPids(text);
  if (start !== '') {
    if (memo.size >= NSPID_MEMO_LIMIT) memo.clear();
    memo.set(tid, { start, nspid });
  }
  return nspid;
}

/**
 * Counts the tasks of the cgroup subtree listed at `list`; tasks that exit meanwhile
 * are skipped. `nsLevel` picks which NSpid entry newestNsPid reports (0 = the
 * outermost namespace); tasks outside a namespace that deep are ignored for it.
 */
export function censusOf(procRoot: string, list: TaskList, nsLevel?: number): TaskCensus {
  const census = { running: 0, blocked: 0, total: 0, newestNsPid: 0 };
  for (const tid of subtreeTasks(list.dir, list.file) ?? []) {
    const stat = readOptionalText(join(procRoot, String(tid), 'stat'));
    if (stat === undefined) continue;
    const { state, start } = parseTaskStat(stat);
    const nspid = nspidOf(procRoot, tid, start);
    if (nspid === undefined) continue;
    census.total++;
    if (state === RUNNING) census.running++;
    else if (state === UNINTERRUPTIBLE) census.blocked++;
    const pid = nsLevel === undefined ? nspid.at(-1) : nspid[nsLevel];
    if (pid !== undefined) census.newestNsPid = Math.max(census.newestNsPid, pid);
  }
  return census;
}

/** Counts the tasks of the view's cgroup subtree (see censusOf for `nsLevel`). */
export function taskCensus(procRoot: string, layout: CgroupLayout, paths: CgroupPaths, nsLevel?: number): TaskCensus {
  const list = taskListOf(layout, paths);
  return list === undefined ? { running: 0, blocked: 0, total: 0, newestNsPid: 0 } : censusOf(procRoot, list, nsLevel);
}

/**
 * Running plus uninterruptible tasks of the subtree (the kernel's nr_active), from
 * /proc/<tid>/stat, which costs less than status; undefined when the cgroup is gone.
 */
export function activeTasks(procRoot: string, list: Pick<TaskList, 'dir' | 'file'>, limit: number): { active: number; total: number } | undefined {
  const tids = subtreeTasks(list.dir, list.file, limit);
  if (tids === undefined) return undefined;
  let active = 0;
  let total = 0;
  for (const tid of tids) {
    const text = readOptionalText(join(procRoot, String(tid), 'stat'));
    if (text === undefined) continue;
    total++;
    const state = parseTaskStatState(text);
    if (state === RUNNING || state === UNINTERRUPTIBLE) active++;
  }
  return { active, total };
}
