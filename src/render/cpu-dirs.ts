// Which paths of the tree a reader may see: the `cpuN` directories under
// sys/devices/system/cpu exist only for the CPUs of the reader's view, and the `nodeN`
// directories under sys/devices/system/node only for the nodes those CPUs are on, so a
// container that binds our directories over its own sees its CPUs and no others.
import type { ViewTarget } from '../caller/target.js';
import type { CpuCountMode } from './cpu-view.js';
import { visibleCpus } from './cpu-view.js';
import { nodeOfPath, visibleNodes } from './node-tree.js';
import type { ViewSources } from './sources.js';

const CPU_DIR = /^sys\/devices\/system\/cpu\/cpu(\d+)(?:\/|$)/;
/** A node's link to one of its CPUs (drivers/base/node.c register_cpu_under_node). */
const NODE_CPU_LINK = /^sys\/devices\/system\/node\/node\d+\/cpu(\d+)$/;

/** The CPU a path belongs to (`sys/devices/system/cpu/cpu3/...`, `.../node/node0/cpu3` -> 3), or undefined. */
export function cpuOfPath(path: string): number | undefined {
  const match = CPU_DIR.exec(path) ?? NODE_CPU_LINK.exec(path);
  return match ? Number(match[1]) : undefined;
}

/** True for paths whose presence depends on the reader (the kernel must not cache their lookups). */
export function isPerReader(path: string): boolean {
  return cpuOfPath(path) !== undefined || nodeOfPath(path) !== undefined;
}

/** A predicate over paths for one reader's view; resolves the view's CPUs and nodes once. */
export function visibilityFor(sources: ViewSources, target: ViewTarget, mode: CpuCountMode, sysRoot = '/sys'): (path: string) => boolean {
  let cpus: ReadonlySet<number> | undefined;
  let nodes: ReadonlySet<number> | undefined | null = null;
  return (path) => {
    const cpu = cpuOfPath(path);
    if (cpu !== undefined) {
      cpus ??= new Set(visibleCpus(sources, target.cgroups, mode));
      if (!cpus.has(cpu)) return false;
    }
    const node = nodeOfPath(path);
    if (node === undefined) return true;
    if (nodes === null) nodes = visibleNodes(sources, sysRoot, target.cgroups, mode);
    return nodes === undefined || nodes.has(node);
  };
}
