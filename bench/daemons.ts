// The servers under test, each on its own mountpoint in the bench's work directory:
// cgprocfs (supervisor + server process), lxcfs -l --enable-cfs, and the C floor
// server single- and multi-threaded; plus the host's own /proc as a reference target.
// Each is started in its own session (a Ctrl-C meant for the bench must not reach
// it) and stopped by pid, with fusectl abort and lazy unmount as last resorts.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchCgroup } from './cgroups.js';
import { killAll, signal, waitUntil } from './exec.js';
import { abortFuse, detachAll, mountsAt } from './mounts.js';
import { childrenOf, hostMemTotalKb } from './proc.js';

export type TargetName = 'cgprocfs' | 'lxcfs' | 'floor-st' | 'floor-mt' | 'host';

export interface Target {
  readonly name: TargetName;
  /** What a reader opens for `file` ('proc/meminfo'), or undefined when this target lacks it. */
  pathOf(file: string): string | undefined;
  /** The processes whose CPU, RSS and fds are this target's cost. */
  pids(): number[];
  /** The MemTotal (kB) a reader in `cgroup` must read in meminfo here. */
  expectMemTotalKb(cgroup: BenchCgroup): number;
  /** Things that went wrong while serving (a server restart). */
  readonly events: string[];
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
/** cgprocfs's supervisor takes over 10 s to stop after a long run (it deletes its handle arenas). */
const STOP_TIMEOUT_MS = 30_000;

/** A FUSE server process the bench started on `mountpoint`. */
abstract class FuseDaemon implements Target {
  readonly events: string[] = [];
  protected readonly child: ChildProcess;
  protected exited = false;
  private output = '';

  constructor(
    readonly name: TargetName,
    readonly mountpoint: string,
    cmd: string,
    args: readonly string[],
    logFile: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    mkdirSync(mountpoint, { recursive: true });
    const log = openSync(logFile, 'w');
    this.child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', log], env });
    closeSync(log);
    this.child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      this.output = (this.output + s).slice(-16_384);
      writeFileSync(logFile, s, { flag: 'a' });
    });
    this.child.once('exit', () => (this.exited = true));
    this.child.once('error', (err) => {
      this.exited = true;
      this.output += String(err);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Waits for `ready(output)` and the mount; throws with the log tail otherwise. */
  protected async waitReady(ready: (output: string) => boolean, logFile: string): Promise<void> {
    const ok = await waitUntil(() => this.exited || (ready(this.output) && mountsAt(this.mountpoint).length > 0), START_TIMEOUT_MS);
    if (!ok || this.exited) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : this.output;
      throw new Error(`${this.name} did not start on ${this.mountpoint}\n${tail}`);
    }
  }

  pathOf(file: string): string | undefined {
    const path = join(this.mountpoint, file);
    return existsSync(path) ? path : undefined;
  }

  pids(): number[] {
    return this.exited ? [] : [this.pid];
  }

  abstract expectMemTotalKb(cgroup: BenchCgroup): number;

  /** SIGTERM and wait; then abort, SIGKILL and detach whatever is left. */
  async stop(): Promise<void> {
    const all = [this.pid, ...this.knownChildren()];
    if (!this.exited) {
      signal(this.pid, 'SIGTERM');
      await waitUntil(() => this.exited, STOP_TIMEOUT_MS);
    }
    if (!this.exited || mountsAt(this.mountpoint).length > 0) abortFuse(this.mountpoint);
    const stuck = await killAll(all);
    detachAll(this.mountpoint);
    try {
      rmdirSync(this.mountpoint);
    } catch {
      // Not empty or gone: nothing of ours is inside.
    }
    if (stuck.length > 0) throw new Error(`${this.name}: pids ${stuck.join(',')} survived SIGKILL`);
  }

  protected knownChildren(): number[] {
    return [];
  }
}

/** cgprocfs: the supervisor and its server process(es), which the supervisor may replace. */
export class Cgprocfs extends FuseDaemon {
  private readonly servers = new Set<number>();
  private stateDir = '';

  /** `stateDir` should be on tmpfs, as the default /run/cgprocfs is on a systemd host: snapshots are written there. */
  static async start(opts: { bin: string; workDir: string; stateDir: string; logDir: string; nodeOptions?: string; serveArgs?: readonly string[] }): Promise<Cgprocfs> {
    const mountpoint = join(opts.workDir, 'mnt-cgprocfs');
    const logFile = join(opts.logDir, 'cgprocfs.log');
    const env = { ...process.env };
    // Node flags go on the command line (NODE_OPTIONS refuses --cpu-prof); the
    // supervisor hands them on to its server process.
    const nodeArgs = opts.nodeOptions?.split(' ').filter(Boolean) ?? [];
    const args = [...nodeArgs, opts.bin, 'serve', '--mountpoint', mountpoint, '--state-dir', opts.stateDir, ...(opts.serveArgs ?? [])];
    const daemon = new Cgprocfs('cgprocfs', mountpoint, process.execPath, args, logFile, env);
    daemon.stateDir = opts.stateDir;
    try {
      await daemon.waitReady((out) => out.includes('"msg":"serving"'), logFile);
    } catch (err) {
      await daemon.stop().catch(() => undefined);
      throw err;
    }
    daemon.pids(); // learn the server's pid now, so a later replacement is noticed
    return daemon;
  }

