// What every view renders from: the host and cgroup sources, whose view it is, and
// the options that do not depend on the reader. A file's view is a function of this
// context; its collect step does all the I/O and its render step is pure.
import type { ViewTarget } from '../caller/target.js';
import type { CgroupLayout } from '../cgroup/layout.js';
import type { CgroupReader } from '../cgroup/reader.js';
import type { HostStat } from '../host/stat.js';
import type { ContainerTasks } from '../load/container-tasks.js';
import type { PidLevels } from './pid-level.js';

export interface ViewSources {
  readonly procRoot: string;
  readonly layout: CgroupLayout;
  /** Every cgroup read of a view goes through it (cgroup/reader.ts); a test may pass a plain object. */
  readonly cgroups: CgroupReader;
  /** How a container's tasks are counted. */
  readonly tasks: ContainerTasks;
  /** The pid namespace level each target's pids are shown at, worked out once per target. */
  readonly pidLevels: PidLevels;
  /** The kernel's base page size in bytes (host/vmstat.ts readPageSize), read at first use. */
  readonly pageBytes: () => number;
  /**
   * The host's /proc/stat: CPUs online, interrupts, the other lines. Every view of a
   * worker shares one reading for up to a clock tick (counterCacheMs), the bound its
   * counters are shown within anyway: 32 containers reading stat in one tick read the
   * host's once (issue 22).
   */
  readonly hostStat: () => HostStat;
}

export interface RenderOptions {
  /** False (--no-swap): SwapTotal/SwapFree 0 and a /proc/swaps with its header only. */
  readonly swap: boolean;
}

export interface ViewContext {
  readonly sources: ViewSources;
  readonly target: ViewTarget;
  readonly options: RenderOptions;
  /** The thread whose read this is, in the daemon's pid namespace; undefined for `render --cgroup`. */
  readonly readerTid?: number;
}

/** One virtual file: the bytes of its view for a context. */
export type FileView = (context: ViewContext) => string;
