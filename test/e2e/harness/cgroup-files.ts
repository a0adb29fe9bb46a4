// The limits and counters of a test cgroup in one vocabulary, written and read through the files of the
// host's layout: v1 controller files (v1 and hybrid hosts) or cgroup2's (Documentation/admin-guide/cgroup-v2.rst).
// Which directory holds a controller's files is the caller's (TestCgroups) business.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The directory of the cgroup on the hierarchy that holds `controller` (v2: one directory for all). */
export type DirOf = (controller: string) => string;

/** Throttle limits of one block device; omitted fields are left unlimited. */
export interface IoLimits {
  readonly rbps?: number;
  readonly wbps?: number;
  readonly riops?: number;
  readonly wiops?: number;
}

/** One device's I/O, as v2's io.stat counts it: bytes and completed operations by direction. */
export interface DeviceIoCount {
  readonly rbytes: number;
  readonly wbytes: number;
  readonly rios: number;
  readonly wios: number;
}

export type PressureResource = 'cpu' | 'memory' | 'io';

export interface CgroupFiles {
  /** memory.max: the memory the cgroup may use, in bytes. */
  setMemoryLimit(at: DirOf, bytes: number): void;
  /** memory.swap.max: the swap the cgroup may use on top of its memory (v1: memsw = memory + swap). */
  setSwapLimit(at: DirOf, bytes: number): void;
  /** cpu.max: quotaUs of CPU time per periodUs (-1: no quota). */
  setCpuQuota(at: DirOf, quotaUs: number, periodUs: number): void;
  /** cpuset.cpus in the kernel's list syntax ("1", "0-1"). */
  setCpus(at: DirOf, cpus: string): void;
  /** The cgroup's CPU weight against its siblings, in v1 cpu.shares units (2-262144; v2 converts to cpu.weight). */
  setCpuShares(at: DirOf, shares: number): void;
  /** io.max for one device `MAJ:MIN` (v1: blkio.throttle.*_device). */
  setIoLimits(at: DirOf, device: string, limits: IoLimits): void;
  /** memory.current: bytes charged to the cgroup and its descendants. */
  memoryCurrent(at: DirOf): number;
  /** cpuset.cpus.effective: the CPUs the cgroup may run on, in the kernel's list syntax. */
  effectiveCpus(at: DirOf): string;
  /** memory.stat as the kernel prints it: v2 names, or v1's (hierarchical ones prefixed total_). */
  memoryStat(at: DirOf): Record<string, number>;
  /** Swap in use by the cgroup, bytes (v1: memsw less memory); undefined without swap accounting. */
  swapCurrent(at: DirOf): number | undefined;
  /** I/O per device `MAJ:MIN`, the subtree's (v2 io.stat; v1 blk-throttle's recursive counters). */
  ioStat(at: DirOf): Map<string, DeviceIoCount>;
  /** The cgroup's own PSI file (cgroup2: on a hybrid host under unified/). */
  pressure(at: DirOf, resource: PressureResource): string;
  /** The file that lists a cgroup's own threads. */
  readonly threadList: 'tasks' | 'cgroup.threads';
  /** v1 memory file names whose v2 name differs, for readers written in v1 names. */
  memoryFileName(v1Name: string): string;
}

const write = (file: string, value: string | number): void => writeFileSync(file, String(value));
const read = (file: string): string => readFileSync(file, 'utf8').trim();
const readOptional = (file: string): string | undefined => (existsSync(file) ? read(file) : undefined);

/** `key value` lines (memory.stat) as a record. */
function keyedValues(text: string): Record<string, number> {
  return Object.fromEntries(text.split('\n').filter(Boolean).map((line) => [line.split(' ')[0], Number(line.split(' ')[1])]));
}

/** blk-throttle's `MAJ:MIN Read N` lines for one operation, by device. */
function rwstat(text: string, operation: string): Map<string, number> {
  const found = [...text.matchAll(new RegExp(`^(\\d+:\\d+) ${operation} (\\d+)$`, 'gm'))];
  return new Map(found.map((m) => [m[1]!, Number(m[2])]));
}

function v1IoStat(dir: string): Map<string, DeviceIoCount> {
  const bytes = read(join(dir, 'blkio.throttle.io_service_bytes_recursive'));
  const ios = read(join(dir, 'blkio.throttle.io_serviced_recursive'));
  const [rbytes, wbytes, rios, wios] = [rwstat(bytes, 'Read'), rwstat(bytes, 'Write'), rwstat(ios, 'Read'), rwstat(ios, 'Write')];
  const devices = new Set([...rbytes.keys(), ...rios.keys()]);
  return new Map([...devices].map((d) => [d, { rbytes: rbytes.get(d) ?? 0, wbytes: wbytes.get(d) ?? 0, rios: rios.get(d) ?? 0, wios: wios.get(d) ?? 0 }]));
}

