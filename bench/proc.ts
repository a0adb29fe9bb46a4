// What the bench reads about processes from /proc: CPU time, RSS and open fds of a
// daemon's processes, a process's children, and its state.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

/** Where one process's memory is (issue 22), from /proc/<pid>/smaps. */
export interface ProcessMemory {
  pid: number;
  /** The script a node process runs (supervisor-entry.js, server-process.js), else the command name. */
  name: string;
  pssKb: number;
  /** Anonymous pages: JavaScript heaps, malloc, stacks, SharedArrayBuffers. */
  anonKb: number;
  /** The mapped executable (the node binary): shared with every process running it. */
  exeRssKb: number;
  exePssKb: number;
}

function processName(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const script = args.find((arg) => arg.endsWith('.js'));
    return script ? script.slice(script.lastIndexOf('/') + 1) : readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

export function processMemory(pid: number): ProcessMemory | undefined {
  let text: string;
  let exe: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
  const memory: ProcessMemory = { pid, name: processName(pid), pssKb: 0, anonKb: 0, exeRssKb: 0, exePssKb: 0 };
  let inExe = false;
  for (const line of text.split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      inExe = mapping[1] === exe;
      continue;
    }
    const field = /^(Rss|Pss|Anonymous):\s+(\d+) kB/.exec(line);
    if (!field) continue;
    const kb = Number(field[2]);
    if (field[1] === 'Pss') memory.pssKb += kb;
    if (field[1] === 'Anonymous') memory.anonKb += kb;
    if (inExe && field[1] === 'Rss') memory.exeRssKb += kb;
    if (inExe && field[1] === 'Pss') memory.exePssKb += kb;
  }
  return memory;
}

/**
 * PSS as a host running no other process of the same executable would see it: the
 * executable's pages counted once between these processes (the most any of them maps)
 * instead of shared with every other node process on this machine (the bench's own).
 */
export function pssAloneKb(memories: readonly ProcessMemory[]): number {
  const ownPages = memories.reduce((a, m) => a + m.pssKb - m.exePssKb, 0);
  return ownPages + Math.max(0, ...memories.map((m) => m.exeRssKb));
}
