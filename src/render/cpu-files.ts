// The CPU files of the mount, built once per worker: cpuinfo, stat, uptime and the
// sys cpu lists, sharing one visible-CPU rule, one counter store and one clock.
import { readBootId } from '../host/uptime.js';
import { CpuCounterStore } from './cpu-counters.js';
import * as cpuSysfs from './cpu-sysfs.js';
import type { BtimePolicy, CpuViewDeps } from './cpu-times.js';
import type { CpuCountMode } from './cpu-view.js';
import * as cpuinfo from './cpuinfo.js';
import type { FileView } from './sources.js';
import * as stat from './stat.js';
import * as uptime from './uptime.js';
import { monotonicMicros } from '../shared/clock.js';

export { pruneCpuCounters } from './cpu-counters.js';
export { visibleCpus, type CpuCountMode } from './cpu-view.js';
export type { BtimePolicy } from './cpu-times.js';

export interface CpuViewOptions {
  /** `quota` (default): the first ceil(quota/period) CPUs of the cpuset; `cpuset`: all of it. */
  readonly cpuCount: CpuCountMode;
  /** btime: the host's boot (default) or the container's. */
  readonly btime?: BtimePolicy;
  /** Counter records go to `<stateDir>/cpu` (default /run/cgprocfs: tmpfs, cleared at boot). */
  readonly stateDir: string;
  /** Monotonic clock in µs; CLOCK_MONOTONIC (process.hrtime) by default. */
  readonly now?: () => bigint;
  /** Told of a counter record ignored for figures the kernel could not have given (issue 18). */
  readonly onIgnoredRecord?: (file: string, why: string) => void;
}


export function createCpuViews(options: CpuViewOptions): Record<string, FileView> {
  const clock = options.now ?? monotonicMicros;
  const bootIds = new Map<string, string>();
  const deps: CpuViewDeps = {
    cpuCount: options.cpuCount,
    btime: options.btime ?? 'host',
    counters: new CpuCounterStore(options.stateDir, undefined, options.onIgnoredRecord),
    now: () => Number(clock()),
    bootId(procRoot) {
      const id = bootIds.get(procRoot) ?? readBootId(procRoot);
      bootIds.set(procRoot, id);
      return id;
    },
  };
  const views: Record<string, FileView> = {
    'proc/cpuinfo': (context) => cpuinfo.render(cpuinfo.collect(context, deps)),
    'proc/stat': (context) => stat.render(stat.collect(context, deps)),
    'proc/uptime': (context) => uptime.render(uptime.collect(context, deps)),
  };
  for (const file of cpuSysfs.CPU_LIST_FILES) {
    views[`sys/devices/system/cpu/${file}`] = (context) => cpuSysfs.render(file, cpuSysfs.collect(context, deps));
  }
  return views;
}
