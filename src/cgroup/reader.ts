// The one interface renderers read cgroups through, in cgroup v2 vocabulary: it
// picks the hierarchy that holds a controller and the driver for its version, so
// no renderer ever branches on the cgroup version.
import { hierarchyOf, type CgroupLayout, type CgroupVersion } from './layout.js';
import { CgroupDir, type MemoryDriver, type MemoryReading } from './memory.js';
import { parseKeyedValues } from './values.js';
import { readMemoryV1 } from './memory-v1.js';
import { readMemoryV2 } from './memory-v2.js';
import { pathOn, type CgroupPaths } from './membership.js';

export interface CgroupReader {
  /** Undefined for the root cgroup: the view is the host's own. */
  memory(paths: CgroupPaths): MemoryReading | undefined;
  /** Processes the OOM killer killed in the cgroup and below: v2 memory.events, v1 memory.oom_control; 0 without the file. */
  oomKills(paths: CgroupPaths): number;
}

/** Where each version counts OOM kills (both files hold `oom_kill N` among other keys). */
const OOM_KILL_FILES: Readonly<Record<CgroupVersion, string>> = { 1: 'memory.oom_control', 2: 'memory.events' };

const MEMORY_DRIVERS: Readonly<Record<CgroupVersion, MemoryDriver>> = { 1: readMemoryV1, 2: readMemoryV2 };

export function createCgroupReader(layout: CgroupLayout): CgroupReader {
  return {
    memory(paths) {
      const { version, mount } = hierarchyOf(layout, 'memory');
      return MEMORY_DRIVERS[version](mount, pathOn(paths, 'memory', version));
    },
    oomKills(paths) {
      const { version, mount } = hierarchyOf(layout, 'memory');
      const dir = new CgroupDir(mount, pathOn(paths, 'memory', version));
      const text = dir.optional(OOM_KILL_FILES[version]);
      return text === undefined ? 0 : (parseKeyedValues(text, dir.file(OOM_KILL_FILES[version]))['oom_kill'] ?? 0);
    },
  };
}
