// The one interface renderers read cgroups through, in cgroup v2 vocabulary: it
// picks the hierarchy that holds a controller and the driver for its version, so
// no renderer ever branches on the cgroup version.
import { hierarchyOf, type CgroupLayout, type CgroupVersion } from './layout.js';
import type { MemoryDriver, MemoryReading } from './memory.js';
import { readMemoryV1 } from './memory-v1.js';
import { readMemoryV2 } from './memory-v2.js';
import { pathOn, type CgroupPaths } from './membership.js';

export interface CgroupReader {
  /** Undefined for the root cgroup: the view is the host's own. */
  memory(paths: CgroupPaths): MemoryReading | undefined;
}

const MEMORY_DRIVERS: Readonly<Record<CgroupVersion, MemoryDriver>> = { 1: readMemoryV1, 2: readMemoryV2 };

export function createCgroupReader(layout: CgroupLayout): CgroupReader {
  return {
    memory(paths) {
      const { version, mount } = hierarchyOf(layout, 'memory');
      return MEMORY_DRIVERS[version](mount, pathOn(paths, 'memory', version));
    },
  };
}
