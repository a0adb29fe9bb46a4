// Which pid namespace level a view's pids are shown at, so no file shows a container
// a host pid: a container's init sees pids at its own NSpid level, and so does a reader
// resolved to itself in a namespace below the daemon's; anyone else sees host pids.
import { join } from 'node:path';
import type { ViewTarget } from '../caller/target.js';
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
 * The pid levels of one view service's targets. A task's pid namespace never changes, so
 * a target keeps its level for life; the caller cache keeps a target object only while its
 * process lives in the same cgroups, so a level here never outlives its task.
 */
export class PidLevels {
  private readonly levels = new WeakMap<ViewTarget, PidLevel>();
  /** The daemon's own namespace depth: it never changes either (null: not read yet). */
  private daemonDepth: number | undefined | null = null;

  constructor(private readonly procRoot: string) {}

  /**
   * A container's init sees pids at its own NSpid level. So does a reader resolved to
   * itself (`--resolve caller`) in a namespace below the daemon's; anyone else sees host pids.
   */
  of(target: ViewTarget): PidLevel {
    if (target.pid === undefined) return 'host';
    let level = this.levels.get(target);
    if (level === undefined) {
      level = this.levelOf(target.pid, target.containerInit);
      this.levels.set(target, level);
    }
    return level;
  }

  private levelOf(pid: number, containerInit: boolean): PidLevel {
    const depth = namespaceDepth(this.procRoot, pid);
    if (depth === undefined) return containerInit ? 'gone' : 'host';
    if (containerInit) return depth - 1;
    if (this.daemonDepth === null) this.daemonDepth = namespaceDepth(this.procRoot, 'self');
    return this.daemonDepth !== undefined && depth > this.daemonDepth ? depth - 1 : 'host';
  }
}
