// The heal process as the supervisor sees it (heal-process.ts): started once the first
// server serves, logging through the inherited stdout, bounded by a deadline, killed
// when the supervisor stops.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServeConfig } from './config.js';
import { HEAL_INPUT_ENV, type HealInput } from './messages.js';
import type { ServerExit } from './server-handle.js';

const HEAL_ENTRY = fileURLToPath(new URL('./heal-process.js', import.meta.url));
/** Healing takes milliseconds per container; this only bounds a heal stuck on a mount. */
export const HEAL_TIMEOUT_MS = 120_000;

export class HealChild {
  readonly exited: Promise<ServerExit & { timedOut: boolean }>;
  private timedOut = false;

  private constructor(private readonly child: ChildProcess) {
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.kill();
    }, HEAL_TIMEOUT_MS);
    timer.unref();
    this.exited = new Promise((resolve) => {
      const settle = (exit: ServerExit): void => {
        clearTimeout(timer);
        resolve({ ...exit, timedOut: this.timedOut });
      };
      child.once('exit', (code, signal) => settle({ code, signal }));
      child.once('error', () => settle({ code: 127, signal: null }));
    });
  }

  static start(config: ServeConfig, legacyDevices: string[]): HealChild {
    const input: HealInput = { mountpoint: config.mountpoint, logLevel: config.logLevel, legacyDevices };
    const child = spawn(process.execPath, [...process.execArgv, HEAL_ENTRY], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, [HEAL_INPUT_ENV]: JSON.stringify(input) },
      // As the servers: a signal to the supervisor's process group is the supervisor's to handle.
      detached: true,
    });
    return new HealChild(child);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
