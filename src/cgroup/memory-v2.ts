// The cgroup v2 memory driver. v2 is the reader's vocabulary, so this driver only
// finds the files: a cgroup whose parent does not delegate the memory controller
// has no memory.* files and is charged to its nearest ancestor that has them (the
// root, that is the host, when none below the root has).
import { levelsBelowRoot } from './hierarchy.js';
import { CgroupDir, limitChain, type MemoryDriver, type MemoryReading, type SwapReading } from './memory.js';

function readSwap(levels: readonly CgroupDir[]): SwapReading | undefined {
  const [own] = levels;
  const current = own?.optionalCount('memory.swap.current');
  if (current === undefined) return undefined;
  const chain = limitChain(levels, 'memory.swap.max');
  return { limitChain: chain, limitIncludesMemory: false, current, swappiness: undefined };
}

export const readMemoryV2: MemoryDriver = (mount, path): MemoryReading | undefined => {
  const dirs = levelsBelowRoot(path).map((level) => new CgroupDir(mount, level));
  const limits = dirs.map((dir) => dir.optionalLimit('memory.max'));
  const charged = limits.findIndex((limit) => limit !== undefined);
  if (charged !== 0) dirs[0]?.mustExist();
  const own = dirs[charged];
  if (own === undefined) return undefined;
  return {
    limitChain: limits.slice(charged).filter((limit) => limit !== undefined),
    current: own.count('memory.current'),
    stat: own.keyed('memory.stat'),
    swap: readSwap(dirs.slice(charged)),
  };
};
