// How busy the host was during a phase, and how much of that was the bench itself (issue
// 22: figures from a shared machine are only worth what its other tenants left). Busy is
// a share of all CPUs, from /proc/stat; the bench's share is its own CPU time, its
// readers' (their cgroups' cpuacct.usage) and the daemons'.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { CLK_TCK, sampleGroup } from './proc.js';

export interface PhaseLoad {
  /** Share of all CPUs busy during the phase (0-1). */
  hostBusy: number;
  /** Share of all CPUs the bench, its readers and the daemons used. */
  benchBusy: number;
  /** What other tenants used: hostBusy - benchBusy. */
  othersBusy: number;
  /** /proc/loadavg's three averages at the phase's end. */
  loadavg: string;
}

/** Others above this share of the CPUs make a phase's figures worth repeating. */
export const OTHERS_BUSY_NOTE = 0.25;

/** Busy and total clock ticks of all CPUs (the "cpu" line of /proc/stat). */
function hostTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait are not busy.
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/** utime and stime of this process (its readers are counted through their cgroups). */
function ownTicks(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/**
 * Starts measuring; the returned function ends the window and says how busy it was.
 * `readerCpuSeconds` is the CPU the bench's cgroups used so far: readers run in them and
 * are not all reaped by the bench (a pid namespace's pid 1 outlives its parent), so
 * children's times would miss them.
 */
export function loadWindow(daemonPids: () => number[], readerCpuSeconds: () => number): () => PhaseLoad {
  const benchTicks = () => ownTicks() + sampleGroup(daemonPids()).cpuTicks + readerCpuSeconds() * CLK_TCK;
  const host = hostTicks();
  const own = benchTicks();
  return () => {
    const hostNow = hostTicks();
    const total = hostNow.total - host.total;
    const hostBusy = total > 0 ? (hostNow.busy - host.busy) / total : 0;
    // The daemons' ticks are per process, /proc/stat's per CPU: both in USER_HZ.
    const benchBusy = total > 0 ? Math.min(hostBusy, (benchTicks() - own) / total) : 0;
    return { hostBusy, benchBusy, othersBusy: hostBusy - benchBusy, loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') };
  };
}

export function describeLoad(phase: string, load: PhaseLoad): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `${phase}: CPUs ${pct(load.hostBusy)} busy, the bench ${pct(load.benchBusy)}, others ${pct(load.othersBusy)}; loadavg ${load.loadavg} (${cpus().length} CPUs)`;
}


/** Other tenants took more of the CPUs than the bench itself: the phase's figures say more about them. */
export function othersOutweighBench(load: PhaseLoad): boolean {
  return load.othersBusy > load.benchBusy;
}

/**
 * Runs `run` in a load window (`startWindow`); when others outweighed the bench, runs it
 * once more and keeps the quieter of the two (issue 22 item 3: the many-containers and
 * 32-reader rows). `attempts` lists the load of every run, the kept one at `kept`.
 */
export async function quieterOfTwo<T>(startWindow: () => () => PhaseLoad, run: () => Promise<T>): Promise<{ value: T; load: PhaseLoad; attempts: PhaseLoad[]; kept: number }> {
  const end = startWindow();
  const value = await run();
  const load = end();
  if (!othersOutweighBench(load)) return { value, load, attempts: [load], kept: 0 };
  const endAgain = startWindow();
  const again = await run();
  const loadAgain = endAgain();
  const attempts = [load, loadAgain];
  return loadAgain.othersBusy < load.othersBusy ? { value: again, load: loadAgain, attempts, kept: 1 } : { value, load, attempts, kept: 0 };
}

/** The note a phase that ran twice gets. */
export function describeRepeat(phase: string, attempts: readonly PhaseLoad[], kept: number): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `${phase} ran twice (others outweighed the bench: ${attempts.map((l) => `others ${pct(l.othersBusy)}, bench ${pct(l.benchBusy)}`).join('; then ')}); the ${kept === 0 ? 'first' : 'second'}, quieter, is shown`;
}
