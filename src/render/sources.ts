// What every view's collect step reads from: the proc root for host files and the
// cgroup reader, plus the render options that do not depend on the reader.
import type { CgroupReader } from '../cgroup/reader.js';

export interface ViewSources {
  readonly procRoot: string;
  readonly cgroups: CgroupReader;
}

export interface RenderOptions {
  /** False (--no-swap): SwapTotal/SwapFree 0 and a /proc/swaps with its header only. */
  readonly swap: boolean;
}
