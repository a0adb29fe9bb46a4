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
 * A container's init sees pids at its own NSpid level. So does a reader resolved to
 * itself (`--resolve caller`) in a namespace below the daemon's; anyone else sees host pids.
 */
export function pidLevel(procRoot: string, target: ViewTarget): PidLevel {
  if (target.pid === undefined) return 'host';
  const depth = namespaceDepth(procRoot, target.pid);
  if (depth === undefined) return target.containerInit ? 'gone' : 'host';
  if (target.containerInit) return depth - 1;
  const daemonDepth = namespaceDepth(procRoot, 'self');
  return daemonDepth !== undefined && depth > daemonDepth ? depth - 1 : 'host';
}

