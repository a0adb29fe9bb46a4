// The supervisor: the small, long-lived process that owns the FUSE connection and
// the mount. It runs the serving code in a server process it can replace: restarted
// at once when it dies or stops answering (readers only wait; the new server has the
// kernel re-send what the old one held), swapped without a gap on SIGHUP, stopped on
// SIGTERM. Once the first server serves, it heals containers a dead predecessor left
// (heal-process.ts).

import type { Logger } from 'pino';
import { isCgprocfsError } from '../errors.js';
import { collectIdleArenas, freshEpoch } from '../fs/arena-file.js';
import { abortConnection, closeDevice, unmount } from '../fuse/mount.js';
import { monotonicMs } from '../shared/clock.js';
import { arenaDirOf, type ServeConfig } from './config.js';
import { HEAL_TIMEOUT_MS, HealChild } from './heal-child.js';
import { namespacesHolding, type Holder } from './heal.js';
import { HUNG_AFTER_MS } from './heartbeat.js';
import { ServerExitCode } from './messages.js';
import { RestartPolicy, type RestartDecision } from './restart-policy.js';
import { describeExit, ServerHandle } from './server-handle.js';
import { prepareArenaDir } from './state-dir.js';
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
/**
 * How long servers get to exit once their connection has ended (they see ENODEV at
 * once); only a server stuck elsewhere ever waits this long, and is then killed.
 */
const STOP_MS = 5_000;
const ARENA_GC_INTERVAL_MS = 60_000;
/** How often the serving server's heartbeat is checked. */
const WATCHDOG_MS = 1_000;
/**
 * A check this late found the supervisor itself stalled (a long collection, a loaded
 * machine): the heartbeats that arrived meanwhile are still unread, so it judges nothing.
 */
