// Builds a cgroup tree from one description in the kernel's own file formats, drawn as a
// cgroup2 tree (v2), v1 controller directories (v1), or v1 directories plus a cgroup2 at
// unified/ holding memory (hybrid, like test/fixtures/cgroup-hybrid, but with blkio), so a
// renderer test says "512 MiB and 1.5 CPUs" once and runs on every layout. Formats follow the captures
// in test/fixtures and Documentation/admin-guide/cgroup-v2.rst, cgroup-v1/*.rst.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { HOST_CPUS } from './fixtures.js';

export type TreeLayout = 'v1' | 'v2' | 'hybrid';
export const TREE_LAYOUTS: readonly TreeLayout[] = ['v1', 'v2', 'hybrid'];

/** memory.stat keys under their v2 names (bytes, or events for pg*). */
export type MemoryStat = Partial<Record<(typeof V2_STAT_KEYS)[number], number>>;

export interface MemorySpec {
  /** memory.max / memory.limit_in_bytes; none: unlimited. */
  readonly limit?: number;
  /** Bytes charged to the cgroup itself (memory.current counts descendants too). */
  readonly usage: number;
  /** Swap allowed beside memory (v2 memory.swap.max; v1 memsw = limit + this); none: unlimited. */
  readonly swapLimit?: number;
  readonly swapUsage?: number;
  readonly stat?: MemoryStat;
  /** v1 memory.swappiness (60 when not said). */
  readonly swappiness?: number;
  /** OOM kills: v2 memory.events oom_kill, v1 memory.oom_control oom_kill. */
  readonly oomKills?: number;
}

export interface CpuSpec {
  /** The quota in CPUs (1.5: cpu.max `150000 100000`); none: no quota. */
  readonly cpus?: number;
  readonly periodUs?: number;
  /** v2 cpu.weight (1-10000, default 100); v1 cpu.shares is weight * 1024 / 100, as the scheduler maps them. */
  readonly weight?: number;
  /** CPU time used by the cgroup itself, µs. */
  readonly userUs?: number;
  readonly systemUs?: number;
}

/** One device's I/O, as io.stat names it. */
export type DeviceIo = Partial<Record<'rbytes' | 'wbytes' | 'rios' | 'wios' | 'dbytes' | 'dios', number>>;

/** One PSI line's figures: averages in percent, total stall time in µs. */
export interface PressureLine {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  readonly total: number;
}
export interface PressureSpec {
  readonly some: PressureLine;
  readonly full: PressureLine;
}

/** What one cgroup holds itself (its descendants add theirs to its hierarchical files). */
export interface CgroupSpec {
  readonly memory?: MemorySpec;
  readonly cpu?: CpuSpec;
  /** cpuset.cpus as a list (`1-3`); none: the parent's CPUs. */
  readonly cpuset?: string;
  /** By device (`8:0`), in the order the kernel lists them. */
  readonly io?: Readonly<Record<string, DeviceIo>>;
  /** pids.max (none: max) and pids.current of the cgroup itself (none: its tasks' count). */
  readonly pids?: { readonly max?: number; readonly current?: number };
  readonly pressure?: Partial<Record<'cpu' | 'memory' | 'io', PressureSpec>>;
  /** Thread ids in the cgroup (cgroup.threads, v1 tasks). */
  readonly tasks?: readonly number[];
  /** Their thread groups (cgroup.procs); none: every task leads its own. */
  readonly processes?: readonly number[];
}

/** Cgroup path (`/system.slice/a.scope`) -> what it holds; ancestors are made as needed. */
export type TreeSpec = Readonly<Record<string, CgroupSpec>>;

