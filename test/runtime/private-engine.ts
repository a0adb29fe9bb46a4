// A dockerd of a test's own, for tests that change an engine's configuration (a runtime
// registered in daemon.json, a default runtime): its own socket, data root, exec root,
// pidfile and --config-file, so the shared engine on /var/run/docker.sock and the host's
// /etc/docker are never touched. It manages a containerd of its own. Stopped by its pid,
// and everything it made is removed.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, killQuietly, killTrees, run, runOk, waitFor, type RunOptions, type RunResult } from '../e2e/harness/exec.js';
import { Containers } from './containers.js';
import { STATE_DIR } from './engine.js';
import { imageArchive } from './image-archive.js';
import { removeTree } from './images.js';

// As the shared engine: no registry, no bridge, no iptables.
const DOCKERD_ARGS = ['--iptables=false', '--ip6tables=false', '--bridge=none', '--ip-forward=false', '--ip-masq=false'];
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export class PrivateDockerd {
  private constructor(
    readonly pid: number,
    /** Data root and log, under the runtime state directory (overlay2 needs a real filesystem). */
    readonly dir: string,
    /** Exec root (sockets, containerd's state), short enough for unix socket paths. */
    readonly execRoot: string,
    readonly configFile: string,
  ) {}

  get socket(): string {
    return join(this.execRoot, 'docker.sock');
  }

  get log(): string {
    return join(this.dir, 'dockerd.log');
  }

  /** `-H unix://...` for the docker CLI. */
  get host(): string[] {
    return ['-H', `unix://${this.socket}`];
  }

  /** Starts dockerd with `configFile` (and `env`), and waits until its API answers. */
  static async start(configFile: string, env: NodeJS.ProcessEnv = process.env): Promise<PrivateDockerd> {
    mkdirSync(STATE_DIR, { recursive: true });
    const dir = mkdtempSync(join(STATE_DIR, `dockerd-${process.pid}-`));
    const execRoot = mkdtempSync(`/run/cgprocfs-dockerd-${process.pid}-`);
    const fd = openSync(join(dir, 'dockerd.log'), 'a');
    const args = [
      ...DOCKERD_ARGS, '-H', `unix://${join(execRoot, 'docker.sock')}`, '--data-root', join(dir, 'data'), '--exec-root', execRoot,
      '--pidfile', join(dir, 'dockerd.pid'), '--config-file', configFile,
    ];
    const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    const failed = new Promise<Error>((resolve) => child.once('error', resolve));
    if (child.pid === undefined) throw new Error(`cannot start dockerd: ${(await failed).message}`);
    child.unref();
    const engine = new PrivateDockerd(child.pid, dir, execRoot, configFile);
    try {
      const outcome = await waitFor('the private dockerd to answer', async () => {
        if (!isAlive(engine.pid)) return 'exited';
        return (await engine.docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 })).code === 0 ? 'up' : undefined;
      }, { timeoutMs: START_TIMEOUT_MS, intervalMs: 200 });
      if (outcome === 'exited') throw new Error('dockerd exited');
      return engine;
    } catch (err) {
      const tail = engine.logTail();
      await engine.stop().catch(() => undefined);
      throw new Error(`the private dockerd did not start: ${(err as Error).message}\n--- ${join(dir, 'dockerd.log')}\n${tail}`);
    }
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.log, 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  docker(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return run('docker', [...this.host, ...args], { timeoutMs: 60_000, ...opts });
  }

  dockerOk(args: readonly string[], opts: RunOptions = {}): Promise<string> {
    return runOk('docker', [...this.host, ...args], { timeoutMs: 60_000, ...opts });
  }

  /** A registry of containers on this engine, removed by name in cleanup. */
  containers(): Containers {
    return new Containers('docker', [], this.host);
  }

  /** Loads a test image saved from the shared engine. */
  async load(tag: string): Promise<void> {
    await this.dockerOk(['load', '-i', await imageArchive(tag)], { timeoutMs: 5 * 60_000 });
  }

  /** SIGHUP: dockerd reads its --config-file again (runtimes and default-runtime reload). */
  async reload(expect: (info: { DefaultRuntime: string; Runtimes: Record<string, unknown> }) => boolean): Promise<void> {
    killQuietly(this.pid, 'SIGHUP');
    await waitFor('dockerd to reload its configuration', async () => {
      const info = await this.docker(['info', '--format', '{{json .}}'], { timeoutMs: 10_000 });
      return info.code === 0 && expect(JSON.parse(info.stdout));
    }, { timeoutMs: 30_000, intervalMs: 200 });
  }

  /** The directory a running container's runc log (log.json) and bundle are in. */
  taskDir(id: string): string {
    return join(this.execRoot, 'containerd', 'daemon', 'io.containerd.runtime.v2.task', 'moby', id);
  }

  /** SIGTERM by pid (its containerd and shims follow), SIGKILL of what is left, then its directories. */
  async stop(): Promise<void> {
    if (isAlive(this.pid)) {
      killQuietly(this.pid, 'SIGTERM');
      try {
        await waitFor('the private dockerd to exit', () => !isAlive(this.pid), { timeoutMs: STOP_TIMEOUT_MS, intervalMs: 100 });
      } catch {
        const stuck = await killTrees([this.pid]);
        if (stuck.length > 0) throw new Error(`private dockerd ${this.pid}: processes ${stuck.join(',')} survived SIGKILL`);
      }
    }
    await removeTree(this.execRoot);
    await removeTree(this.dir);
  }
}