const WATCHDOG_LATE_MS = 1_000;
/** Containers named in the stop's log line; the count is always whole. */
const HOLDERS_LOGGED = 20;

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
  private readonly restarts = new RestartPolicy();
  /** The server fails at start-up in a loop: systemd's status says so until one serves. */
  private failingAtStartup = false;
  private healing: HealChild | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly gcTimer: NodeJS.Timeout;
  private readonly watchdog: NodeJS.Timeout;
  private watchedAt = monotonicMs();
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
    this.watchdog = setInterval(() => this.checkHeartbeat(), WATCHDOG_MS);
    this.watchdog.unref();
  }

  /**
   * Replaces a serving server that has not said it can answer for HUNG_AFTER_MS
   * (stopped, hung, every thread stuck: issue 18) as a crashed one is: SIGKILL, then
   * the exit starts a new server, which has the kernel re-send what this one held.
   */
  private checkHeartbeat(): void {
    const now = monotonicMs();
    const late = now - this.watchedAt - WATCHDOG_MS > WATCHDOG_LATE_MS;
    this.watchedAt = now;
    const server = this.current;
    if (late || this.stopping || server?.readyAt === undefined || !server.alive || server.killedAsHung) return;
    const silentMs = now - server.lastHeardAt;
    if (silentMs < HUNG_AFTER_MS) return;
    server.killedAsHung = true;
    this.log.error({ epoch: server.epoch, serverPid: server.pid, silentMs, boundMs: HUNG_AFTER_MS }, 'server stopped answering (no heartbeat); killing it and starting a new one');
    server.kill();
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

  /**
   * Heals containers that still bind files of a dead connection of this mountpoint, in
   * a process of its own; resolves when it is done. Its lines carry component "heal".
   */
  async heal(legacyDevices: string[]): Promise<void> {
    if (this.stopping) return;
    const healing = HealChild.start(this.config, legacyDevices);
    this.healing = healing;
    const exit = await healing.exited;
    this.healing = undefined;
    if (this.stopping) return;
    if (exit.timedOut) this.log.error({ timeoutMs: HEAL_TIMEOUT_MS }, 'heal stopped: it did not finish in time; containers it did not reach still fail (cgprocfs heal retries)');
    else if (exit.code !== 0) this.log.error({ how: describeExit(exit) }, 'heal failed; containers that held files of a dead connection may still fail (cgprocfs heal retries)');
  }

  /** SIGTERM/SIGINT: unmount (unless systemd keeps the connection) and stop every server. */
  async stop(signal: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.gcTimer);
    clearInterval(this.watchdog);
    this.healing?.kill();
    notify('STOPPING=1');
    const holders = this.holders();
    this.logStop(signal, holders);
    const servers = [this.current, ...this.retiring].filter((s): s is ServerHandle => s !== undefined);
    if (this.connection.storedWithSystemd) {
      // systemd keeps the connection for the next start; a real stop drops it and
      // ExecStopPost clears the dead mount.
      for (const server of servers) server.kill();
    } else if (servers.some((server) => server.alive)) {
      const how = unmount(this.config.mountpoint);
      // The connection outlives the unmount while containers bind its files (or a
      // host process holds the detached mount), and the servers would go on serving
      // them: end it now rather than wait for servers that have no reason to stop.
      if (how === 'detached' || holders.length > 0) for (const server of servers) server.kill();
    } else {
      // No server is alive to answer what a plain umount would wait for: detach and
      // abort, so nothing that still holds the mount blocks for good.
      abortConnection(this.connection.device);
      unmount(this.config.mountpoint);
    }
    for (const server of servers) {
      if (!(await server.exitsWithin(STOP_MS))) {
        this.log.warn({ serverPid: server.pid, waitedMs: STOP_MS }, 'a server did not exit after the unmount; killing it');
        server.kill();
      }
      await server.exited;
    }
    closeDevice(this.connection.fd);
    if (!this.connection.storedWithSystemd) this.collectArenas();
    this.log.info({ mountpoint: this.config.mountpoint, unmounted: !this.connection.storedWithSystemd }, 'stopped');
    this.finish(0);
  }

  /** Containers holding files of the mount; never a reason not to stop. */
  private holders(): Holder[] {
    try {
      return namespacesHolding({ mountpoint: this.config.mountpoint, device: this.connection.device });
    } catch (err) {
      this.log.warn({ err }, 'could not count the containers holding files of the mount');
      return [];
    }
  }

  /** Says what the stop means for containers that hold our files (issue 16). */
  private logStop(signal: string, holders: readonly Holder[]): void {
    if (holders.length === 0) {
      this.log.info({ signal }, 'stopping');
    } else if (this.connection.storedWithSystemd) {
      this.log.info({ signal, mountNamespaces: holders.length }, 'stopping; systemd keeps the connection: reads of containers holding files of the mount wait until cgprocfs starts again');
    } else {
      const named = holders.slice(0, HOLDERS_LOGGED).map(({ pid, cgroup }) => ({ containerPid: pid, cgroup }));
      this.log.warn(
        { signal, mountNamespaces: holders.length, holders: named },
        'stopping: containers hold files of the mount (mountNamespaces counts them, and sandboxed services in them); their reads fail (Transport endpoint is not connected) until cgprocfs starts again, which heals them',
      );
    }
  }

  private spawn(): ServerHandle {
    const epoch = this.freshEpoch();
    const server = ServerHandle.spawn(this.config, this.connection.fd, epoch, this.connection.mountedAtSec);
    this.running.add(server);
    void server.exited.then(() => this.running.delete(server));
    this.log.debug({ epoch, serverPid: server.pid }, 'server started');
    return server;
  }

  /**
   * An epoch for a new server, in an arena directory checked as the state directory
   * is (STATE_DIR_UNSAFE otherwise). When arena files take every epoch, the idle ones are
   * collected first; NAMES_EXHAUSTED if that frees none (the restart is retried later).
   */
  private freshEpoch(): number {
    const dir = prepareArenaDir(this.config);
    const inUse = [...this.running].map((server) => server.epoch);
    try {
      return freshEpoch(dir, inUse);
    } catch (err) {
      if (!isCgprocfsError(err) || err.code !== 'NAMES_EXHAUSTED') throw err;
      this.collectArenas();
      return freshEpoch(dir, inUse);
    }
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
    clearInterval(this.watchdog);
    for (const server of this.retiring) server.kill();
    // An aborted connection leaves a dead mount that answers ENOTCONN: take it away.
    unmount(this.config.mountpoint);
    closeDevice(this.connection.fd);
    this.collectArenas();
    this.log[code === 0 ? 'info' : 'error']({ mountpoint: this.config.mountpoint }, why);
    this.finish(code);
  }

  private onCrash(server: ServerHandle, how: string): void {
    const decision = this.restarts.afterDeath({ readyAt: server.readyAt, diedAt: Date.now() });
    const fields = { epoch: server.epoch, serverPid: server.pid, how, restartInMs: decision.delayMs };
    if (decision.loop) this.reportStartupLoop(fields, decision);
    else this.log.error(fields, 'server died; starting a new one');
    this.current = undefined;
    // The dead server's arena, or others, may be idle now: their space is wanted at once on a small state directory.
    this.collectArenas();
    this.restartTimer = setTimeout(() => this.background(this.restart()), decision.delayMs);
  }

  /** Loud: readers of the mount wait for as long as no server starts. */
  private reportStartupLoop(fields: Record<string, unknown>, { startupFailures, delayMs }: RestartDecision): void {
    this.failingAtStartup = true;
    this.log.error({ ...fields, startupFailures }, 'the server keeps dying at start-up: readers of the mount wait until one starts (the cause: err, or the server\'s own lines above)');
    notify(`STATUS=server dies at start-up (${startupFailures} times in a row); next try in ${Math.round(delayMs / 1000)} s`);
  }

  private async restart(): Promise<void> {
    if (this.stopping || this.current?.alive) return;
    let server: ServerHandle;
    try {
      server = this.spawn();
    } catch (err) {
      // Could not even start one (no epoch, no process): try again later, never give up.
      const decision = this.restarts.afterSpawnFailure();
      const fields = { err, retryInMs: decision.delayMs };
      if (decision.loop) this.reportStartupLoop(fields, decision);
      else this.log.error(fields, 'could not start a server');
      this.restartTimer = setTimeout(() => this.background(this.restart()), decision.delayMs);
      return;
    }
    // Adopted at once: a server that dies before it is ready is restarted like any other.
    this.adopt(server);
    try {
      await withTimeout(server.ready, READY_TIMEOUT_MS, 'the restarted server');
      this.log.info({ epoch: server.epoch, serverPid: server.pid }, 'server restarted; unanswered requests re-sent');
      if (this.failingAtStartup) {
        this.failingAtStartup = false;
        notify(`STATUS=serving ${this.config.mountpoint}`);
      }
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
