// The renderers of the table of served files (files/table.ts): each file entry's view
// and each tree entry's walk, keyed by the table's paths, so an entry without a
// renderer here, or a renderer for no entry, is a type error.
import type { FilePath, TreePath } from '../files/table.js';
import type { LoadavgTable } from '../load/table.js';
import * as cpuSysfs from './cpu-sysfs.js';
import type { CpuViewDeps } from './cpu-times.js';
import { createCpuTree, type SysfsTree } from './cpu-tree.js';
import * as cpuinfo from './cpuinfo.js';
import { diskstatsView } from './diskstats.js';
import { createLoadavgView } from './loadavg.js';
import * as meminfo from './meminfo.js';
import { createNodeTree } from './node-tree.js';
import { pressureView } from './pressure.js';
import type { FileView } from './sources.js';
import * as stat from './stat.js';
import * as swaps from './swaps.js';
import * as uptime from './uptime.js';
import * as vmstat from './vmstat.js';

/** What the renderers of one worker share: the CPU files' counter store and clock, the sampler's loadavg table. */
export interface FileViewDeps {
  readonly cpu: CpuViewDeps;
  readonly loadavg: LoadavgTable;
}

export interface TreeOptions {
  /** '/sys' by default. */
  readonly sysRoot?: string | undefined;
  readonly cpuCount: CpuViewDeps['cpuCount'];
}

const cpuList =
  (file: cpuSysfs.CpuListFile) =>
  ({ cpu }: FileViewDeps): FileView =>
  (context) =>
    cpuSysfs.render(file, cpuSysfs.collect(context, cpu));

const FILE_RENDERERS: { readonly [P in FilePath]: (deps: FileViewDeps) => FileView } = {
  'proc/cpuinfo': ({ cpu }) => (context) => cpuinfo.render(cpuinfo.collect(context, cpu)),
  'proc/diskstats': () => diskstatsView,
  'proc/meminfo': () => meminfo.view,
  'proc/stat': ({ cpu }) => (context) => stat.render(stat.collect(context, cpu)),
  'proc/swaps': () => swaps.view,
  'proc/uptime': ({ cpu }) => (context) => uptime.render(uptime.collect(context, cpu)),
  'proc/loadavg': ({ loadavg }) => createLoadavgView(loadavg),
  'proc/pressure/cpu': () => pressureView('cpu'),
  'proc/pressure/memory': () => pressureView('memory'),
  'proc/pressure/io': () => pressureView('io'),
  'proc/vmstat': () => vmstat.view,
  'sys/devices/system/cpu/online': cpuList('online'),
  'sys/devices/system/cpu/possible': cpuList('possible'),
  'sys/devices/system/cpu/present': cpuList('present'),
  'sys/devices/system/cpu/offline': cpuList('offline'),
};

const TREE_WALKS: { readonly [P in TreePath]: (options: TreeOptions) => SysfsTree } = {
  'sys/devices/system/cpu': (options) => createCpuTree({ sysRoot: options.sysRoot, cpuCount: options.cpuCount }),
  'sys/devices/system/node': (options) => createNodeTree({ sysRoot: options.sysRoot, cpuCount: options.cpuCount }),
};

/** The view of the file entry at `path`, for one worker's shared parts. */
export function fileView(path: FilePath, deps: FileViewDeps): FileView {
  return FILE_RENDERERS[path](deps);
}

/** The host directory of the tree entry at `path`, walked now. */
export function walkTree(path: TreePath, options: TreeOptions): SysfsTree {
  return TREE_WALKS[path](options);
}
