// The cgroup v1 memory driver: reads the v1 files and answers in v2 vocabulary.
// memory.max <- memory.limit_in_bytes, memory.current <- memory.usage_in_bytes,
// memory.stat <- its hierarchical `total_*` keys renamed, swap <- memory.memsw.*
// (memory plus swap) minus the memory values, swappiness from memory.swappiness.
import { levelsBelowRoot, nonNegativeDifference, ROOT_CGROUP } from './hierarchy.js';
import { CgroupDir, limitChain, type MemoryDriver, type MemoryReading, type SwapReading } from './memory.js';

/** v1 keys without this prefix count the cgroup alone; v2's memory.stat is hierarchical. */
const HIERARCHICAL_PREFIX = 'total_';

/** v1 memory.stat names whose v2 name differs (mm/memcontrol-v1.c vs memcontrol.c). */
const V1_TO_V2_STAT: Readonly<Record<string, string>> = {
  cache: 'file',
  rss: 'anon',
  rss_huge: 'anon_thp',
  mapped_file: 'file_mapped',
  dirty: 'file_dirty',
  writeback: 'file_writeback',
};

/** The hierarchical (`total_*`) keys of a v1 memory.stat under their v2 names. */
export function v1StatToV2(stat: Readonly<Record<string, number>>): Record<string, number> {
  const translated: Record<string, number> = {};
  for (const key in stat) {
    if (!key.startsWith(HIERARCHICAL_PREFIX)) continue;
    const name = key.slice(HIERARCHICAL_PREFIX.length);
    translated[V1_TO_V2_STAT[name] ?? name] = stat[key]!;
  }
  return translated;
}

function nearestSwappiness(dirs: readonly CgroupDir[]): number | undefined {
  for (const dir of dirs) {
    const swappiness = dir.optionalCount('memory.swappiness');
    if (swappiness !== undefined) return swappiness;
  }
  return undefined;
}

function readSwap(dirs: readonly CgroupDir[], memoryUsage: number): SwapReading | undefined {
  const [own] = dirs;
  const combinedUsage = own?.optionalCount('memory.memsw.usage_in_bytes');
  if (own === undefined || combinedUsage === undefined) return undefined;
  const root = new CgroupDir(own.mount, ROOT_CGROUP);
  return {
    limitChain: limitChain(dirs, 'memory.memsw.limit_in_bytes'),
    limitIncludesMemory: true,
    current: nonNegativeDifference(combinedUsage, memoryUsage),
    swappiness: nearestSwappiness([...dirs, root]),
  };
}

export const readMemoryV1: MemoryDriver = (mount, path): MemoryReading | undefined => {
  const dirs = levelsBelowRoot(path).map((level) => new CgroupDir(mount, level));
  const [own] = dirs;
  if (own === undefined) return undefined;
  const current = own.count('memory.usage_in_bytes');
  return {
    limitChain: limitChain(dirs, 'memory.limit_in_bytes'),
    current,
    stat: v1StatToV2(own.keyed('memory.stat')),
    swap: readSwap(dirs, current),
  };
};
