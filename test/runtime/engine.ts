// The Docker engine the container tests talk to: whatever engine already answers, or a
// dockerd of our own with networking off. An engine some other party runs is never
// stopped. One the test runtime started is recorded (pid, log) and shared by test runs
// that overlap on this machine; each run registers while it uses it, and the last one out
// stops it, by the recorded pid.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, killQuietly, killTrees, run, waitFor } from '../e2e/harness/exec.js';

export const STATE_DIR = '/var/tmp/cgprocfs-runtime';
const RECORD = join(STATE_DIR, 'dockerd.json');
const USERS = join(STATE_DIR, 'engine-users');

// No registry, no bridge, no iptables (reference: container-runtimes.md, "Docker engine").
const DOCKERD_ARGS = ['--iptables=false', '--ip6tables=false', '--bridge=none', '--ip-forward=false', '--ip-masq=false'];
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

interface EngineRecord {
  pid: number;
  log: string;
}

/** True when `docker` reaches a server within a few seconds. */
export async function engineAnswers(): Promise<boolean> {
  const r = await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
  return r.code === 0 && r.stdout.trim() !== '';
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

function isDockerd(pid: number): boolean {
  try {
    return isAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('dockerd') === true;
  } catch {
    return false;
  }
}

/** The dockerd a test run started, if it still runs (a recycled pid does not count). */
function recordedEngine(): EngineRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(RECORD, 'utf8')) as EngineRecord;
    return isDockerd(record.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

function register(): void {
  mkdirSync(USERS, { recursive: true });
  writeFileSync(join(USERS, String(process.pid)), '');
}

/** Unregisters this run; returns the other runs still using the engine. */
function unregister(): number[] {
  rmSync(join(USERS, String(process.pid)), { force: true });
  let entries: string[] = [];
  try {
    entries = readdirSync(USERS);
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => pid !== process.pid && isAlive(pid));
}

async function startDockerd(): Promise<EngineRecord> {
  mkdirSync(STATE_DIR, { recursive: true });
  const tag = `${process.pid}-${Date.now()}`;
  const log = join(STATE_DIR, `dockerd-${tag}.log`);
  const fd = openSync(log, 'a');
  const args = [...DOCKERD_ARGS, '--pidfile', join(STATE_DIR, `dockerd-${tag}.pid`)];
  // Detached: its own process group, so it outlives the test worker that started it
  // when another run still uses it, and a signal to the runner's group does not reach it.
  const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const failed = new Promise<Error>((resolve) => child.once('error', resolve));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start dockerd: ${(await failed).message}`);
  child.unref();
  writeFileSync(RECORD, JSON.stringify({ pid, log }));
  return { pid, log };
}

export class DockerEngine {
  private constructor(
    /** The test runtime's dockerd, or undefined for an engine someone else runs. */
    private readonly record: EngineRecord | undefined,
    readonly description: string,
  ) {}

  /** Uses a running engine, or starts dockerd and waits until its API answers. */
  static async ensure(): Promise<DockerEngine> {
    if (await engineAnswers()) {
      const shared = recordedEngine();
      if (!shared) return new DockerEngine(undefined, 'an engine that was already running (never stopped by the tests)');
      register();
      return new DockerEngine(shared, `the test runtime's dockerd pid ${shared.pid}, started by another run`);
    }
    register();
    const started = await startDockerd().catch((err: Error) => {
      unregister();
      throw err;
    });
    const engine = new DockerEngine(started, `dockerd pid ${started.pid}, started by this run (log ${started.log})`);
    try {
      const outcome = await waitFor(
        'dockerd to answer',
        async () => ((await engineAnswers()) ? 'up' : isAlive(started.pid) ? undefined : 'exited'),
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 200 },
      );
      if (outcome === 'exited') throw new Error('dockerd exited');
      return engine;
    } catch (err) {
      const tail = logTail(started.log);
      await engine.stop().catch(() => undefined);
      throw new Error(`dockerd did not start: ${(err as Error).message}\n--- ${started.log}\n${tail}`);
    }
  }

  /**
   * Done with the engine: the test runtime's dockerd is stopped (SIGTERM by its recorded
   * pid, then SIGKILL of its process tree) when no other run still uses it. True when
   * this call stopped it.
   */
  async stop(): Promise<boolean> {
    const record = this.record;
    if (!record) return false;
    if (unregister().length > 0 || !isDockerd(record.pid)) return false;
    killQuietly(record.pid, 'SIGTERM');
    try {
      await waitFor('dockerd to exit', () => !isAlive(record.pid), { timeoutMs: STOP_TIMEOUT_MS, intervalMs: 100 });
    } catch {
      const stuck = await killTrees([record.pid]);
      if (stuck.length > 0) throw new Error(`dockerd ${record.pid}: processes ${stuck.join(',')} survived SIGKILL`);
      return true; // keep the log of an engine that would not stop
    }
    rmSync(record.log, { force: true });
    rmSync(record.log.replace(/\.log$/, '.pid'), { force: true });
    if (recordedEngine() === undefined) rmSync(RECORD, { force: true });
    return true;
  }
}
