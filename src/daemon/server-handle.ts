// One server process as the supervisor sees it: spawned with the FUSE connection as
// its fd 3 and an IPC channel, ready when it says so, gone when it exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monotonicMs } from '../shared/clock.js';
import type { ServeConfig } from './config.js';
import { SERVER_INPUT_ENV, type ServerInput, type ServerMessage, type SupervisorMessage } from './messages.js';

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The exit code given to a server process that could not be started at all. */
const SPAWN_FAILED_CODE = 127;

/** Resolved from disk at each spawn, so a reload runs the code installed now. */
const SERVER_ENTRY = fileURLToPath(new URL('./server-process.js', import.meta.url));

export class ServerHandle {
  readonly startedAt = Date.now();
  /** When it said it was ready (epoch ms); undefined until then. */
  readyAt: number | undefined;
  /** When it last said anything (monotonic ms): its heartbeat (heartbeat.ts). */
  lastHeardAt = monotonicMs();
  /** Killed by the supervisor for a missing heartbeat: judged once. */
  killedAsHung = false;
  readonly ready: Promise<ServerMessage>;
  readonly exited: Promise<ServerExit>;
  private exit: ServerExit | undefined;

  private constructor(readonly epoch: number, private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      const settle = (exit: ServerExit): void => {
        if (this.exit !== undefined) return;
        this.exit = exit;
        resolve(exit);
      };
      child.once('exit', (code, signal) => settle({ code, signal }));
      // A spawn that fails (EMFILE, ENOMEM, a missing node) never exits: count it as a
      // failed server, so the supervisor retries instead of waiting forever.
      child.once('error', () => settle({ code: SPAWN_FAILED_CODE, signal: null }));
    });
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (message: ServerMessage) => {
        this.lastHeardAt = monotonicMs();
        if (message.kind !== 'ready') return;
        this.readyAt ??= Date.now();
        resolve(message);
      });
      void this.exited.then((exit) => reject(new Error(`server exited before it was ready (${describeExit(exit)})`)));
    });
    // A rejection nobody awaits (a server that dies after it was ready) is not an error.
    this.ready.catch(() => undefined);
  }

  static spawn(config: ServeConfig, fd: number, epoch: number, mountedAtSec: number): ServerHandle {
    const input: ServerInput = { config, epoch, mountedAtSec };
    // The server runs with the supervisor's Node flags (heap limits, --cpu-prof).
    const child = spawn(process.execPath, [...process.execArgv, SERVER_ENTRY], {
      stdio: ['ignore', 'inherit', 'inherit', fd, 'ipc'],
      env: { ...process.env, [SERVER_INPUT_ENV]: JSON.stringify(input) },
      // Its own session: a Ctrl-C or `timeout` aimed at the supervisor's process group
      // must not kill the server behind the supervisor's back; the supervisor decides.
      detached: true,
    });
    return new ServerHandle(epoch, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  send(message: SupervisorMessage): void {
    if (this.alive && this.child.connected) this.child.send(message);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Waits up to `ms` for the exit; false if it is still running. */
  async exitsWithin(ms: number): Promise<boolean> {
    if (!this.alive) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const exited = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return exited;
  }
}

export function describeExit(exit: ServerExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
