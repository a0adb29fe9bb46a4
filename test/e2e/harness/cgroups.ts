// Test-owned cgroups: one cgprocfs-test-<pid>-<random> tree per suite, with cleanup, on the host's layout:
// in every v1 hierarchy (+ hybrid's unified/), or on a pure cgroup2 host one subtree of the root whose every
// level delegates the controllers to its children (cgroup.subtree_control) as it gets them.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectLayout, type LayoutKind } from '../../../src/cgroup/layout.js';
import { V1_FILES, V2_FILES, type CgroupFiles, type DeviceIoCount, type DirOf, type IoLimits, type PressureResource } from './cgroup-files.js';
import { collect, isAlive, killTrees, waitFor, type RunOptions, type RunResult } from './exec.js';
import { CGROUP_ROOT } from './prerequisites.js';

/** memory is required; the others are made too so a test process looks like a container's (blkio: diskstats). */
const HIERARCHIES = ['memory', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'pids', 'systemd', 'unified'] as const;
/** What a cgroup2 test tree delegates level by level, of what its parent offers. */
export const V2_CONTROLLERS = ['cpu', 'cpuset', 'io', 'memory', 'pids'] as const;
// Exit status of the join wrapper when it cannot enter the cgroup, so tests fail loudly.
const JOIN_FAILED = 125;

/** The host's cgroup layout, as the daemon detects it; undefined when there is no cgroup tree to read. */
export function hostLayout(): LayoutKind | undefined {
  try {
    return detectLayout(CGROUP_ROOT).kind;
  } catch {
    return undefined;
  }
}

/**
 * The root directory of every hierarchy on the host: the v1 controller mounts (and hybrid's
 * unified/), or on a pure cgroup v2 host the one cgroup2 root.
 */
export function hierarchyRoots(): string[] {
  if (hostLayout() === 'v2') return [CGROUP_ROOT];
  const roots = readdirSync(CGROUP_ROOT).map((entry) => join(CGROUP_ROOT, entry));
  return roots.filter((dir) => existsSync(join(dir, 'cgroup.procs')));
}

/** The controllers the host's cgroup2 root enables for its children. */
export function delegatedByRoot(): string[] {
  return readFileSync(join(CGROUP_ROOT, 'cgroup.subtree_control'), 'utf8').split(/\s+/).filter(Boolean);
}

/** The cgroup2 controllers `dir` offers its children and this tree wants. */
function delegable(dir: string): string[] {
  const offered = readFileSync(join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/);
  return V2_CONTROLLERS.filter((c) => offered.includes(c));
}

/**
 * Lets the children of cgroup2 directory `dir` have the controllers it has. cgroup v2
 * has no internal processes: a cgroup that holds processes cannot delegate (EBUSY).
 */
