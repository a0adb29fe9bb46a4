// The host's /proc/stat (fs/proc/stat.c show_stat): the aggregate `cpu` line, one
// `cpuN` line per online CPU (ten USER_HZ counters each), and the other lines
// (intr, ctxt, btime, processes, procs_running, procs_blocked, softirq) kept whole.
import { join } from 'node:path';
import { CgprocfsError } from '../errors.js';
import { lines, readText } from './files.js';

/** user nice system idle iowait irq softirq steal guest guest_nice, in USER_HZ ticks. */
export type CpuTicks = readonly number[];

export interface HostStatLine {
  /** The first word: `intr`, `ctxt`, `processes`... */
  readonly key: string;
  readonly text: string;
}

export interface HostStat {
  /** The file as the kernel wrote it: the view of the root cgroup. */
  readonly text: string;
  readonly aggregate: CpuTicks;
  /** Online CPU id -> its counters, ascending. */
  readonly cpus: ReadonlyMap<number, CpuTicks>;
  /** Every line that is not a cpu line, in the kernel's order. */
  readonly others: readonly HostStatLine[];
}

const CPU_LINE = /^cpu(\d*)((?: \d+)+)\s*$/;

export function parseHostStat(text: string, source: string): HostStat {
  let aggregate: CpuTicks | undefined;
  const cpus = new Map<number, CpuTicks>();
  const others: HostStatLine[] = [];
  for (const line of lines(text)) {
    const match = CPU_LINE.exec(line.replace(/^cpu {2}/, 'cpu '));
    if (match === null) {
      if (line.startsWith('cpu')) {
        throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: bad line ${JSON.stringify(line)}`);
      }
      others.push({ key: line.split(' ', 1)[0]!, text: line });
      continue;
    }
    const ticks = match[2]!.trim().split(' ').map(Number);
    if (match[1] === '') aggregate = ticks;
    else cpus.set(Number(match[1]), ticks);
  }
  if (aggregate === undefined) throw new CgprocfsError('SOURCE_UNREADABLE', `${source} has no cpu line`);
  return { text, aggregate, cpus: new Map([...cpus].sort(([a], [b]) => a - b)), others };
}

export function readHostStat(procRoot: string): HostStat {
  const path = join(procRoot, 'stat');
  return parseHostStat(readText(path), path);
}

/** The host's online CPUs: the ones /proc/stat has a line for. */
export function onlineCpus(stat: HostStat): number[] {
  return [...stat.cpus.keys()];
}
