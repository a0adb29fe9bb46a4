// One cgprocfs daemon under test: start on a fresh mountpoint, wait for "serving", stop by SIGTERM, hard cleanup.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killTrees, processTree, waitFor } from './exec.js';
import { abortFuseConnections, mountsAt, unmountAll } from './mounts.js';
import { DAEMON_BIN } from './prerequisites.js';

export const FSTYPE = 'fuse.cgprocfs';
const KEEP_OUTPUT = 64 * 1024;

export interface DaemonOptions {
  /** An existing directory owned by the caller; by default a fresh one that destroy() removes. */
  mountpoint?: string;
  /** Extra `serve` arguments, e.g. ['--resolve', 'caller']. */
  args?: readonly string[];
  startTimeoutMs?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A fresh, empty directory to mount on; realpath so it matches /proc/self/mountinfo. */
export function makeMountpoint(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), 'cgprocfs-e2e-')));
}

/** A fresh state directory on tmpfs (as /run/cgprocfs is), never the host's own; the caller removes it. */
export function makeStateDir(): string {
  return mkdtempSync(join(existsSync('/run') ? '/run' : tmpdir(), 'cgprocfs-e2e-state-'));
}

/** Detaches whatever is mounted at `dir` and removes it. Safe to call twice. */
export async function removeMountpoint(dir: string): Promise<void> {
  await unmountAll(dir);
  removeDir(dir);
}

function removeDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export class Daemon {
  private output = '';
  private partialLine = '';
  private serving = false;
  private exit: Exit | undefined;
  private readonly exited: Promise<Exit>;

  private constructor(
    child: ChildProcess,
    readonly pid: number,
    readonly mountpoint: string,
    private readonly ownsMountpoint: boolean,
    /** A state directory made for this daemon, removed by destroy(). */
    private readonly ownStateDir: string | undefined,
  ) {
    // Keep draining both pipes for the daemon's whole life: a full pipe would block its logger.
    const keep = (s: string) => (this.output = (this.output + s).slice(-KEEP_OUTPUT));
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      keep(s);
      const lines = (this.partialLine + s).split('\n');
      this.partialLine = lines.pop() ?? '';
      if (lines.some((line) => logMessage(line) === 'serving')) this.serving = true;
    });
    child.stderr?.setEncoding('utf8').on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve((this.exit = { code, signal }))),
    );
  }

  static async start(opts: DaemonOptions = {}): Promise<Daemon> {
    const mountpoint = opts.mountpoint ?? makeMountpoint();
    const args = opts.args ?? [];
    // Never the host's /run/cgprocfs: a state directory of the test's own, on tmpfs like it.
    const ownStateDir = args.includes('--state-dir') ? undefined : makeStateDir();
    const stateArgs = ownStateDir ? ['--state-dir', ownStateDir] : [];
    const child = spawn(process.execPath, [DAEMON_BIN, 'serve', '--mountpoint', mountpoint, ...stateArgs, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    if (child.pid === undefined) {
      const err = await spawnError;
      if (!opts.mountpoint) removeDir(mountpoint);
      if (ownStateDir) rmSync(ownStateDir, { recursive: true, force: true });
      throw new Error(`could not spawn ${DAEMON_BIN}: ${err.message}`);
    }
    const daemon = new Daemon(child, child.pid, mountpoint, !opts.mountpoint, ownStateDir);
    try {
      await daemon.waitServing(opts.startTimeoutMs ?? 20_000);
      return daemon;
    } catch (err) {
      await daemon.destroy();
      throw err;
    }
  }

  /** The state directory made for this daemon (undefined when the test gave its own). */
  get stateDir(): string | undefined {
    return this.ownStateDir;
  }

  /** An absolute path inside the mount. */
  path(rel = ''): string {
    return join(this.mountpoint, rel);
  }

  logs(): string {
    return this.output;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  private async waitServing(timeoutMs: number): Promise<void> {
    try {
      await waitFor('the daemon to log "serving"', () => this.serving || this.exit !== undefined, { timeoutMs });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- daemon output\n${this.output}`);
    }
    if (!this.serving) throw new Error(`daemon exited ${JSON.stringify(this.exit)} before serving\n--- daemon output\n${this.output}`);
  }

  /** SIGTERM (or SIGINT) by pid, then wait for the exit the daemon chose. */
  async stop(signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM', timeoutMs = 15_000): Promise<Exit> {
    if (this.exit) return this.exit;
    process.kill(this.pid, signal);
    const timer = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`daemon ignored ${signal} for ${timeoutMs} ms\n${this.output}`)), timeoutMs).unref(),
    );
    return Promise.race([this.exited, timer]);
  }

  /** SIGKILL the daemon and every process it started, as a crash would; the mount is left behind. */
  async kill(): Promise<Exit> {
    const stuck = await killTrees([this.pid]);
    if (stuck.length > 0) throw new Error(`daemon processes ${stuck.join(',')} survived SIGKILL`);
    return this.exited;
  }

  /**
   * Hard cleanup for afterAll: never throws on the way and always leaves no mount, no process
   * and (if we made it) no directory. A server stuck in D state on its own mount is freed by a
   * fusectl abort.
   */
  async destroy(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (step: () => Promise<unknown> | void) => {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    };
    if (this.running) {
      let stuck = await killTrees([this.pid]);
      if (stuck.length > 0) {
        await attempt(() => abortFuseConnections(this.mountpoint));
        stuck = await killTrees(stuck);
      }
      if (stuck.length > 0) errors.push(new Error(`daemon processes ${stuck.join(',')} survived SIGKILL and abort`));
    }
    await attempt(() => unmountAll(this.mountpoint));
    if (this.ownsMountpoint) await attempt(() => removeDir(this.mountpoint));
    const stateDir = this.ownStateDir;
    if (stateDir) await attempt(() => rmSync(stateDir, { recursive: true, force: true }));
    if (errors.length > 0) throw new AggregateError(errors, `cleanup of the daemon at ${this.mountpoint} failed`);
  }
}

function logMessage(line: string): unknown {
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg;
  } catch {
    return undefined;
  }
}

/** The cgprocfs mounts at `dir`, per /proc/self/mountinfo. */
export function cgprocfsMountsAt(dir: string) {
  return mountsAt(dir).filter((m) => m.fsType === FSTYPE);
}

/** The daemon's current server processes: its descendants running server-process.js. */
export function serverPids(daemonPid: number): number[] {
  return processTree([daemonPid]).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server-process.js');
    } catch {
      return false;
    }
  });
}