  /**
   * Supervisor + its server processes; a server pid that changed is recorded as an event.
   * The heal process it runs for a moment after start is neither (it once counted as a
   * replaced server, and its memory in the "before" figures).
   */
  override pids(): number[] {
    if (this.exited) return [];
    const servers = childrenOf(this.pid).filter(isServerProcess);
    for (const pid of servers) {
      if (!this.servers.has(pid) && this.servers.size > 0) this.events.push(`server process replaced: new pid ${pid}`);
      this.servers.add(pid);
    }
    return [this.pid, ...servers];
  }

  override expectMemTotalKb(cgroup: BenchCgroup): number {
    return cgroup.memTotalKb;
  }

  /** kB the state directory occupies (its handle arenas are sparse files: tmpfs memory in production). */
  stateDirKb(): number {
    return allocatedKb(this.stateDir);
  }

  protected override knownChildren(): number[] {
    return [...this.servers];
  }
}

function allocatedKb(path: string): number {
  try {
    const st = lstatSync(path);
    if (!st.isDirectory()) return (st.blocks * 512) / 1024;
    return readdirSync(path).reduce((kb, name) => kb + allocatedKb(join(path, name)), 0);
  } catch {
    return 0;
  }
}

function isServerProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server-process.js');
  } catch {
    return false;
  }
}

export class Lxcfs extends FuseDaemon {
  static async start(workDir: string, logDir: string): Promise<Lxcfs> {
    const mountpoint = join(workDir, 'mnt-lxcfs');
    const logFile = join(logDir, 'lxcfs.log');
    // Its own pidfile: the default /run/lxcfs.pid belongs to a host lxcfs, if any.
    const args = ['-f', '-l', '--enable-cfs', '-p', join(workDir, 'lxcfs.pid'), mountpoint];
    const daemon = new Lxcfs('lxcfs', mountpoint, 'lxcfs', args, logFile);
    try {
      await daemon.waitReady(() => existsSync(join(mountpoint, 'proc/meminfo')), logFile);
    } catch (err) {
      await daemon.stop().catch(() => undefined);
      throw err;
    }
    return daemon;
  }

  override expectMemTotalKb(cgroup: BenchCgroup): number {
    return cgroup.memTotalKb;
  }
}

/** The floor: one static file holding a snapshot of the host's meminfo. */
export class Floor extends FuseDaemon {
  private constructor(name: TargetName, mountpoint: string, bin: string, args: string[], logFile: string, private readonly memTotalKb: number) {
    super(name, mountpoint, bin, args, logFile);
  }

  static async start(opts: { bin: string; workDir: string; logDir: string; threads: 'single' | 'multi' }): Promise<Floor> {
    const name: TargetName = opts.threads === 'single' ? 'floor-st' : 'floor-mt';
    const content = join(opts.workDir, 'floor-content');
    if (!existsSync(content)) writeFileSync(content, readFileSync('/proc/meminfo'));
    const memTotalKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync(content, 'utf8'))?.[1]);
    const mountpoint = join(opts.workDir, `mnt-${name}`);
    const logFile = join(opts.logDir, `${name}.log`);
    const args = [opts.threads === 'single' ? '-s' : '-m', content, mountpoint];
    const daemon = new Floor(name, mountpoint, opts.bin, args, logFile, memTotalKb);
    try {
      await daemon.waitReady((out) => out.includes('serving'), logFile);
    } catch (err) {
      await daemon.stop().catch(() => undefined);
      throw err;
    }
    return daemon;
  }

  /** Every file name maps to the one static file. */
  override pathOf(): string {
    return join(this.mountpoint, 'file');
  }

  override expectMemTotalKb(): number {
    return this.memTotalKb;
  }
}

/** The host's own /proc and /sys: no daemon, shows what the reader alone can do. */
export class HostProc implements Target {
  readonly name = 'host' as const;
  readonly events: string[] = [];
  private readonly memTotalKb = hostMemTotalKb();

  pathOf(file: string): string | undefined {
    const path = join('/', file);
    return existsSync(path) ? path : undefined;
  }

  pids(): number[] {
    return [];
  }

  expectMemTotalKb(): number {
    return this.memTotalKb;
  }

  async stop(): Promise<void> {}
}
