// Child processes for the e2e suites: run with a deadline, capture output, poll conditions, end process trees by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * How many times slower than the machines the suites were written on this one runs them (1 by
 * default; the cgroup v2 guest of test/v2, emulated by qemu TCG, sets CGPROCFS_E2E_SLOWDOWN).
 * Every deadline given to run(), collect(), waitFor() and waitForLine() is in those machines' time
 * and scaled here; windows of time in which a test needs enough to happen are scaled by the test
 * (scaled()). Never a threshold.
 */
export const SLOWDOWN = Math.max(1, Number(process.env['CGPROCFS_E2E_SLOWDOWN']) || 1);

/** `ms` of this machine's time: `ms` on the machines the suites were written on. */
export const scaled = (ms: number): number => ms * SLOWDOWN;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
}

/** Runs a command to completion. Never throws on a non-zero exit: tests assert on the result. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
  return collect(child, opts);
}

/** Like run(), but a non-zero exit is an error that carries the command's output. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) throw new Error(describeRun([cmd, ...args], result));
  return result.stdout;
}

/**
 * Waits for a spawned child and captures its output. A child that outlives the deadline is
 * SIGKILLed with its descendants (they would hold the pipes open), so a reader stuck on a
 * broken mount fails the test instead of hanging it.
 */
export function collect(child: ChildProcess, opts: Pick<RunOptions, 'timeoutMs' | 'input'> = {}): Promise<RunResult> {
  const timeoutMs = scaled(opts.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) void killTrees([child.pid]);
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin?.on('error', () => undefined); // the child may exit before reading its input
    child.stdin?.end(opts.input ?? '');
  });
}

export function describeRun(argv: readonly string[], r: RunResult): string {
  const how = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exited ${r.code}`;
  return `${argv.join(' ')} ${how}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** Resolves when the child prints a line matching `pattern`; rejects with its output if it exits or times out first. */
export function waitForLine(child: ChildProcess, pattern: RegExp, hostTimeoutMs = 15_000): Promise<string> {
  const timeoutMs = scaled(hostTimeoutMs);
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (err?: Error, line?: string) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line ?? '');
    };
    const onData = (chunk: Buffer | string) => {
      seen += chunk.toString();
      const line = seen.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) done(undefined, line);
    };
    const onExit = (code: number | null) => done(new Error(`exited ${code} before printing ${pattern}:\n${seen}`));
    const timer = setTimeout(() => done(new Error(`no line matching ${pattern} in ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined/false; bounded by timeoutMs. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs: hostTimeoutMs = 10_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = scaled(hostTimeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await tick(intervalMs);
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** A pid is alive while /proc lists it and it is not a zombie (zombies hold no cgroup or mount). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pids of every live process whose ancestry reaches one of `roots` (roots included). */
export function processTree(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited while we looked
    }
  }
  const tree = new Set<number>();
  const todo = roots.filter(isAlive);
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    if (tree.has(pid)) continue;
    tree.add(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return [...tree];
}

/**
 * SIGKILLs the process trees under `roots`, re-scanning until nothing is left, because a shell
 * loop can fork between one scan and the kill. Returns the pids still alive at the deadline
 * (e.g. stuck in D state on a FUSE request nobody will answer).
 */
export async function killTrees(roots: readonly number[], timeoutMs = 5_000): Promise<number[]> {
  const seen = new Set<number>();
  try {
    await waitFor('killed processes to exit', () => {
      for (const pid of processTree([...roots, ...seen])) {
        seen.add(pid);
        killQuietly(pid, 'SIGKILL');
      }
      return [...seen].every((pid) => !isAlive(pid));
    }, { timeoutMs });
  } catch {
    // reported through the return value
  }
  return [...seen].filter(isAlive);
}
