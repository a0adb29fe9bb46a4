// Which pid namespace level a view's pids are shown at, so no file shows a container
// a host pid: a container's init sees pids at its own NSpid level, and so does a reader
// resolved to itself in a namespace below the daemon's; anyone else sees host pids.
import { join } from 'node:path';
import type { ViewTarget } from '../caller/resolver.js';
import { parseStatus } from '../caller/process.js';
import { readOptionalText } from '../host/files.js';

/** Whose pids the reader sees: an NSpid index, the host's, or nobody's (its init is gone). */
export type PidLevel = number | 'host' | 'gone';

function namespaceDepth(procRoot: string, pid: number | 'self'): number | undefined {
  const path = join(procRoot, String(pid), 'status');
  const text = readOptionalText(path);
  return text === undefined ? undefined : parseStatus(text, path).nspid.length;
}

/**
 * Levels already worked out, per target. A task's pid namespace never changes, so a
 * target keeps its level for life; the caller cache keeps a target object only while
 * its process lives in the same cgroups, so a memo here never outlives its task.
 */
const levels = new WeakMap<ViewTarget, PidLevel>();
/** The daemon's own namespace depth, per procRoot: it never changes either. */
const daemonDepths = new Map<string, number | undefined>();

/**
 * A container's init sees pids at its own NSpid level. So does a reader resolved to
 * itself (`--resolve caller`) in a namespace below the daemon's; anyone else sees host pids.
 */
export function pidLevel(procRoot: string, target: ViewTarget): PidLevel {
  if (target.pid === undefined) return 'host';
  let level = levels.get(target);
  if (level === undefined) {
    level = levelOf(procRoot, target.pid, target.containerInit);
    levels.set(target, level);
  }
  return level;
}

function levelOf(procRoot: string, pid: number, containerInit: boolean): PidLevel {
  const depth = namespaceDepth(procRoot, pid);
  if (depth === undefined) return containerInit ? 'gone' : 'host';
  if (containerInit) return depth - 1;
  if (!daemonDepths.has(procRoot)) daemonDepths.set(procRoot, namespaceDepth(procRoot, 'self'));
  const daemonDepth = daemonDepths.get(procRoot);
  return daemonDepth !== undefined && depth > daemonDepth ? depth - 1 : 'host';
}
