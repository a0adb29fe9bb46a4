// What every view renders from: the host and cgroup sources, whose view it is, and
// the options that do not depend on the reader. A file's view is a function of this
// context; its collect step does all the I/O and its render step is pure.
import type { ViewTarget } from '../caller/target.js';
import type { CgroupLayout } from '../cgroup/layout.js';
import type { CgroupReader } from '../cgroup/reader.js';
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
   * The host's online CPUs (the cpu lines of its /proc/stat), one reading shared by every
   * view of a worker for up to a clock tick (counterCacheMs). Only the list is shared:
   * a figure of /proc/stat reused from a worker's own older reading could show a reader
   * less than another worker already showed it (the ordered rendering cache exists for
   * that), so the views read the figures themselves anew.
   */
  readonly hostOnlineCpus: () => readonly number[];
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
