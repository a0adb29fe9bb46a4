// The bench's own cgroups: one cgprocfs-bench-<pid> parent in each v1 hierarchy a
// container uses (memory, cpu, cpuacct, cpuset, pids), children with distinct memory
// limits, and their removal (tasks killed by pid, directories children-first). Trees
// left by a bench that was SIGKILLed are recognised by their dead pid and removed.
import { existsSync, readdirSync, readFileSync, realpathSync, rmdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRunning, killAll, waitUntil } from './exec.js';
import { hostMemTotalKb } from './proc.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const HIERARCHIES = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids'] as const;
const PREFIX = 'cgprocfs-bench-';
const MIB = 1024 * 1024;
/** The v1 default weight: one cgroup per reader competes like one task. */
const CPU_SHARES_PER_READER = 1024;

export interface BenchCgroup {
  /** Path inside each hierarchy, e.g. cgprocfs-bench-42/c7. */
  rel: string;
  /** cgroup.procs of every hierarchy: what a reader writes "0" to in order to join. */
  procsFiles: string[];
  /** What a reader inside must see as MemTotal: the limit the kernel kept, in kB. */
  memTotalKb: number;
}

function hierarchyDirs(): string[] {
  const found = HIERARCHIES.map((h) => join(CGROUP_ROOT, h)).filter((d) => existsSync(join(d, 'cgroup.procs')));
  // cpu and cpuacct may be one mount reached by two symlinks.
  return [...new Set(found.map((d) => realpathSync(d)))];
}

function readPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Directories under and including `top`, children first. */
function postOrder(top: string): string[] {
  let subdirs: string[] = [];
  try {
    subdirs = readdirSync(top, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(top, e.name));
  } catch {
    return [];
  }
  return [...subdirs.flatMap(postOrder), top];
}

/** Kills every task left in the tree at `top` (only the bench starts tasks there), then removes it. */
async function removeTree(top: string): Promise<string[]> {
  const problems: string[] = [];
  for (const dir of postOrder(top)) {
    const left = await killAll(readPids(dir));
    if (left.length > 0) problems.push(`${dir}: pids ${left.join(',')} survived SIGKILL`);
    const removed = await waitUntil(() => {
      try {
        rmdirSync(dir);
        return true;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ENOENT';
      }
    }, 5_000);
    if (!removed) problems.push(`${dir}: rmdir kept failing (tasks: ${readPids(dir).join(',') || 'none'})`);
  }
  return problems;
}

export class BenchCgroups {
  readonly name = `${PREFIX}${process.pid}`;
  private readonly dirs = hierarchyDirs();
  private readonly made = new Map<string, BenchCgroup>();

  constructor() {
    if (!this.dirs.includes(join(CGROUP_ROOT, 'memory'))) {
      throw new Error(`the bench needs a cgroup v1 memory hierarchy at ${CGROUP_ROOT}/memory (hybrid or v1 host)`);
    }
  }

  /** Removes bench trees whose owner pid is dead (a bench killed with SIGKILL). */
  static async removeStale(log: (line: string) => void): Promise<void> {
    for (const base of hierarchyDirs()) {
      for (const entry of readdirSync(base)) {
        const owner = entry.startsWith(PREFIX) ? Number(entry.slice(PREFIX.length)) : NaN;
        if (!Number.isInteger(owner) || isRunning(owner)) continue;
        log(`removing stale ${join(base, entry)} (its bench, pid ${owner}, is gone)`);
        await removeTree(join(base, entry));
      }
    }
  }

  /**
   * The child cgroup `name` (made on first use) with a memory limit of `limitMiB`;
   * `readers` scales its cpu.shares so a cgroup holding n readers weighs as much as
   * n single-reader cgroups.
   */
  make(name: string, limitMiB: number, readers = 1): BenchCgroup {
    const existing = this.made.get(name);
    if (existing) return existing;
    const rel = join(this.name, name);
    for (const base of this.dirs) {
      for (const dir of [join(base, this.name), join(base, rel)]) {
        if (existsSync(dir)) continue;
        mkdirSync(dir);
        // A v1 cpuset child starts with no cpus/mems and refuses tasks until given some.
        if (existsSync(join(dir, 'cpuset.cpus'))) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(dir, '..', f)));
        }
      }
    }
    const memory = join(CGROUP_ROOT, 'memory', rel);
    writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limitMiB * MIB));
    const cpu = join(CGROUP_ROOT, 'cpu', rel, 'cpu.shares');
    if (existsSync(cpu)) writeFileSync(cpu, String(CPU_SHARES_PER_READER * readers));
    const limit = Number(readFileSync(join(memory, 'memory.limit_in_bytes'), 'utf8').trim());
    const cgroup: BenchCgroup = {
      rel,
      procsFiles: this.dirs.map((base) => join(base, rel, 'cgroup.procs')),
      memTotalKb: Math.min(Math.floor(limit / 1024), hostMemTotalKb()),
    };
    this.made.set(name, cgroup);
    return cgroup;
  }

  /**
   * CPU seconds every task of the bench's cgroups used so far (cpuacct.usage of the
   * parent): its readers, live, whatever reaps them; 0 before the first cgroup exists.
   */
  cpuSeconds(): number {
    const usage = join(CGROUP_ROOT, 'cpuacct', this.name, 'cpuacct.usage');
    return existsSync(usage) ? Number(readFileSync(usage, 'utf8').trim()) / 1e9 : 0;
  }

  /** The parent's tree in every hierarchy, tasks killed first. Throws if anything is left. */
  async remove(): Promise<void> {
    const problems: string[] = [];
    for (const base of this.dirs) {
      const top = join(base, this.name);
      if (existsSync(top)) problems.push(...(await removeTree(top)));
    }
    this.made.clear();
    if (problems.length > 0) throw new Error(problems.join('; '));
  }
}

/** Distinct limits, so a reading from the wrong cgroup cannot pass: 128 MiB + i MiB. */
export function limitMiBOf(index: number): number {
  return 128 + index;
}