/** v1 `unlimited` for memory: PAGE_COUNTER_MAX pages of 4 KiB, as the kernel prints it. */
const V1_UNLIMITED = '9223372036854771712';
const DEFAULT_PERIOD_US = 100_000;
const DEFAULT_WEIGHT = 100;
/** The scheduler's nice-0 load weight: cpu.weight 100 and cpu.shares 1024 are the same. */
const NICE_0_SHARES = 1024;
const USER_HZ_NS = 10_000_000;
const NS_PER_US = 1000;
const ROOT_CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma misc';
const CHILD_CONTROLLERS = 'cpuset cpu io memory pids';
const V1_HIERARCHIES = ['memory', 'cpu,cpuacct', 'cpuset', 'blkio', 'pids'] as const;
type V1Hierarchy = (typeof V1_HIERARCHIES)[number];
/** v2 memory.stat keys in the kernel's order (6.x, mm/memcontrol.c memory_stats). */
const V2_STAT_KEYS = [
  'anon', 'file', 'kernel', 'kernel_stack', 'pagetables', 'sec_pagetables', 'percpu', 'sock', 'vmalloc', 'shmem',
  'zswap', 'zswapped', 'file_mapped', 'file_dirty', 'file_writeback', 'swapcached', 'anon_thp', 'file_thp', 'shmem_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'slab', 'workingset_refault_anon', 'workingset_refault_file', 'workingset_activate_anon', 'workingset_activate_file',
  'workingset_restore_anon', 'workingset_restore_file', 'workingset_nodereclaim', 'pgscan', 'pgsteal', 'pgscan_kswapd',
  'pgscan_direct', 'pgscan_khugepaged', 'pgsteal_kswapd', 'pgsteal_direct', 'pgsteal_khugepaged', 'pgfault', 'pgmajfault',
  'pgrefill', 'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'zswpin', 'zswpout', 'zswpwb', 'thp_fault_alloc',
  'thp_collapse_alloc', 'thp_swpout', 'thp_swpout_fallback',
] as const;
/**
 * v1 memory.stat keys in the kernel's order (mm/memcontrol-v1.c memcg1_stat_format), each
 * with the v2 key it counts; `swap` is the swap usage and pgpgin/pgpgout v1's own events.
 */
const V1_STAT_KEYS: readonly (readonly [string, keyof MemoryStat | 'swap' | 'pgpgin' | 'pgpgout'])[] = [
  ['cache', 'file'], ['rss', 'anon'], ['rss_huge', 'anon_thp'], ['shmem', 'shmem'], ['mapped_file', 'file_mapped'],
  ['dirty', 'file_dirty'], ['writeback', 'file_writeback'], ['workingset_refault_anon', 'workingset_refault_anon'],
  ['workingset_refault_file', 'workingset_refault_file'], ['swap', 'swap'], ['swapcached', 'swapcached'],
  ['pgpgin', 'pgpgin'], ['pgpgout', 'pgpgout'], ['pgfault', 'pgfault'], ['pgmajfault', 'pgmajfault'],
  ['inactive_anon', 'inactive_anon'], ['active_anon', 'active_anon'], ['inactive_file', 'inactive_file'],
  ['active_file', 'active_file'], ['unevictable', 'unevictable'],
];
const IO_KEYS = ['rbytes', 'wbytes', 'rios', 'wios', 'dbytes', 'dios'] as const;
const NO_PRESSURE: PressureSpec = {
  some: { avg10: 0, avg60: 0, avg300: 0, total: 0 },
  full: { avg10: 0, avg60: 0, avg300: 0, total: 0 },
};

