// Test-owned cgroups: one cgprocfs-test-<pid>-<random> tree per suite in every v1 hierarchy (+ unified), with cleanup.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collect, isAlive, killTrees, waitFor, type RunOptions, type RunResult } from './exec.js';
import { CGROUP_ROOT } from './prerequisites.js';

/** memory is required; the others are made too so a test process looks like a container's. */
const HIERARCHIES = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'systemd', 'unified'] as const;
// Exit status of the join wrapper when it cannot enter the cgroup, so tests fail loudly.
const JOIN_FAILED = 125;

export class TestCgroups {
  readonly name = `cgprocfs-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  /** Absolute hierarchy mount points, deduplicated (cpu may be a symlink to cpu,cpuacct). */
  private readonly hierarchies: string[];
  private readonly started = new Set<number>();
  private readonly movedIn = new Set<number>();

  private constructor() {
    const found = HIERARCHIES.map((h) => join(CGROUP_ROOT, h)).filter((dir) => existsSync(join(dir, 'cgroup.procs')));
    this.hierarchies = [...new Set(found.map((dir) => realpathSync(dir)))];
  }

  /** Makes the suite's top cgroup everywhere; a half-made tree is removed before the error is rethrown. */
  static async create(): Promise<TestCgroups> {
    const cgroups = new TestCgroups();
    try {
      if (!cgroups.hierarchies.includes(join(CGROUP_ROOT, 'memory'))) throw new Error(`no memory hierarchy in ${CGROUP_ROOT}`);
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

  /** The directory of `rel` in the memory hierarchy. */
  dir(rel = ''): string {
    return join(CGROUP_ROOT, 'memory', this.name, rel);
  }

  /** Creates `rel` (and its parents) in every hierarchy; optionally sets its memory limit. */
  make(rel: string, { memoryLimit }: { memoryLimit?: number } = {}): void {
    const steps = [this.name, ...rel.split('/').filter(Boolean)];
    for (const base of this.hierarchies) {
      let parent = base;
      for (const step of steps) {
        const dir = join(parent, step);
        if (!existsSync(dir)) {
          mkdirSync(dir);
          // v1 cpuset children start with no cpus/mems and refuse tasks until given some.
          if (existsSync(join(dir, 'cpuset.cpus'))) {
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

  setMemoryLimit(rel: string, bytes: number): void {
    writeFileSync(join(this.dir(rel), 'memory.limit_in_bytes'), String(bytes));
  }

  /** The directory of `rel` in the v1 hierarchy of `controller` (cpu may be a symlink to cpu,cpuacct). */
  controllerDir(controller: string, rel = ''): string {
    return join(CGROUP_ROOT, controller, this.name, rel);
  }

  /** v1 CFS bandwidth: `rel` may run quotaUs per periodUs (-1: no quota). The period goes first. */
  setCpuQuota(rel: string, quotaUs: number, periodUs = 100_000): void {
    writeFileSync(join(this.controllerDir('cpu', rel), 'cpu.cfs_period_us'), String(periodUs));
    writeFileSync(join(this.controllerDir('cpu', rel), 'cpu.cfs_quota_us'), String(quotaUs));
  }

  /** Narrows the v1 cpuset of `rel` to `cpus`, in the kernel's list syntax ("1", "0-1"). */
  setCpus(rel: string, cpus: string): void {
    writeFileSync(join(this.controllerDir('cpuset', rel), 'cpuset.cpus'), cpus);
  }

  /** v1 cpu.shares of `rel` (1024 by default): its weight against its siblings when CPUs are contended. */
  setCpuShares(rel: string, shares: number): void {
    writeFileSync(join(this.controllerDir('cpu', rel), 'cpu.shares'), String(shares));
  }

  readMemory(rel: string, file: string): number {
    return Number(readFileSync(join(this.dir(rel), file), 'utf8').trim());
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
    for (const base of this.hierarchies) {
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
