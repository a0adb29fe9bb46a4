// Reader processes (bench/c/reader.c) as the bench drives them: each joins its cgroup
// and, like a container, becomes pid 1 of its own pid namespace (or stays in the
// host's), then runs timed read loops on command. Also the sleepers that give cgroups
// tasks for the loadavg sampler to count.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { BenchCgroup } from './cgroups.js';
import { killAll } from './exec.js';

/** What one reader reports for one run (see reader.c). */
export interface ReaderResult {
  reads: number;
  bad: number;
  errors: number;
  maxNs: number;
  activeNs: number;
  problem: string;
  hist: [number, number][];
}

/** A run's read plan: the file, the check, the window, and optionally this reader's time slots. */
export interface RunSpec {
  path: string;
  expectMemTotalKb: number;
  startNs: bigint;
  endNs: bigint;
  slot?: { ns: bigint; index: number; count: number };
}

export class Reader {
  private readonly pending: ((line: string) => void)[] = [];
  private readonly ready: Promise<void>;
  private exited = false;

  private constructor(private readonly child: ChildProcess, readonly cgroup: BenchCgroup, readonly pidns: boolean | number) {
    let markReady!: () => void;
    let fail!: (err: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      fail = reject;
    });
    this.ready.catch(() => undefined);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('ready ')) markReady();
      else this.pending.shift()?.(line);
    });
    child.once('exit', (code, sig) => {
      this.exited = true;
      const err = new Error(`reader in ${cgroup.rel} exited (${code ?? sig}) - see the bench's readers.log`);
      fail(err);
      for (const reject of this.pending.splice(0)) reject(JSON.stringify({ exit: err.message }));
    });
  }

  /** `pidns`: pid 1 of a namespace of its own, or (a pid) a later process of another reader's. */
  static spawn(bin: string, cgroup: BenchCgroup, pidns: boolean | number, stderrFd: number): Reader {
    const args = cgroup.procsFiles.flatMap((f) => ['--join', f]);
    if (pidns === true) args.push('--pidns');
    else if (typeof pidns === 'number') args.push('--pidns-of', String(pidns));
    const child = spawn(bin, args, { detached: true, stdio: ['pipe', 'pipe', stderrFd] });
    return new Reader(child, cgroup, pidns);
  }

  /** The reader's outer process; killing it kills the namespace's pid 1 (PDEATHSIG). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  run(spec: RunSpec): Promise<ReaderResult> {
    const slot = spec.slot ?? { ns: 0n, index: 0, count: 0 };
    const line = ['run', spec.path, spec.expectMemTotalKb, spec.startNs, spec.endNs, slot.ns, slot.index, slot.count].join(' ');
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(new Error(`reader in ${this.cgroup.rel} is gone`));
      this.pending.push((answer) => {
        const parsed = JSON.parse(answer) as ReaderResult & { exit?: string; error?: string };
        if (parsed.exit || parsed.error) reject(new Error(parsed.exit ?? parsed.error));
        else resolve(parsed);
      });
      this.child.stdin!.write(`${line}\n`);
    });
  }

  async kill(): Promise<void> {
    this.child.stdin?.destroy();
    if (!this.exited) await killAll([this.pid]);
  }
}

/** Readers started together; `kill` is registered with the bench's cleanup by the caller. */
export class ReaderGroup {
  private constructor(readonly readers: Reader[]) {}

  /** One reader per cgroup in `cgroups`, all ready (or all killed and an error thrown). */
  static async start(bin: string, cgroups: readonly BenchCgroup[], pidns: boolean, stderrFd: number): Promise<ReaderGroup> {
    const group = new ReaderGroup(cgroups.map((cg) => Reader.spawn(bin, cg, pidns, stderrFd)));
    try {
      await Promise.all(group.readers.map((r) => r.whenReady()));
    } catch (err) {
      await group.kill();
      throw err;
    }
    return group;
  }

  /**
   * `count` readers in one container: one cgroup and one pid namespace, whose pid 1 is
   * the first reader (all ready, or all killed and an error thrown).
   */
  static async container(bin: string, cgroup: BenchCgroup, count: number, stderrFd: number): Promise<ReaderGroup> {
    const first = Reader.spawn(bin, cgroup, true, stderrFd);
    const group = new ReaderGroup([first]);
    try {
      await first.whenReady();
      for (let i = 1; i < count; i++) group.readers.push(Reader.spawn(bin, cgroup, first.pid, stderrFd));
      await Promise.all(group.readers.map((r) => r.whenReady()));
    } catch (err) {
      await group.kill();
      throw err;
    }
    return group;
  }

  get size(): number {
    return this.readers.length;
  }

  async kill(): Promise<void> {
    await Promise.all(this.readers.map((r) => r.kill()));
  }
}

/** Processes that only sleep, `perCgroup` in each cgroup (one parent + children). */
export class Sleepers {
  private constructor(private readonly children: ChildProcess[], readonly pids: number[]) {}

  static async start(bin: string, cgroups: readonly BenchCgroup[], perCgroup: number, stderrFd: number): Promise<Sleepers> {
    const children: ChildProcess[] = [];
    const pids: number[] = [];
    try {
      const started = cgroups.map((cg) => {
        const args = [...cg.procsFiles.flatMap((f) => ['--join', f]), '--sleepers', String(perCgroup - 1)];
        const child = spawn(bin, args, { detached: true, stdio: ['pipe', 'pipe', stderrFd] });
        children.push(child);
        if (child.pid) pids.push(child.pid);
        return new Promise<void>((resolve, reject) => {
          createInterface({ input: child.stdout! }).once('line', (line) => {
            pids.push(...line.split(' ').slice(1).map(Number));
            resolve();
          });
          child.once('exit', () => reject(new Error(`sleepers in ${cg.rel} exited early`)));
        });
      });
      await Promise.all(started);
    } catch (err) {
      await new Sleepers(children, pids).kill();
      throw err;
    }
    return new Sleepers(children, pids);
  }

  async kill(): Promise<void> {
    for (const c of this.children) c.stdin?.destroy();
    await killAll(this.pids, 10_000);
  }
}
