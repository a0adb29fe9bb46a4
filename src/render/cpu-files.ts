// What the CPU files of the mount (cpuinfo, stat, uptime and the sys cpu lists) share,
// built once per worker: one visible-CPU rule, one counter store and one clock.
import { readBootId } from '../host/uptime.js';
import { CpuCounterStore } from './cpu-counters.js';
import type { BtimePolicy, CpuViewDeps } from './cpu-times.js';
import type { CpuCountMode } from './cpu-view.js';
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

/** What the CPU files share in one worker: one visible-CPU rule, one counter store, one clock. */
export function createCpuDeps(options: CpuViewOptions): CpuViewDeps {
  const clock = options.now ?? monotonicMicros;
  const bootIds = new Map<string, string>();
  return {
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
}
