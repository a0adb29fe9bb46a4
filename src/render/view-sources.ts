// Every cache the views of one worker read through, created in one place (issue 20): the
// cgroup reader (with the CPU limits reused for `cacheMs`), the task counter (its census
// takers, task reader and last pids), the pid levels of the targets and the page size.
// The host's online CPUs are reused for `counterCacheMs` (one clock tick in the daemon).
// The view service owns them; tests build their sources the same way. No module keeps a
// cache of its own.
import type { CgroupLayout } from '../cgroup/layout.js';
import { createCgroupReader } from '../cgroup/reader.js';
import { onlineCpus, readHostStat } from '../host/stat.js';
import { readPageSize } from '../host/vmstat.js';
import { ContainerTasks } from '../load/container-tasks.js';
import { monotonicMs } from '../shared/clock.js';
import type { LoadavgTable } from '../load/table.js';
import { PidLevels } from './pid-level.js';
import type { ViewSources } from './sources.js';

export interface ViewSourcesOptions {
  readonly procRoot: string;
  readonly layout: CgroupLayout;
  /** How long a cgroup's CPU limits (cpuset, quota) may be reused by any view (0: never). */
  readonly cacheMs?: number;
  /** How long the host's online CPUs may be reused by any view (0: read every time). */
  readonly counterCacheMs?: number;
  /** Measures counterCacheMs (a test's clock). */
  readonly clockMs?: () => number;
  /** The daemon sampler's table; without one (the render command) every task is counted. */
  readonly table?: LoadavgTable;
}

export function createViewSources(options: ViewSourcesOptions): ViewSources {
  const { procRoot, layout } = options;
  let pageBytes: number | undefined;
  const onlineMs = options.counterCacheMs ?? 0;
  const clockMs = options.clockMs ?? monotonicMs;
  let online: { cpus: readonly number[]; readAtMs: number } | undefined;
  return {
    procRoot,
    layout,
    cgroups: createCgroupReader(layout, { cpuLimitsMs: options.cacheMs ?? 0 }),
    tasks: new ContainerTasks(layout, procRoot, { table: options.table }),
    pidLevels: new PidLevels(procRoot),
    pageBytes: () => (pageBytes ??= readPageSize()),
    hostOnlineCpus: () => {
      const now = clockMs();
      if (online === undefined || now - online.readAtMs >= onlineMs) online = { cpus: onlineCpus(readHostStat(procRoot)), readAtMs: now };
      return online.cpus;
    },
  };
}
