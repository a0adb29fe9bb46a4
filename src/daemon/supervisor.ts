// The supervisor: the small, long-lived process that owns the FUSE connection and
// the mount. It runs the serving code in a server process it can replace: restarted
// at once when it dies (readers only wait; the new server has the kernel re-send what
// the dead one held), swapped without a gap on SIGHUP, stopped on SIGTERM.

import type { Logger } from 'pino';
import { collectIdleArenas, freshEpoch } from '../fs/handles.js';
import { abortConnection, closeDevice, unmount } from '../fuse/mount.js';
import { arenaDirOf, type ServeConfig } from './config.js';
import { ServerExitCode } from './messages.js';
import { describeExit, ServerHandle } from './server-handle.js';
import { notify } from './systemd.js';

export interface Connection {
  fd: number;
  /** major:minor of the mount, for fusectl. */
  device: string;
  mountedAtSec: number;
  /** True when systemd's fd store holds the connection too: a stop must not unmount. */
  storedWithSystemd: boolean;
}

/** How long a server may take to say it is ready. */
const READY_TIMEOUT_MS = 30_000;
/** How long a drained server gets to finish what it holds before it is killed. */
const DRAIN_MS = 2_000;
/** How long servers get to notice an unmount. */
const STOP_MS = 5_000;
/** A server that dies sooner than this after its start counts as failing fast. */
const FAST_FAILURE_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
const ARENA_GC_INTERVAL_MS = 60_000;

