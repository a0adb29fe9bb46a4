// The host's /proc/loadavg (`0.52 0.58 0.59 2/345 12345`): passed through for the
// root cgroup, and its last field (the last pid allocated in the host's namespace)
// for views whose readers see host pids anyway.
import { join } from 'node:path';
import { CgprocfsError } from '../errors.js';
import { readText } from './files.js';

export interface HostLoadavg {
  /** The file exactly as the kernel wrote it. */
  readonly text: string;
  readonly lastPid: number;
}

export function parseLoadavg(text: string, source = 'loadavg'): HostLoadavg {
  const fields = text.trim().split(/\s+/);
  const lastPid = Number(fields[4]);
  if (fields.length !== 5 || !/^\d+\/\d+$/.test(fields[3] ?? '') || !Number.isSafeInteger(lastPid)) {
    throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: not a loadavg line: ${JSON.stringify(text)}`);
  }
  return { text, lastPid };
}

export function readHostLoadavg(procRoot: string): HostLoadavg {
  const path = join(procRoot, 'loadavg');
  return parseLoadavg(readText(path), path);
}
