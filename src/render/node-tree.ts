// sys/devices/system/node for one view (issue 21): the host's readable files, read at
// every open, cut to the view so lscpu's "NUMA node0 CPU(s)" and libnuma see the
// container's CPUs. A node is visible when its CPUs meet the view's; its cpulist and
// cpumap name the visible CPUs only; the node lists (online, possible, has_cpu,
// has_memory, ...) name the visible nodes only. A host-wide view sees the host's files.
// Which `nodeN` directories a reader sees at all is cpu-dirs.ts's rule, applied by the fs.
import { join } from 'node:path';
import { formatCpuList, parseCpuList } from '../cgroup/cpu-rules.js';
import type { TreePath } from '../files/table.js';
import type { CgroupView } from '../cgroup/view.js';
import { listSysfsFiles, NODE_SYSFS_DIR, readSysfsFile, walkSysfs, type SysfsWalkLimits } from '../host/sysfs.js';
import { cutCpuList, cutCpuMask, sysfsTreeOf, type SysfsTree } from './cpu-tree.js';
import { cpuViewOf, type CpuCountMode } from './cpu-view.js';
import type { ViewContext, ViewSources } from './sources.js';

/** Its tree entry in the table of served files (a renamed entry is a type error here). */
export const NODE_MOUNT_DIR: TreePath = 'sys/devices/system/node';
const DEFAULT_SYS_ROOT = '/sys';
/** Files that list nodes (drivers/base/node.c node_state_attr), and those that name a node's CPUs. */
const NODE_LIST = /^(?:online|possible|has_cpu|has_memory|has_normal_memory|has_high_memory|has_generic_initiator)$/;
const NODE_CPUS = /^node\d+\/(cpulist|cpumap)$/;
const NODE_DIR = /^node(\d+)$/;
/** Below this depth only hugepages/hugepages-<size>/<counter> and power/ live. */
const WALK_LIMITS: SysfsWalkLimits = { maxDepth: 4, maxFiles: 4096 };

/** The host's nodes and their CPUs, read from `node*\/cpulist` (a node without CPUs has none). */
export function hostNodeCpus(sysRoot: string): Map<number, number[]> {
  const nodes = new Map<number, number[]>();
  for (const rel of listSysfsFiles(sysRoot, NODE_SYSFS_DIR, { maxDepth: 2, maxFiles: 4096 })) {
    const match = /^node(\d+)\/cpulist$/.exec(rel);
    if (match === null) continue;
    nodes.set(Number(match[1]), parseCpuList(readSysfsFile(sysRoot, NODE_SYSFS_DIR, rel), join(sysRoot, NODE_SYSFS_DIR, rel)));
  }
  return nodes;
}

/** The nodes a view shows: those whose CPUs meet the visible ones; undefined for a host-wide view. */
export function visibleNodes(sources: ViewSources, sysRoot: string, cgroups: CgroupView, mode: CpuCountMode): Set<number> | undefined {
  const view = cpuViewOf(sources, cgroups, mode);
  if (view.hostWide) return undefined;
  const cpus = new Set(view.cpus);
  const nodes = new Set<number>();
  for (const [node, nodeCpus] of hostNodeCpus(sysRoot)) if (nodeCpus.some((id) => cpus.has(id))) nodes.add(node);
  return nodes;
}

interface NodeFile {
  readonly sysRoot: string;
  readonly rel: string;
  readonly cpuCount: CpuCountMode;
}

function renderNodeFile({ sources, target }: ViewContext, file: NodeFile): string {
  const host = readSysfsFile(file.sysRoot, NODE_SYSFS_DIR, file.rel);
  const source = join(file.sysRoot, NODE_SYSFS_DIR, file.rel);
  const cpusFile = NODE_CPUS.exec(file.rel);
  if (cpusFile !== null) {
    const view = cpuViewOf(sources, target.cgroups, file.cpuCount);
    if (view.hostWide) return host;
    return cpusFile[1] === 'cpulist' ? cutCpuList(host, view.cpus, source) : cutCpuMask(host, view.cpus, source);
  }
  if (!NODE_LIST.test(file.rel)) return host;
  const nodes = visibleNodes(sources, file.sysRoot, target.cgroups, file.cpuCount);
  if (nodes === undefined) return host;
  return `${formatCpuList(parseCpuList(host, source).filter((node) => nodes.has(node)))}\n`;
}

/** The node a path belongs to (`sys/devices/system/node/node1/...` -> 1), or undefined. */
export function nodeOfPath(path: string): number | undefined {
  if (!path.startsWith(`${NODE_MOUNT_DIR}/`)) return undefined;
  const match = NODE_DIR.exec(path.slice(NODE_MOUNT_DIR.length + 1).split('/', 1)[0]!);
  return match ? Number(match[1]) : undefined;
}

export interface NodeTreeOptions {
  readonly sysRoot?: string;
  readonly cpuCount: CpuCountMode;
}

/**
 * The host's node directory, listed once (as the CPU tree): a view per readable file, its
 * directories, and its symlinks (`node0/cpu1` -> `../../cpu/cpu1`, shown only to readers of CPU 1).
 */
export function createNodeTree(options: NodeTreeOptions): SysfsTree {
  const sysRoot = options.sysRoot ?? DEFAULT_SYS_ROOT;
  return sysfsTreeOf(NODE_MOUNT_DIR, walkSysfs(sysRoot, NODE_SYSFS_DIR, WALK_LIMITS), (rel) => {
    const file: NodeFile = { sysRoot, rel, cpuCount: options.cpuCount };
    return (context) => renderNodeFile(context, file);
  });
}
