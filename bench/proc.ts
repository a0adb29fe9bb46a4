// What the bench reads about processes from /proc: CPU time, RSS and open fds of a
// daemon's processes, a process's children, and its state.
import { readdirSync, readFileSync } from 'node:fs';
import { runCommand } from './exec.js';

/** Clock ticks per second of utime/stime (USER_HZ). */
export const CLK_TCK = Number(runCommand('getconf', ['CLK_TCK']).stdout.trim()) || 100;
const PAGE_KB = (Number(runCommand('getconf', ['PAGESIZE']).stdout.trim()) || 4096) / 1024;

export interface ProcSample {
  pid: number;
  /** utime + stime of every thread, in clock ticks. */
  cpuTicks: number;
  rssKb: number;
  /**
   * Proportional set size: pages shared with other processes (the node binary of a
   * supervisor and its server) counted once between them, not once in each.
   */
  pssKb: number;
  fds: number;
}

/** Fields of /proc/<pid>/stat after the command name; [0] is the state. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** RssAnon, RssFile and RssShmem of /proc/<pid>/status, kB (0 when unreadable). */
export function rssSplit(pid: number): { anon: number; file: number; shmem: number } {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // Gone.
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}

export function sampleProcess(pid: number): ProcSample | undefined {
  const f = statFields(pid);
  if (!f || f[0] === 'Z') return undefined;
  // After the name: state(3) ppid(4) ... utime(14) stime(15) ... rss(24), numbered as in proc(5).
  const field = (n: number) => Number(f[n - 3]);
  let fds = 0;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
  return { pid, cpuTicks: field(14) + field(15), rssKb: field(24) * PAGE_KB, pssKb: pssKbOf(pid), fds };
}

/** Pss of /proc/<pid>/smaps_rollup, kB (0 when unreadable). */
function pssKbOf(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Direct children of `pid`, from every thread's children list. */
export function childrenOf(pid: number): number[] {
  const found = new Set<number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      for (const child of text.split(' ').filter(Boolean)) found.add(Number(child));
    }
  } catch {
    // Gone, or no CONFIG_PROC_CHILDREN: no children known.
  }
  return [...found];
}

/** Summed over processes: what a daemon costs as a whole. */
export interface GroupSample {
  cpuTicks: number;
  rssKb: number;
  pssKb: number;
  fds: number;
  processes: ProcSample[];
}

export function sampleGroup(pids: readonly number[]): GroupSample {
  const processes = pids.map(sampleProcess).filter((s): s is ProcSample => s !== undefined);
  return {
    cpuTicks: processes.reduce((a, s) => a + s.cpuTicks, 0),
    rssKb: processes.reduce((a, s) => a + s.rssKb, 0),
    pssKb: processes.reduce((a, s) => a + s.pssKb, 0),
    fds: processes.reduce((a, s) => a + s.fds, 0),
    processes,
  };
}

export function hostMemTotalKb(): number {
  const m = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  if (!m?.[1]) throw new Error('no MemTotal in /proc/meminfo');
  return Number(m[1]);
}