export function restartDelay(consecutiveFastFailures: number): number {
  if (consecutiveFastFailures <= 1) return 0;
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** (consecutiveFastFailures - 2));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class Supervisor {
  private current: ServerHandle | undefined;
  private readonly retiring = new Set<ServerHandle>();
  /** Every server process still running, adopted or not: their arenas are in use. */
  private readonly running = new Set<ServerHandle>();
  private stopping = false;
  private reloading = false;
  private fastFailures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly gcTimer: NodeJS.Timeout;
  private finish!: (code: number) => void;
  /** Resolves with the exit code once the supervisor has stopped. */
  readonly done = new Promise<number>((resolve) => {
    this.finish = resolve;
  });

  constructor(
    private readonly config: ServeConfig,
    private readonly connection: Connection,
    private readonly log: Logger,
  ) {
    this.gcTimer = setInterval(() => this.collectArenas(), ARENA_GC_INTERVAL_MS);
    this.gcTimer.unref();
  }

  /** Starts the first server; throws if it cannot become ready. */
  async start(): Promise<void> {
    const server = this.spawn();
    await withTimeout(server.ready, READY_TIMEOUT_MS, 'the first server start');
    this.adopt(server);
  }

  /** SIGHUP: a new server from the code on disk takes over, then the old one drains. */
  async reload(): Promise<void> {
    if (this.stopping || this.reloading) return;
    if (!this.current?.alive) {
      this.log.warn({}, 'reload skipped: a server restart is under way, and it runs the code on disk');
      return;
    }
    this.reloading = true;
    notify('RELOADING=1');
    const old = this.current;
    const next = this.spawn();
    try {
      await withTimeout(next.ready, READY_TIMEOUT_MS, 'the new server start');
    } catch (err) {
      this.log.error({ err }, 'reload failed: the new server did not start; the old one keeps serving');
      next.kill();
      this.reloading = false;
      notify('READY=1');
      return;
    }
    // A crash restart scheduled meanwhile is not needed any more: `next` serves.
    clearTimeout(this.restartTimer);
    this.adopt(next);
    if (old) await this.retire(old, next);
    this.reloading = false;
    notify('READY=1');
    this.log.info({ epoch: next.epoch, serverPid: next.pid }, 'reloaded');
  }

  /** SIGTERM/SIGINT: unmount (unless systemd keeps the connection) and stop every server. */
  async stop(signal: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.gcTimer);
    notify('STOPPING=1');
    this.log.info({ signal }, 'stopping');
    const servers = [this.current, ...this.retiring].filter((s): s is ServerHandle => s !== undefined);
    if (this.connection.storedWithSystemd) {
      // systemd keeps the connection for the next start; a real stop drops it and
      // ExecStopPost clears the dead mount.
      for (const server of servers) server.kill();
    } else if (servers.some((server) => server.alive)) {
      const how = unmount(this.config.mountpoint);
      // A lazy unmount leaves the connection alive while containers hold our files:
      // abort it so the servers' blocked reads return.
      if (how === 'detached') abortConnection(this.connection.device);
    } else {
      // No server is alive to answer what a plain umount would wait for: detach and
      // abort, so nothing that still holds the mount blocks for good.
      abortConnection(this.connection.device);
      unmount(this.config.mountpoint);
    }
    for (const server of servers) {
      if (!(await server.exitsWithin(STOP_MS))) server.kill();
      await server.exited;
    }
    closeDevice(this.connection.fd);
    if (!this.connection.storedWithSystemd) this.collectArenas();
    this.log.info({ mountpoint: this.config.mountpoint, unmounted: !this.connection.storedWithSystemd }, 'stopped');
    this.finish(0);
  }

  private spawn(): ServerHandle {
    const epoch = freshEpoch(arenaDirOf(this.config));
    const server = ServerHandle.spawn(this.config, this.connection.fd, epoch, this.connection.mountedAtSec);
    this.running.add(server);
    void server.exited.then(() => this.running.delete(server));
    this.log.debug({ epoch, serverPid: server.pid }, 'server started');
    return server;
  }

  private adopt(server: ServerHandle): void {
    this.current = server;
    void server.exited.then((exit) => {
      if (this.current !== server || this.stopping) return;
      if (exit.code === ServerExitCode.UNMOUNTED) this.background(this.connectionGone('unmounted from outside', 0));
      else if (exit.code === ServerExitCode.ABORTED) this.background(this.connectionGone('connection aborted', 1));
      else this.onCrash(server, describeExit(exit));
    });
  }

  /** The kernel ended the connection: no server can serve it again. */
  private async connectionGone(why: string, code: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.gcTimer);
    for (const server of this.retiring) server.kill();
    // An aborted connection leaves a dead mount that answers ENOTCONN: take it away.
    unmount(this.config.mountpoint);
    closeDevice(this.connection.fd);
    this.collectArenas();
    this.log[code === 0 ? 'info' : 'error']({ mountpoint: this.config.mountpoint }, why);
    this.finish(code);
  }

  private onCrash(server: ServerHandle, how: string): void {
    const fast = Date.now() - server.startedAt < FAST_FAILURE_MS;
    this.fastFailures = fast ? this.fastFailures + 1 : 1;
    const delay = restartDelay(this.fastFailures);
    this.log.error({ epoch: server.epoch, serverPid: server.pid, how, restartInMs: delay }, 'server died; starting a new one');
    this.current = undefined;
    this.restartTimer = setTimeout(() => this.background(this.restart()), delay);
  }

  private async restart(): Promise<void> {
    if (this.stopping || this.current?.alive) return;
    let server: ServerHandle;
    try {
      server = this.spawn();
    } catch (err) {
      // Could not even start one (no epoch, no process): try again later, never give up.
      this.fastFailures++;
      this.log.error({ err, retryInMs: restartDelay(this.fastFailures) }, 'could not start a server');
      this.restartTimer = setTimeout(() => this.background(this.restart()), restartDelay(this.fastFailures));
      return;
    }
    // Adopted at once: a server that dies before it is ready is restarted like any other.
    this.adopt(server);
    try {
      await withTimeout(server.ready, READY_TIMEOUT_MS, 'the restarted server');
      this.log.info({ epoch: server.epoch, serverPid: server.pid }, 'server restarted; unanswered requests re-sent');
    } catch (err) {
      this.log.error({ err }, 'restarted server did not become ready');
      server.kill();
    }
  }

  /** Lets `old` finish what it holds, kills it if it lingers, then recovers what it held. */
  private async retire(old: ServerHandle, successor: ServerHandle): Promise<void> {
    this.retiring.add(old);
    old.send({ kind: 'drain' });
    // A worker blocked in read() holds nothing; one that got a request finishes it
    // and stops. Killing what is left is safe once the successor re-sends.
    if (!(await old.exitsWithin(DRAIN_MS))) old.kill();
    await old.exited;
    this.retiring.delete(old);
    successor.send({ kind: 'resend' });
  }

  /** Runs `work` without awaiting it; a failure is logged, never an unhandled rejection. */
  background(work: Promise<void>): void {
    work.catch((err: unknown) => this.log.error({ err }, 'supervisor task failed'));
  }

  private collectArenas(): void {
    const live = new Set([...this.running].map((server) => server.epoch));
    try {
      const removed = collectIdleArenas(arenaDirOf(this.config), this.stopping ? new Set() : live, this.stopping);
      if (removed.length > 0) this.log.debug({ removed }, 'removed idle handle arenas');
    } catch (err) {
      this.log.warn({ err }, 'could not collect idle handle arenas');
    }
  }
}