function delegate(dir: string): void {
  const wanted = delegable(dir);
  const enabled = readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  const missing = wanted.filter((c) => !enabled.includes(c));
  if (missing.length === 0) return;
  try {
    writeFileSync(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
    throw new Error(
      `cannot make a child of ${dir}: it holds processes, and cgroup v2 lets only a cgroup without processes ` +
        'delegate controllers to children (start them in a leaf such as init.scope instead)',
    );
  }
}

export class TestCgroups {
  readonly name = `cgprocfs-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  /** v1 and hybrid: the v1 files (hybrid's unified/ has no controller); v2: cgroup2's. */
  readonly layout: LayoutKind;
  /** Absolute hierarchy mount points, deduplicated (cpu may be a symlink to cpu,cpuacct). */
  private readonly hierarchies: string[];
  private readonly files: CgroupFiles;
  private readonly started = new Set<number>();
  private readonly movedIn = new Set<number>();

  private constructor() {
    const layout = hostLayout();
    if (layout === undefined) throw new Error(`no cgroup hierarchy under ${CGROUP_ROOT}`);
    this.layout = layout;
    if (this.layout === 'v2') {
      this.hierarchies = [CGROUP_ROOT];
      this.files = V2_FILES;
    } else {
      const found = HIERARCHIES.map((h) => join(CGROUP_ROOT, h)).filter((dir) => existsSync(join(dir, 'cgroup.procs')));
      this.hierarchies = [...new Set(found.map((dir) => realpathSync(dir)))];
      this.files = V1_FILES;
    }
  }

  /** Makes the suite's top cgroup everywhere; a half-made tree is removed before the error is rethrown. */
  static async create(): Promise<TestCgroups> {
    const cgroups = new TestCgroups();
    try {
      if (cgroups.layout !== 'v2' && !cgroups.hierarchies.includes(join(CGROUP_ROOT, 'memory'))) {
        throw new Error(`no memory hierarchy in ${CGROUP_ROOT}`);
      }
      if (cgroups.layout === 'v2' && !delegatedByRoot().includes('memory')) {
        throw new Error(`${CGROUP_ROOT}/cgroup.subtree_control does not delegate the memory controller`);
      }
      cgroups.make('');
      return cgroups;
    } catch (err) {
      await cgroups.cleanup().catch(() => undefined);
      throw err;
    }
  }

  /** The cgroup path as /proc/<pid>/cgroup prints it, e.g. /cgprocfs-test-1-abc/a. */
  cgroupPath(rel = ''): string {
    return join('/', this.name, rel);
  }

  /** The directory of `rel` in the memory hierarchy (v2: the cgroup's one directory). */
  dir(rel = ''): string {
    return this.controllerDir('memory', rel);
  }

  /**
   * Creates `rel` (and its parents) in every hierarchy; optionally sets its memory limit.
   * On cgroup v2 each parent first delegates its controllers, so it must hold no processes.
   */
  make(rel: string, { memoryLimit }: { memoryLimit?: number } = {}): void {
    const steps = [this.name, ...rel.split('/').filter(Boolean)];
    for (const base of this.hierarchies) {
      let parent = base;
      for (const step of steps) {
        const dir = join(parent, step);
        if (!existsSync(dir)) {
          // The root's delegation is the host's (prerequisites.ts checks it); below it, ours.
          if (this.layout === 'v2' && parent !== CGROUP_ROOT) delegate(parent);
          mkdirSync(dir);
          // v1 cpuset children start with no cpus/mems and refuse tasks until given some.
          if (this.layout !== 'v2' && existsSync(join(dir, 'cpuset.cpus'))) {
            for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(parent, f)));
          }
        }
        parent = dir;
      }
    }
    if (memoryLimit !== undefined) this.setMemoryLimit(rel, memoryLimit);
  }

  /** Removes the empty leaf cgroup `rel` from every hierarchy (its processes moved out first). */
  remove(rel: string): void {
    for (const base of this.hierarchies) rmdirSync(join(base, this.name, rel));
  }

  private at(rel: string): DirOf {
    return (controller) => this.controllerDir(controller, rel);
  }

  setMemoryLimit(rel: string, bytes: number): void {
    this.files.setMemoryLimit(this.at(rel), bytes);
  }

  /** Swap `rel` may use on top of its memory (v1: memsw is memory plus swap, so set the memory limit first). */
  setSwapLimit(rel: string, bytes: number): void {
    this.files.setSwapLimit(this.at(rel), bytes);
  }

  /** The directory of `rel` in the v1 hierarchy of `controller` (cpu may be a symlink to cpu,cpuacct); v2: its one directory. */
  controllerDir(controller: string, rel = ''): string {
    return this.layout === 'v2' ? join(CGROUP_ROOT, this.name, rel) : join(CGROUP_ROOT, controller, this.name, rel);
  }

  /** CFS bandwidth (v1 cpu.cfs_*, v2 cpu.max): `rel` may run quotaUs per periodUs (-1: no quota). */
  setCpuQuota(rel: string, quotaUs: number, periodUs = 100_000): void {
    this.files.setCpuQuota(this.at(rel), quotaUs, periodUs);
  }

  /** Narrows the cpuset of `rel` to `cpus`, in the kernel's list syntax ("1", "0-1"). */
  setCpus(rel: string, cpus: string): void {
    this.files.setCpus(this.at(rel), cpus);
  }

  /** The CPUs `rel` may run on (cpuset.cpus.effective), e.g. "0-1". */
  effectiveCpus(rel = ''): string {
    return this.files.effectiveCpus(this.at(rel));
  }

  /** cpu.shares of `rel` (1024 by default; v2: the matching cpu.weight): its weight against its siblings. */
  setCpuShares(rel: string, shares: number): void {
    this.files.setCpuShares(this.at(rel), shares);
  }

  /** Throttles `rel` on block device `MAJ:MIN` (v2 io.max, v1 blkio.throttle.*; v1 counts I/O only under a rule). */
  setIoLimits(rel: string, device: string, limits: IoLimits): void {
    this.files.setIoLimits(this.at(rel), device, limits);
  }

  /** A number from a memory file of `rel`; v1 names are read from their v2 counterparts on a v2 host. */
  readMemory(rel: string, file: string): number {
    return Number(readFileSync(join(this.dir(rel), this.files.memoryFileName(file)), 'utf8').trim());
  }

  /** Bytes charged to `rel` and its descendants (v1 memory.usage_in_bytes, v2 memory.current). */
  memoryCurrent(rel: string): number {
    return this.files.memoryCurrent(this.at(rel));
  }

  /** memory.stat of `rel` as the kernel prints it: v2 names, or v1's (hierarchical ones prefixed total_). */
  memoryStat(rel: string): Record<string, number> {
    return this.files.memoryStat(this.at(rel));
  }

  /** Swap `rel` uses, bytes (v1: memsw less memory); undefined without swap accounting. */
  swapCurrent(rel: string): number | undefined {
    return this.files.swapCurrent(this.at(rel));
  }

  /** I/O of `rel` and its descendants per device `MAJ:MIN` (v2 io.stat; v1 blk-throttle's recursive counters). */
  ioStat(rel: string): Map<string, DeviceIoCount> {
    return this.files.ioStat(this.at(rel));
  }

  /** The kernel's PSI file of `rel` (cgroup2: under unified/ on a hybrid host; none on pure v1). */
  pressure(rel: string, resource: PressureResource): string {
    return this.files.pressure(this.at(rel), resource);
  }

  /** The file that lists a cgroup's own threads on this layout. */
  get threadList(): 'tasks' | 'cgroup.threads' {
    return this.files.threadList;
  }

  /** The memory cgroup of `pid` as /proc/<pid>/cgroup prints it (v2: its one cgroup); undefined once it exited. */
  cgroupOf(pid: number): string | undefined {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      return undefined;
    }
    const pattern = this.layout === 'v2' ? /^0::(.*)$/m : /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m;
    return pattern.exec(text)?.[1];
  }

  /** The cgroup.procs files of `rel` in every hierarchy. */
  procsFiles(rel: string): string[] {
    return this.hierarchies.map((base) => join(base, this.name, rel, 'cgroup.procs'));
  }

  /** A shell snippet that moves the shell running it into `rel` ("0" = the writer, in any pid namespace). */
  joinShell(rel: string): string {
    return `for f in ${this.procsFiles(rel).join(' ')}; do echo 0 > "$f" || exit ${JOIN_FAILED}; done`;
  }

  /** Moves a process that someone else started into `rel`; cleanup moves it back out. */
  move(pid: number, rel: string): void {
    if (!this.started.has(pid)) this.movedIn.add(pid);
    for (const procs of this.procsFiles(rel)) writeFileSync(procs, String(pid));
  }

  /** Starts `cmd` already inside `rel`: it joins before exec, so even its first instruction is accounted there. */
  spawn(rel: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('sh', ['-c', `${this.joinShell(rel)}; exec "$@"`, 'cgjoin', cmd, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...opts,
    });
    if (child.pid !== undefined) this.started.add(child.pid);
    return child;
  }

  run(rel: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const { timeoutMs, input, ...spawnOpts } = opts;
    return collect(this.spawn(rel, cmd, args, spawnOpts), { timeoutMs, input });
  }

  /**
   * Kills what this suite started (process trees, by pid), moves processes that were moved in
   * back to the hierarchy root, kills anything else born inside, then removes the cgroups
   * children first. Throws, after trying everything, if anything is left.
   */
  async cleanup(): Promise<void> {
    const problems: string[] = [];
    const stuck = await killTrees([...this.started]);
    if (stuck.length > 0) problems.push(`processes ${stuck.join(',')} survived SIGKILL`);
    // Every hierarchy, not only ours: a runtime started from a test cgroup (LXC, nspawn) makes
    // its cgroups below it in the v1 hierarchies we never use too (devices, freezer).
    const everyHierarchy = new Set([...this.hierarchies, ...hierarchyRoots().map((dir) => realpathSync(dir))]);
    for (const base of everyHierarchy) {
      const top = join(base, this.name);
      if (!existsSync(top)) continue;
      for (const dir of postOrder(top)) {
        const err = await this.removeCgroup(base, dir);
        if (err) problems.push(err);
      }
    }
    this.started.clear();
    this.movedIn.clear();
    if (problems.length > 0) throw new Error(`cgroup cleanup of ${this.name}: ${problems.join('; ')}`);
  }

  private async removeCgroup(base: string, dir: string): Promise<string | undefined> {
    const pids = readPids(join(dir, 'cgroup.procs'));
    for (const pid of pids.filter((p) => this.movedIn.has(p))) {
      try {
        writeFileSync(join(base, 'cgroup.procs'), String(pid));
      } catch {
        // exited meanwhile
      }
    }
    // Only test commands can have started the others (the cgroup name is ours alone).
    const born = pids.filter((p) => !this.movedIn.has(p));
    if (born.length > 0) await killTrees(born);
    try {
      await waitFor(`rmdir ${dir}`, () => {
        try {
          rmdirSync(dir);
          return true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
          if ((err as NodeJS.ErrnoException).code === 'EBUSY') return false;
          throw err;
        }
      }, { timeoutMs: 5_000 });
      return undefined;
    } catch (err) {
      const left = readPids(join(dir, 'cgroup.procs')).filter(isAlive);
      return `${(err as Error).message} (pids left: ${left.join(',') || 'none'})`;
    }
  }
}

function readPids(procs: string): number[] {
  try {
    return readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Directories under and including `top`, children before parents (rmdir order). */
function postOrder(top: string): string[] {
  const subdirs = readdirSync(top, { withFileTypes: true }).filter((e) => e.isDirectory());
  return [...subdirs.flatMap((e) => postOrder(join(top, e.name))), top];
}
