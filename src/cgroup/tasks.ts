// The tasks (threads) of a cgroup and all its descendants, and what they are doing:
// the kernel's "running" (R) and "uninterruptible" (D) counts for loadavg and
// /proc/stat, and the newest pid in the innermost pid namespace for last_pid and
// `processes`. A cgroup's own task list is not recursive, so the subtree is walked.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isAbsentError, lines, readOptionalText } from '../host/files.js';
import { hierarchyOf, type CgroupLayout } from './layout.js';
import type { CgroupPaths } from './membership.js';

export interface TaskCensus {
  /** Tasks in state R (running or runnable). */
  readonly running: number;
  /** Tasks in state D (uninterruptible sleep), which the kernel's loadavg counts too. */
  readonly blocked: number;
  /** Every task counted. */
  readonly total: number;
  /** The largest innermost-namespace pid among the tasks (0 when there are none). */
  readonly newestNsPid: number;
}

/** Which file lists a cgroup's own threads on each version. */
const THREAD_LIST = { 1: 'tasks', 2: 'cgroup.threads' } as const;
/** The hierarchies that hold every task, in order of preference. */
const TASK_CONTROLLERS = ['cpu', 'pids', 'cpuacct', 'memory'] as const;
/** Bounds the work of one census on an enormous cgroup; the counts then cover this many tasks. */
export const MAX_CENSUS_TASKS = 100_000;

function taskHierarchy(layout: CgroupLayout, paths: CgroupPaths): { dir: string; list: string } | undefined {
  for (const controller of TASK_CONTROLLERS) {
    if (!layout.controllers.has(controller)) continue;
    const { version, mount } = hierarchyOf(layout, controller);
    const path = paths(controller, version);
    if (path !== undefined && !path.split('/').includes('..')) return { dir: join(mount, path), list: THREAD_LIST[version] };
  }
  return undefined;
}

/** Thread ids of the cgroup at `dir` and its descendants (depth first, bounded). */
export function subtreeTasks(dir: string, listFile: string, limit = MAX_CENSUS_TASKS): number[] {
  const tids: number[] = [];
  const pending = [dir];
  while (pending.length > 0 && tids.length < limit) {
    const current = pending.pop()!;
    for (const line of lines(readOptionalText(join(current, listFile)) ?? '')) tids.push(Number(line));
    try {
      for (const entry of readdirSync(current, { withFileTypes: true })) {
        if (entry.isDirectory()) pending.push(join(current, entry.name));
      }
    } catch (error) {
      // A cgroup removed while we walk it simply has no more tasks.
      if (!isAbsentError(error)) throw error;
    }
  }
  return tids.slice(0, limit);
}

/** State letter and innermost pid from a /proc/<tid>/status text. */
export function parseTaskStatus(text: string): { state: string; nsPid: number } {
  const state = /^State:\s+(\S)/m.exec(text)?.[1] ?? '?';
  const nspid = /^NSpid:\s+([\d\s]+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  return { state, nsPid: Number(nspid.at(-1) ?? 0) };
}

/** Counts the tasks of the view's cgroup subtree; tasks that exit meanwhile are skipped. */
export function taskCensus(procRoot: string, layout: CgroupLayout, paths: CgroupPaths): TaskCensus {
  const census = { running: 0, blocked: 0, total: 0, newestNsPid: 0 };
  const where = taskHierarchy(layout, paths);
  if (where === undefined) return census;
  for (const tid of subtreeTasks(where.dir, where.list)) {
    const text = readOptionalText(join(procRoot, String(tid), 'status'));
    if (text === undefined) continue;
    const { state, nsPid } = parseTaskStatus(text);
    census.total++;
    if (state === 'R') census.running++;
    else if (state === 'D') census.blocked++;
    census.newestNsPid = Math.max(census.newestNsPid, nsPid);
  }
  return census;
}
