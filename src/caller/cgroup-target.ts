// The view of an explicit cgroup (`cgprocfs render --cgroup`), dated as the mount dates
// the container in it: from the init of a pid namespace among its tasks (the outermost,
// if it holds nested ones), else from its oldest task; with no task, from the host's
// boot. Which one was used is part of the answer, so the CLI can say it (issue 21).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeCgroupPath } from '../cgroup/hierarchy.js';
import type { CgroupLayout } from '../cgroup/layout.js';
import { uniformPaths } from '../cgroup/membership.js';
import { subtreeTasks, taskListOf } from '../cgroup/tasks.js';
import { cgroupViewOf, type CgroupView } from '../cgroup/view.js';
import { CgprocfsError } from '../errors.js';
import { readStartTime } from '../host/uptime.js';
import { tolerant } from './namespace-init.js';
import { isNamespaceInit, ProcessFiles } from './process.js';
import type { ViewTarget } from './target.js';

/** What dates an explicit cgroup's view: a namespace init, its oldest task, or nothing (the host's boot). */
export type CgroupDating =
  | { readonly kind: 'init' | 'oldest'; readonly pid: number }
  | { readonly kind: 'host' };

export interface CgroupTarget {
  readonly target: ViewTarget;
  readonly dating: CgroupDating;
}

/** A pid namespace init of the cgroup's tasks below the daemon's own namespace, the outermost first. */
function namespaceInit(processes: ProcessFiles, tids: readonly number[]): number | undefined {
  const daemonDepth = processes.status(process.pid)?.nspid.length ?? 1;
  let found: { pid: number; depth: number } | undefined;
  for (const tid of tids) {
    const status = tolerant(() => processes.status(tid));
    // A thread's status shows its own ids: only an init's main thread has 1 innermost.
    if (status === undefined || !isNamespaceInit(status) || status.nspid.length <= daemonDepth) continue;
    if (found === undefined || status.nspid.length < found.depth) found = { pid: tid, depth: status.nspid.length };
  }
  return found?.pid;
}

function oldestTask(procRoot: string, tids: readonly number[]): number | undefined {
  let oldest: { pid: number; start: number } | undefined;
  for (const tid of tids) {
    const start = tolerant(() => readStartTime(procRoot, tid));
    if (start !== undefined && (oldest === undefined || start < oldest.start)) oldest = { pid: tid, start };
  }
  return oldest?.pid;
}

function datingOf(procRoot: string, layout: CgroupLayout, cgroups: CgroupView): CgroupDating {
  const list = taskListOf(layout, cgroups);
  const tids = list === undefined ? [] : (subtreeTasks(list.dir, list.file) ?? []);
  const init = namespaceInit(new ProcessFiles(procRoot), tids);
  if (init !== undefined) return { kind: 'init', pid: init };
  const oldest = oldestTask(procRoot, tids);
  return oldest === undefined ? { kind: 'host' } : { kind: 'oldest', pid: oldest };
}

/** The view of `cgroupPath` (the same path on every hierarchy) and what dates it. */
export function cgroupTarget(procRoot: string, layout: CgroupLayout, cgroupPath: string): CgroupTarget {
  const path = normalizeCgroupPath(cgroupPath);
  if (path === undefined) throw new CgprocfsError('USAGE', `cgroup path ${cgroupPath} leaves the hierarchy`);
  // Checked here, once, so a mistyped id is named as such, not as a missing cgroup file (issue 16).
  if (![...layout.controllers.values()].some((hierarchy) => existsSync(join(hierarchy.mount, path)))) {
    throw new CgprocfsError('NO_SUCH_CGROUP', `no such cgroup ${cgroupPath} (give the full path, e.g. /docker/<64-hex id>)`);
  }
  const cgroups = cgroupViewOf(uniformPaths(path));
  const dating = datingOf(procRoot, layout, cgroups);
  const base = { cgroups, key: `cgroup ${path}` };
  if (dating.kind === 'init') return { target: { ...base, pid: dating.pid, containerInit: true }, dating };
  const datedBy = dating.kind === 'oldest' ? dating.pid : undefined;
  return { target: { ...base, pid: undefined, containerInit: false, datedBy }, dating };
}

/** One line for the render command: which process the uptime of `path`'s view counts from. */
export function describeDating(path: string, dating: CgroupDating): string {
  if (dating.kind === 'init') return `${path}: uptime counted from pid ${dating.pid}, the init of its pid namespace`;
  if (dating.kind === 'oldest') return `${path}: uptime counted from pid ${dating.pid}, its oldest task (no pid namespace init in it)`;
  return `${path}: uptime is the host's (no task in the cgroup)`;
}
