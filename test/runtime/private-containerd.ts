// A containerd of a test's own, for `ctr run --runc-binary` (the option a Kubernetes
// RuntimeClass sets through options.BinaryName): its own root, state and socket, the CRI
// plugin off (ctr does not use it), started with the environment the test gives (the
// wrapper reads CGPROCFS_MOUNTPOINT from it, through the shim). Stopped by its pid, with
// any shim of its own left behind, and everything it made removed.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, killQuietly, killTrees, run, runOk, waitFor, type RunOptions, type RunResult } from '../e2e/harness/exec.js';
import { STATE_DIR } from './engine.js';
import { imageArchive } from './image-archive.js';
import { removeTree } from './images.js';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
// Plugins that would reach outside the test's directories or need what is not here.
const DISABLED = ['io.containerd.grpc.v1.cri', 'io.containerd.internal.v1.opt', 'io.containerd.snapshotter.v1.btrfs', 'io.containerd.snapshotter.v1.zfs', 'io.containerd.snapshotter.v1.devmapper', 'io.containerd.snapshotter.v1.aufs', 'io.containerd.tracing.processor.v1.otlp'];

export class PrivateContainerd {
  private constructor(
    readonly pid: number,
    readonly dir: string,
    readonly run: string,
    /** The containerd namespace the test's containers live in (also their cgroup parent). */
    readonly namespace: string,
  ) {}

  get socket(): string {
    return join(this.run, 'containerd.sock');
  }

  /** runc's state directory for ctr run --runc-root, inside the test's own. */
  get runcRoot(): string {
    return join(this.run, 'runc');
  }

  static async start(env: NodeJS.ProcessEnv): Promise<PrivateContainerd> {
    mkdirSync(STATE_DIR, { recursive: true });
    const dir = mkdtempSync(join(STATE_DIR, `containerd-${process.pid}-`));
    const runDir = mkdtempSync(`/run/cgprocfs-containerd-${process.pid}-`);
    const config = join(dir, 'config.toml');
    writeFileSync(config, [
      'version = 2',
      `root = ${JSON.stringify(join(dir, 'root'))}`,
      `state = ${JSON.stringify(join(runDir, 'state'))}`,
      `disabled_plugins = ${JSON.stringify(DISABLED)}`,
      '[grpc]',
      `  address = ${JSON.stringify(join(runDir, 'containerd.sock'))}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(join(runDir, 'containerd.sock.ttrpc'))}`,
      '',
    ].join('\n'));
    const fd = openSync(join(dir, 'containerd.log'), 'a');
    const child = spawn('containerd', ['--config', config], { detached: true, stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    const failed = new Promise<Error>((resolve) => child.once('error', resolve));
    if (child.pid === undefined) throw new Error(`cannot start containerd: ${(await failed).message}`);
    child.unref();
    const engine = new PrivateContainerd(child.pid, dir, runDir, `cgprocfs-test-${process.pid}`);
    try {
      const outcome = await waitFor('the private containerd to answer', async () => {
        if (!isAlive(engine.pid)) return 'exited';
        return (await engine.ctr(['version'], { timeoutMs: 10_000 })).code === 0 ? 'up' : undefined;
      }, { timeoutMs: START_TIMEOUT_MS, intervalMs: 200 });
      if (outcome === 'exited') throw new Error('containerd exited');
      return engine;
    } catch (err) {
      const log = readFileSync(join(dir, 'containerd.log'), 'utf8').trim().split('\n').slice(-20).join('\n');
      await engine.stop().catch(() => undefined);
      throw new Error(`the private containerd did not start: ${(err as Error).message}\n${log}`);
    }
  }

  ctr(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return run('ctr', ['--address', this.socket, '--namespace', this.namespace, ...args], { timeoutMs: 60_000, ...opts });
  }

  /** Imports a test image saved from the shared engine; returns the name containerd gave it. */
  async importImage(tag: string): Promise<string> {
    await runOk('ctr', ['--address', this.socket, '--namespace', this.namespace, 'images', 'import', await imageArchive(tag)], { timeoutMs: 5 * 60_000 });
    const names = (await runOk('ctr', ['--address', this.socket, '--namespace', this.namespace, 'images', 'ls', '-q'])).trim().split('\n');
    const name = names.find((n) => n.endsWith(tag));
    if (!name) throw new Error(`ctr images import of ${tag} left ${names.join(', ')}`);
    return name;
  }

  /** Shims this containerd started (they outlive it): found by its socket in their command line. */
  private shims(): number[] {
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv[0]?.endsWith('containerd-shim-runc-v2') === true && argv.includes(this.socket);
      } catch {
        return false;
      }
    });
  }

  async stop(): Promise<void> {
    const shims = this.shims();
    if (isAlive(this.pid)) {
      killQuietly(this.pid, 'SIGTERM');
      try {
        await waitFor('the private containerd to exit', () => !isAlive(this.pid), { timeoutMs: STOP_TIMEOUT_MS, intervalMs: 100 });
      } catch {
        await killTrees([this.pid]);
      }
    }
    const stuck = await killTrees([...shims, ...this.shims()]);
    if (stuck.length > 0) throw new Error(`containerd shims ${stuck.join(',')} survived SIGKILL`);
    await removeTree(this.run);
    await removeTree(this.dir);
  }
}
