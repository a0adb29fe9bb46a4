// How `cgprocfs serve` becomes the supervisor: it replaces itself (execve, the same pid,
// so systemd's main pid, LISTEN_PID and the state lock's pid stay true) with the slim
// supervisor-entry.ts, with Node flags sized for a daemon. Where koffi cannot load or
// the exec fails, it serves from this process: the same daemon, with more memory.

import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ServeConfig } from './config.js';
import { createLogger } from './logger.js';
import { SUPERVISOR_INPUT_ENV, type SupervisorInput } from './messages.js';
import { listenedFds } from './systemd.js';

/**
 * V8 flags of the supervisor and (inherited) of its server's main thread. Both allocate
 * a few KiB per second; V8's default young generation grows to 3 x 16 MiB in each (the
 * bench's PSS, issue 22). Given before the user's own flags, which win. (The serving
 * threads' compaction is set at run time: idle-collection.ts.)
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

const ENTRY = fileURLToPath(new URL('./supervisor-entry.js', import.meta.url));

/** Hands over to the slim supervisor; returns (with the exit code) only when it served from this process. */
export async function runSupervisor(config: ServeConfig, layout: Record<string, unknown>): Promise<number> {
  const input: SupervisorInput = { config, layout };
  const log = createLogger(config.logLevel, { component: 'supervisor' });
  try {
    const { execve } = await import('../native/libc.js');
    const argv = [process.execPath, ...DAEMON_NODE_FLAGS, ...process.execArgv, ENTRY];
    execve(process.execPath, argv, { ...process.env, [SUPERVISOR_INPUT_ENV]: JSON.stringify(input) }, listenedFds());
  } catch (err) {
    warnInProcess(log, err);
  }
  const { serve } = await import('./serve.js');
  return serve(config, layout);
}

function warnInProcess(log: Logger, err: unknown): void {
  log.warn({ err }, 'could not start the slim supervisor (execve through koffi); serving from this process, which holds more memory');
}
