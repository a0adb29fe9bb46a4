// Small process helpers for the bench: synchronous commands with captured output,
// sleeping, polling, and liveness/kill by pid (never by name).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCommand(cmd: string, args: readonly string[], timeoutMs = 120_000): CommandResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.stderr || String(r.error ?? '') };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `done` until it returns true; false when `timeoutMs` passed first. */
export async function waitUntil(done: () => boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** Alive and not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text[text.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** SIGKILLs `pids` and waits until they are gone; returns those that are not. */
export async function killAll(pids: readonly number[], timeoutMs = 5_000): Promise<number[]> {
  for (const pid of pids) signal(pid, 'SIGKILL');
  await waitUntil(() => pids.every((pid) => !isRunning(pid)), timeoutMs);
  return pids.filter(isRunning);
}
