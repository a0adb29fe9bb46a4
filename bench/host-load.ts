// How busy the host was during a phase, and how much of that was the bench itself (issue
// 22: figures from a shared machine are only worth what its other tenants left). Busy is
// a share of all CPUs, from /proc/stat; the bench's share is its own CPU time, its
// readers' (reaped children: cutime/cstime) and the daemons'.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { sampleGroup } from './proc.js';

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

/** utime, stime, cutime and cstime of this process (its reaped readers included). */
function ownTicks(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0);
}

/** Starts measuring; the returned function ends the window and says how busy it was. */
export function loadWindow(daemonPids: () => number[]): () => PhaseLoad {
  const host = hostTicks();
  const own = ownTicks() + sampleGroup(daemonPids()).cpuTicks;
  return () => {
    const hostNow = hostTicks();
    const total = hostNow.total - host.total;
    const hostBusy = total > 0 ? (hostNow.busy - host.busy) / total : 0;
    // The daemons' ticks are per process, /proc/stat's per CPU: both in USER_HZ.
    const benchTicks = ownTicks() + sampleGroup(daemonPids()).cpuTicks - own;
    const benchBusy = total > 0 ? Math.min(hostBusy, benchTicks / total) : 0;
    return { hostBusy, benchBusy, othersBusy: hostBusy - benchBusy, loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') };
  };
}

export function describeLoad(phase: string, load: PhaseLoad): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `${phase}: CPUs ${pct(load.hostBusy)} busy, the bench ${pct(load.benchBusy)}, others ${pct(load.othersBusy)}; loadavg ${load.loadavg} (${cpus().length} CPUs)`;
}

