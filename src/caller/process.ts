// The per-thread files of a proc root that say who a thread is: its pid namespace
// link (`pid:[4026531836]`), its status (Tgid, PPid, NSpid) and its cgroup
// membership. /proc/<tid>/... works for any thread id, listed or not.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CgprocfsError } from '../errors.js';
import { readOptionalLink, readOptionalText } from '../host/files.js';
import { statusNumbers } from '../host/pid-files.js';

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

function statusField(text: string, key: Parameters<typeof statusNumbers>[1], source: string): number[] {
  const values = statusNumbers(text, key);
  if (values === undefined) throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: no valid ${key} line`);
  return values;
}

export function parseStatus(text: string, source = 'status'): ProcessStatus {
  const [tgid = 0] = statusField(text, 'Tgid', source);
  const [ppid = 0] = statusField(text, 'PPid', source);
  return { tgid, ppid, nspid: statusField(text, 'NSpid', source) };
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
