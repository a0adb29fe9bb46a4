// The one interface views read cgroups through, in cgroup v2 vocabulary, given the
// reader's CgroupView: it picks the hierarchy that holds a controller and the driver for
// its version, so no renderer ever branches on the cgroup version or imports a driver,
// and a renderer test can pass a plain object instead (issue 20).
import {
  cachedCpuLimits,
  cpuPlacement,
  readCpuUsage,
  type CpuLimits,
  type CpuPlacement,
  type CpuUsage,
  type Placed,
} from './cpu.js';
import { readIo, type IoReading } from './io.js';
import { hierarchyOf, type CgroupLayout, type CgroupVersion } from './layout.js';
import { CgroupDir, type MemoryDriver, type MemoryReading } from './memory.js';
import { readMemoryV1 } from './memory-v1.js';
import { readMemoryV2 } from './memory-v2.js';
import { readCgroupPressure, type PressureResource } from './pressure.js';
import { pidsCurrent, taskListOf, type TaskList } from './tasks.js';
import { parseKeyedValues } from './values.js';
import { pathIn, type CgroupView } from './view.js';

export interface CgroupReader {
  /** Undefined for the root cgroup: the view is the host's own. */
  memory(view: CgroupView): MemoryReading | undefined;
  /** Processes the OOM killer killed in the cgroup and below: v2 memory.events, v1 memory.oom_control; 0 without the file. */
  oomKills(view: CgroupView): number;
  /** I/O by device (io.ts readIo): undefined for the root cgroup, empty without accounting. */
  io(view: CgroupView): IoReading | undefined;
  /** The cgroup's own `<resource>.pressure`; undefined when the view is host-wide (pressure.ts). */
  pressure(view: CgroupView, resource: PressureResource): string | undefined;
  /** Where the view's cpuset, cpu and CPU accounting are; undefined where the host lacks one. */
  cpuPlacement(view: CgroupView): CpuPlacement;
  /** The cpuset and quota chain at `placement` (reused for the sources' cacheMs). */
  cpuLimits(placement: CpuPlacement): CpuLimits;
  /** The CPU time of the cgroup at `at` (cpu.ts accountingOf says where a view's is accounted). */
  cpuUsage(at: Placed): CpuUsage;
  /** Where the tasks of the view's cgroup are listed; undefined when no hierarchy lists them. */
  taskList(view: CgroupView): TaskList | undefined;
  /** The pids controller's count of the subtree's tasks; undefined without it. */
  pidsCurrent(view: CgroupView): number | undefined;
}

export interface CgroupReaderOptions {
  /** How long a cgroup's CPU limits (cpuset, quota) may be reused (0: read every time). */
  readonly cpuLimitsMs?: number;
}

/** Where each version counts OOM kills (both files hold `oom_kill N` among other keys). */
const OOM_KILL_FILES: Readonly<Record<CgroupVersion, string>> = { 1: 'memory.oom_control', 2: 'memory.events' };

const MEMORY_DRIVERS: Readonly<Record<CgroupVersion, MemoryDriver>> = { 1: readMemoryV1, 2: readMemoryV2 };

export function createCgroupReader(layout: CgroupLayout, options: CgroupReaderOptions = {}): CgroupReader {
  const memoryDir = (view: CgroupView): { version: CgroupVersion; mount: string; path: string } => {
    const { version, mount } = hierarchyOf(layout, 'memory');
    return { version, mount, path: pathIn(view.memory[version], 'memory') };
  };
  return {
    memory(view) {
      const { version, mount, path } = memoryDir(view);
      return MEMORY_DRIVERS[version](mount, path);
    },
    oomKills(view) {
      const { version, mount, path } = memoryDir(view);
      const dir = new CgroupDir(mount, path);
      const text = dir.optional(OOM_KILL_FILES[version]);
      return text === undefined ? 0 : (parseKeyedValues(text, dir.file(OOM_KILL_FILES[version]))['oom_kill'] ?? 0);
    },
    io: (view) => readIo(layout, view),
    pressure: (view, resource) => readCgroupPressure(layout, view, resource),
    cpuPlacement: (view) => cpuPlacement(layout, view),
    cpuLimits: cachedCpuLimits(options.cpuLimitsMs ?? 0),
    cpuUsage: readCpuUsage,
    taskList: (view) => taskListOf(layout, view),
    pidsCurrent: (view) => pidsCurrent(layout, view),
  };
}
