// The per-thread files of a proc root that say who a thread is: its pid namespace
// link (`pid:[4026531836]`), its status (Tgid, PPid, NSpid) and its cgroup
// membership. /proc/<tid>/... works for any thread id, listed or not.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CgprocfsError } from '../errors.js';
import { lines, readOptionalLink, readOptionalText } from '../host/files.js';

export interface ProcessStatus {
  /** The thread group (process) the thread belongs to. */
  readonly tgid: number;
  /** The process's parent; 0 for a namespace's first process seen from outside it. */
  readonly ppid: number;
  /** The thread's id in each pid namespace it is in, outermost first. */
  readonly nspid: readonly number[];
}

/** The innermost NSpid value 1 marks the init (child reaper) of the innermost namespace. */
const INIT_NSPID = 1;

function statusField(fields: ReadonlyMap<string, string>, key: string, source: string): number[] {
  const values = fields.get(key)?.split(/\s+/).filter(Boolean).map(Number);
  if (values === undefined || values.length === 0 || values.some((value) => !Number.isInteger(value))) {
    throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: no valid ${key} line`);
  }
  return values;
}

export function parseStatus(text: string, source = 'status'): ProcessStatus {
  const fields = new Map<string, string>();
  for (const line of lines(text)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  const [tgid = 0] = statusField(fields, 'Tgid', source);
  const [ppid = 0] = statusField(fields, 'PPid', source);
  return { tgid, ppid, nspid: statusField(fields, 'NSpid', source) };
}

export function isNamespaceInit(status: ProcessStatus): boolean {
  return status.nspid.at(-1) === INIT_NSPID;
}

/** Reads per-pid files under one proc root; undefined where the process is gone. */
export class ProcessFiles {
  constructor(readonly procRoot: string) {}

  pidNamespace(pid: number | 'self'): string | undefined {
    return readOptionalLink(join(this.procRoot, String(pid), 'ns', 'pid'));
  }

  status(pid: number): ProcessStatus | undefined {
    const path = join(this.procRoot, String(pid), 'status');
    const text = readOptionalText(path);
    return text === undefined ? undefined : parseStatus(text, path);
  }

  cgroupText(pid: number): string | undefined {
    return readOptionalText(join(this.procRoot, String(pid), 'cgroup'));
  }

  /** Numeric entries of the proc root: the processes (not threads) it lists. */
  listedPids(): number[] {
    return readdirSync(this.procRoot)
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  }
}