/** io.stat: `MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N`. */
function v2IoStat(dir: string): Map<string, DeviceIoCount> {
  return new Map(read(join(dir, 'io.stat')).split('\n').filter(Boolean).map((line) => {
    const [device = '', ...pairs] = line.split(' ');
    const values = Object.fromEntries(pairs.map((pair) => pair.split('=')).map(([k, v]) => [k, Number(v)]));
    return [device, { rbytes: values['rbytes'] ?? 0, wbytes: values['wbytes'] ?? 0, rios: values['rios'] ?? 0, wios: values['wios'] ?? 0 }];
  }));
}

/** v1 throttle files per limit (block/blk-throttle.c). */
const V1_THROTTLE_FILES: Readonly<Record<keyof IoLimits, string>> = {
  rbps: 'blkio.throttle.read_bps_device',
  wbps: 'blkio.throttle.write_bps_device',
  riops: 'blkio.throttle.read_iops_device',
  wiops: 'blkio.throttle.write_iops_device',
};

export const V1_FILES: CgroupFiles = {
  setMemoryLimit: (at, bytes) => write(join(at('memory'), 'memory.limit_in_bytes'), bytes),
  setSwapLimit(at, bytes) {
    const memory = Number(read(join(at('memory'), 'memory.limit_in_bytes')));
    write(join(at('memory'), 'memory.memsw.limit_in_bytes'), memory + bytes);
  },
  setCpuQuota(at, quotaUs, periodUs) {
    // The period goes first: a quota is checked against the period in place.
    write(join(at('cpu'), 'cpu.cfs_period_us'), periodUs);
    write(join(at('cpu'), 'cpu.cfs_quota_us'), quotaUs);
  },
  setCpus: (at, cpus) => write(join(at('cpuset'), 'cpuset.cpus'), cpus),
  setCpuShares: (at, shares) => write(join(at('cpu'), 'cpu.shares'), shares),
  setIoLimits(at, device, limits) {
    for (const [key, value] of Object.entries(limits) as Array<[keyof IoLimits, number]>) {
      write(join(at('blkio'), V1_THROTTLE_FILES[key]), `${device} ${value}`);
    }
  },
  memoryCurrent: (at) => Number(read(join(at('memory'), 'memory.usage_in_bytes'))),
  effectiveCpus: (at) => read(join(at('cpuset'), 'cpuset.effective_cpus')),
  memoryStat: (at) => keyedValues(read(join(at('memory'), 'memory.stat'))),
  swapCurrent(at) {
    const both = readOptional(join(at('memory'), 'memory.memsw.usage_in_bytes'));
    return both === undefined ? undefined : Math.max(0, Number(both) - V1_FILES.memoryCurrent(at));
  },
  ioStat: (at) => v1IoStat(at('blkio')),
  pressure: (at, resource) => read(join(at('unified'), `${resource}.pressure`)),
  threadList: 'tasks',
  memoryFileName: (name) => name,
};

/** v1 memory file names -> their cgroup2 counterparts. */
const V2_MEMORY_NAMES: Readonly<Record<string, string>> = {
  'memory.usage_in_bytes': 'memory.current',
  'memory.limit_in_bytes': 'memory.max',
  'memory.max_usage_in_bytes': 'memory.peak',
};

/** runc's conversion of cpu.shares [2, 262144] to cpu.weight [1, 10000] (libcontainer/cgroups/utils.go). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

export const V2_FILES: CgroupFiles = {
  setMemoryLimit: (at, bytes) => write(join(at('memory'), 'memory.max'), bytes),
  setSwapLimit: (at, bytes) => write(join(at('memory'), 'memory.swap.max'), bytes),
  setCpuQuota: (at, quotaUs, periodUs) => write(join(at('cpu'), 'cpu.max'), `${quotaUs < 0 ? 'max' : quotaUs} ${periodUs}`),
  setCpus: (at, cpus) => write(join(at('cpuset'), 'cpuset.cpus'), cpus),
  setCpuShares: (at, shares) => write(join(at('cpu'), 'cpu.weight'), sharesToWeight(shares)),
  setIoLimits(at, device, limits) {
    const pairs = Object.entries(limits).map(([key, value]) => `${key}=${value}`);
    write(join(at('io'), 'io.max'), `${device} ${pairs.join(' ')}`);
  },
  memoryCurrent: (at) => Number(read(join(at('memory'), 'memory.current'))),
  effectiveCpus: (at) => read(join(at('cpuset'), 'cpuset.cpus.effective')),
  memoryStat: (at) => keyedValues(read(join(at('memory'), 'memory.stat'))),
  swapCurrent(at) {
    const current = readOptional(join(at('memory'), 'memory.swap.current'));
    return current === undefined ? undefined : Number(current);
  },
  ioStat: (at) => v2IoStat(at('io')),
  pressure: (at, resource) => read(join(at('cpu'), `${resource}.pressure`)),
  threadList: 'cgroup.threads',
  memoryFileName: (name) => V2_MEMORY_NAMES[name] ?? name,
};