/** One cgroup of the tree with what it and its subtree hold. */
interface Node {
  readonly path: string;
  readonly own: CgroupSpec;
  readonly parent: Node | undefined;
  readonly children: Node[];
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function nodesOf(spec: TreeSpec): Node[] {
  const nodes = new Map<string, Node>();
  const nodeAt = (path: string): Node => {
    const known = nodes.get(path);
    if (known !== undefined) return known;
    const parent = path === '/' ? undefined : nodeAt(parentOf(path));
    const node: Node = { path, own: spec[path] ?? {}, parent, children: [] };
    parent?.children.push(node);
    nodes.set(path, node);
    return node;
  };
  nodeAt('/');
  for (const path of Object.keys(spec)) {
    if (!path.startsWith('/') || path.endsWith('/') && path !== '/') throw new Error(`not a cgroup path: ${path}`);
    nodeAt(path);
  }
  return [...nodes.values()];
}

/** The node and its descendants. */
function subtree(node: Node): Node[] {
  return [node, ...node.children.flatMap(subtree)];
}

const sumOver = (node: Node, value: (own: CgroupSpec) => number | undefined): number =>
  subtree(node).reduce((total, each) => total + (value(each.own) ?? 0), 0);

/** The CPU numbers of a list (`0-1,3`). */
function cpusOf(list: string): number[] {
  return list.split(',').filter(Boolean).flatMap((run) => {
    const [first, last = first] = run.split('-').map(Number);
    return Array.from({ length: last! - first! + 1 }, (_, index) => first! + index);
  });
}

function effectiveCpus(node: Node | undefined, hostCpus: number): string {
  if (node === undefined) return `0-${hostCpus - 1}`;
  return node.own.cpuset ?? effectiveCpus(node.parent, hostCpus);
}

/** A cgroup's own CPU time (ns) on each host CPU: spread evenly over its CPUs, the remainder on the first. */
function ownPerCpuNs(node: Node, hostCpus: number, kind: 'userUs' | 'systemUs'): number[] {
  const perCpu = new Array<number>(hostCpus).fill(0);
  const ns = (node.own.cpu?.[kind] ?? 0) * NS_PER_US;
  const cpus = cpusOf(effectiveCpus(node, hostCpus));
  const share = Math.floor(ns / cpus.length);
  for (const cpu of cpus) perCpu[cpu] = share;
  perCpu[cpus[0]!]! += ns - share * cpus.length;
  return perCpu;
}

function subtreePerCpuNs(node: Node, hostCpus: number, kind: 'userUs' | 'systemUs'): number[] {
  const total = new Array<number>(hostCpus).fill(0);
  for (const each of subtree(node)) ownPerCpuNs(each, hostCpus, kind).forEach((ns, cpu) => (total[cpu]! += ns));
  return total;
}

/** Devices in the order the tree first names them, each with the subtree's (or the node's own) counts. */
function deviceIo(node: Node, nodes: readonly Node[], recursive: boolean): Map<string, Required<DeviceIo>> {
  const counted = recursive ? subtree(node) : [node];
  const devices = new Map<string, Required<DeviceIo>>();
  for (const device of nodes.flatMap((each) => Object.keys(each.own.io ?? {}))) {
    if (devices.has(device) || !counted.some((each) => each.own.io?.[device] !== undefined)) continue;
    devices.set(device, Object.fromEntries(IO_KEYS.map((key) => [key, counted.reduce((total, each) => total + (each.own.io?.[device]?.[key] ?? 0), 0)])) as Required<DeviceIo>);
  }
  return devices;
}

const lines = (entries: readonly (readonly [string, number | string])[]): string =>
  entries.map(([key, value]) => `${key} ${value}\n`).join('');

function pressureText(line: PressureSpec): string {
  const format = (name: string, figures: PressureLine) =>
    `${name} avg10=${figures.avg10.toFixed(2)} avg60=${figures.avg60.toFixed(2)} avg300=${figures.avg300.toFixed(2)} total=${figures.total}\n`;
  return format('some', line.some) + format('full', line.full);
}

/** The v1 rwstat layout of blkio.throttle.*: Read, Write, Sync, Async, Discard, Total per device, then Total. */
function rwstat(devices: ReadonlyMap<string, Required<DeviceIo>>, counts: 'ios' | 'bytes'): string {
  let all = 0;
  let text = '';
  for (const [device, io] of devices) {
    const [read, write, discard] = counts === 'ios' ? [io.rios, io.wios, io.dios] : [io.rbytes, io.wbytes, io.dbytes];
    // Reads and discards are issued synchronously, writes from writeback (async).
    const total = read + write + discard;
    all += total;
    text += lines([['Read', read], ['Write', write], ['Sync', read + discard], ['Async', write], ['Discard', discard], ['Total', total]].map(([label, value]) => [`${device} ${label}`, value!] as const));
  }
  return `${text}Total ${all}\n`;
}

type Files = Record<string, string>;

function memoryStatV2(node: Node): Files {
  const stat = (key: keyof MemoryStat) => sumOver(node, (own) => own.memory?.stat?.[key]);
  return { 'memory.stat': lines(V2_STAT_KEYS.map((key) => [key, stat(key)])) };
}

function memoryFilesV2(node: Node): Files {
  if (node.parent === undefined) return memoryStatV2(node);
  const memory = node.own.memory;
  return {
    'memory.current': `${sumOver(node, (own) => own.memory?.usage)}\n`,
    'memory.min': '0\n',
    'memory.low': '0\n',
    'memory.high': 'max\n',
    'memory.max': `${memory?.limit ?? 'max'}\n`,
    ...memoryStatV2(node),
    'memory.swap.current': `${sumOver(node, (own) => own.memory?.swapUsage)}\n`,
    'memory.swap.max': `${memory?.swapLimit ?? 'max'}\n`,
    'memory.events': lines([['low', 0], ['high', 0], ['max', 0], ['oom', 0], ['oom_kill', sumOver(node, (own) => own.memory?.oomKills)], ['oom_group_kill', 0]]),
  };
}

function ancestry(node: Node): Node[] {
  return node.parent === undefined ? [node] : [node, ...ancestry(node.parent)];
}

/** The smallest limit from the node up (v1 hierarchical_*_limit), or unlimited. */
function hierarchicalLimit(node: Node, limit: (memory: MemorySpec) => bigint | undefined): string {
  const limits = ancestry(node).flatMap((each) => (each.own.memory === undefined ? [] : [limit(each.own.memory)])).filter((value) => value !== undefined);
  return limits.length === 0 ? V1_UNLIMITED : String(limits.reduce((low, value) => (value < low ? value : low)));
}

const memswLimit = (memory: MemorySpec): bigint | undefined =>
  memory.limit === undefined || memory.swapLimit === undefined ? undefined : BigInt(memory.limit + memory.swapLimit);
const memoryLimit = (memory: MemorySpec): bigint | undefined => (memory.limit === undefined ? undefined : BigInt(memory.limit));

function memoryFilesV1(node: Node): Files {
  const memory = node.own.memory;
  const statOf = (own: CgroupSpec, key: (typeof V1_STAT_KEYS)[number][1]): number | undefined =>
    key === 'swap' ? own.memory?.swapUsage : key === 'pgpgin' || key === 'pgpgout' ? 0 : own.memory?.stat?.[key];
  const usage = sumOver(node, (own) => own.memory?.usage);
  const swapUsage = sumOver(node, (own) => own.memory?.swapUsage);
  const stat = [
    ...V1_STAT_KEYS.map(([name, key]) => [name, statOf(node.own, key) ?? 0] as const),
    ['hierarchical_memory_limit', hierarchicalLimit(node, memoryLimit)] as const,
    ['hierarchical_memsw_limit', hierarchicalLimit(node, memswLimit)] as const,
    ...V1_STAT_KEYS.map(([name, key]) => [`total_${name}`, sumOver(node, (own) => statOf(own, key))] as const),
  ];
  return {
    'memory.limit_in_bytes': `${memory?.limit ?? V1_UNLIMITED}\n`,
    'memory.usage_in_bytes': `${usage}\n`,
    'memory.max_usage_in_bytes': `${usage}\n`,
    'memory.soft_limit_in_bytes': `${V1_UNLIMITED}\n`,
    'memory.failcnt': '0\n',
    'memory.memsw.limit_in_bytes': `${memory === undefined ? V1_UNLIMITED : (memswLimit(memory) ?? V1_UNLIMITED)}\n`,
    'memory.memsw.usage_in_bytes': `${usage + swapUsage}\n`,
    'memory.stat': lines(stat),
    'memory.swappiness': `${memory?.swappiness ?? 60}\n`,
    'memory.use_hierarchy': '1\n',
    'memory.oom_control': lines([['oom_kill_disable', 0], ['under_oom', 0], ['oom_kill', sumOver(node, (own) => own.memory?.oomKills)]]),
  };
}

function cpuMax(cpu: CpuSpec | undefined): [quota: number | undefined, period: number] {
  const period = cpu?.periodUs ?? DEFAULT_PERIOD_US;
  return [cpu?.cpus === undefined ? undefined : Math.round(cpu.cpus * period), period];
}

function cpuFilesV2(node: Node): Files {
  const userUs = sumOver(node, (own) => own.cpu?.userUs);
  const systemUs = sumOver(node, (own) => own.cpu?.systemUs);
  const usage = lines([['usage_usec', userUs + systemUs], ['user_usec', userUs], ['system_usec', systemUs], ['nice_usec', 0]]);
  if (node.parent === undefined) return { 'cpu.stat': usage };
  const [quota, period] = cpuMax(node.own.cpu);
  return {
    'cpu.max': `${quota ?? 'max'} ${period}\n`,
    'cpu.weight': `${node.own.cpu?.weight ?? DEFAULT_WEIGHT}\n`,
    'cpu.stat': usage + lines([['nr_periods', 0], ['nr_throttled', 0], ['throttled_usec', 0], ['nr_bursts', 0], ['burst_usec', 0]]),
  };
}

function cpuFilesV1(node: Node, hostCpus: number): Files {
  const [quota, period] = cpuMax(node.own.cpu);
  const user = subtreePerCpuNs(node, hostCpus, 'userUs');
  const system = subtreePerCpuNs(node, hostCpus, 'systemUs');
  const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
  return {
    'cpu.cfs_quota_us': `${quota ?? -1}\n`,
    'cpu.cfs_period_us': `${period}\n`,
    'cpu.shares': `${Math.round(((node.own.cpu?.weight ?? DEFAULT_WEIGHT) * NICE_0_SHARES) / DEFAULT_WEIGHT)}\n`,
    'cpuacct.usage': `${sum(user) + sum(system)}\n`,
    'cpuacct.usage_all': `cpu user system\n${user.map((ns, cpu) => `${cpu} ${ns} ${system[cpu]}\n`).join('')}`,
    'cpuacct.usage_percpu': `${user.map((ns, cpu) => `${ns + system[cpu]!} `).join('')}\n`,
    'cpuacct.stat': lines([['user', Math.floor(sum(user) / USER_HZ_NS)], ['system', Math.floor(sum(system) / USER_HZ_NS)]]),
  };
}

function cpusetFiles(node: Node, version: 1 | 2, hostCpus: number): Files {
  const effective = effectiveCpus(node, hostCpus);
  if (version === 1) return { 'cpuset.cpus': `${effective}\n`, 'cpuset.effective_cpus': `${effective}\n`, 'cpuset.mems': '0\n', 'cpuset.effective_mems': '0\n' };
  const effectiveFiles = { 'cpuset.cpus.effective': `${effective}\n`, 'cpuset.mems.effective': '0\n' };
  return node.parent === undefined ? effectiveFiles : { 'cpuset.cpus': `${node.own.cpuset ?? ''}\n`, 'cpuset.mems': '\n', ...effectiveFiles };
}

function ioFiles(node: Node, nodes: readonly Node[], version: 1 | 2): Files {
  if (version === 1) {
    const own = deviceIo(node, nodes, false);
    const recursive = deviceIo(node, nodes, true);
    return {
      'blkio.throttle.io_serviced': rwstat(own, 'ios'),
      'blkio.throttle.io_service_bytes': rwstat(own, 'bytes'),
      'blkio.throttle.io_serviced_recursive': rwstat(recursive, 'ios'),
      'blkio.throttle.io_service_bytes_recursive': rwstat(recursive, 'bytes'),
    };
  }
  if (node.parent === undefined) return {};
  // io.stat is hierarchical; a device whose counters are all 0 shows its name alone.
  const text = [...deviceIo(node, nodes, true)].map(([device, io]) => {
    const counters = IO_KEYS.every((key) => io[key] === 0) ? '' : IO_KEYS.map((key) => `${key}=${io[key]}`).join(' ');
    return `${device} ${counters}\n`;
  });
  return { 'io.stat': text.join('') };
}

function pidsFiles(node: Node): Files {
  if (node.parent === undefined) return {};
  return { 'pids.current': `${sumOver(node, (own) => own.pids?.current ?? own.tasks?.length)}\n`, 'pids.max': `${node.own.pids?.max ?? 'max'}\n` };
}

const idList = (ids: readonly number[] | undefined) => (ids ?? []).map((id) => `${id}\n`).join('');
const taskList = (node: Node) => idList(node.own.tasks);
const processList = (node: Node) => idList(node.own.processes ?? node.own.tasks);

function cgroup2CoreFiles(node: Node, controllers: string, childControllers: string): Files {
  const pressure = node.own.pressure ?? {};
  return {
    'cgroup.controllers': `${node.parent === undefined ? controllers : childControllers}\n`,
    'cgroup.subtree_control': `${node.children.length > 0 ? childControllers : ''}\n`,
    ...(node.parent === undefined ? {} : { 'cgroup.type': 'domain\n' }),
    'cgroup.procs': processList(node),
    'cgroup.threads': taskList(node),
    'cpu.pressure': pressureText(pressure.cpu ?? NO_PRESSURE),
    'memory.pressure': pressureText(pressure.memory ?? NO_PRESSURE),
    'io.pressure': pressureText(pressure.io ?? NO_PRESSURE),
  };
}

function writeDir(dir: string, files: Files): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

function v1Files(hierarchy: V1Hierarchy, node: Node, nodes: readonly Node[], hostCpus: number): Files {
  const tasks = { 'cgroup.procs': processList(node), tasks: taskList(node) };
  switch (hierarchy) {
    case 'memory': return { ...tasks, ...memoryFilesV1(node) };
    case 'cpu,cpuacct': return { ...tasks, ...cpuFilesV1(node, hostCpus) };
    case 'cpuset': return { ...tasks, ...cpusetFiles(node, 1, hostCpus) };
    case 'blkio': return { ...tasks, ...ioFiles(node, nodes, 1) };
    case 'pids': return { ...tasks, ...pidsFiles(node) };
  }
}

export interface TreeOptions {
  /** CPUs of the host (the fixture proc root's 4 unless said). */
  readonly hostCpus?: number;
}

/**
 * Writes `spec` under `root` in the files of `layout`; writing again over the same root
 * updates every file (a test changes a limit or adds usage this way).
 */
export function writeCgroupTree(root: string, layout: TreeLayout, spec: TreeSpec, options: TreeOptions = {}): void {
  const hostCpus = options.hostCpus ?? HOST_CPUS;
  const nodes = nodesOf(spec);
  if (layout === 'v2') {
    for (const node of nodes) {
      writeDir(join(root, node.path), {
        ...cgroup2CoreFiles(node, ROOT_CONTROLLERS, CHILD_CONTROLLERS),
        ...memoryFilesV2(node), ...cpuFilesV2(node), ...cpusetFiles(node, 2, hostCpus), ...ioFiles(node, nodes, 2), ...pidsFiles(node),
      });
    }
    return;
  }
  const hierarchies = layout === 'v1' ? V1_HIERARCHIES : V1_HIERARCHIES.filter((name) => name !== 'memory');
  for (const hierarchy of hierarchies) {
    for (const node of nodes) writeDir(join(root, hierarchy, node.path), v1Files(hierarchy, node, nodes, hostCpus));
  }
  for (const link of ['cpu', 'cpuacct']) {
    try {
      symlinkSync('cpu,cpuacct', join(root, link));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (layout === 'hybrid') {
    for (const node of nodes) writeDir(join(root, 'unified', node.path), { ...cgroup2CoreFiles(node, 'memory', 'memory'), ...memoryFilesV2(node) });
  }
}

/**
 * Registers cleanup after the file's tests (trees may be built while tests are collected);
 * each call writes a tree into a fresh directory and returns its root.
 */
export function useCgroupTrees(): (layout: TreeLayout, spec: TreeSpec, options?: TreeOptions) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (layout, spec, options) => {
    const root = mkdtempSync(join(tmpdir(), `cgprocfs-tree-${layout}-`));
    made.push(root);
    writeCgroupTree(root, layout, spec, options);
    return root;
  };
}
