// What the supervisor and a server process tell each other over the IPC channel.

import type { ServeConfig } from './config.js';
import type { LogLevel } from './logger.js';

/** Given to a server process in the CGPROCFS_SERVER environment variable (JSON). */
export interface ServerInput {
  config: ServeConfig;
  /** The epoch of this server's file handles and arena file. */
  epoch: number;
  /** When the mount was made (every node's time stamps), epoch seconds. */
  mountedAtSec: number;
}

export const SERVER_INPUT_ENV = 'CGPROCFS_SERVER';

/** Given to the slim supervisor (supervisor-entry.ts) in the CGPROCFS_SUPERVISOR environment variable (JSON). */
export interface SupervisorInput {
  config: ServeConfig;
  /** The cgroup layout the CLI checked, as logged when serving starts. */
  layout: Record<string, unknown>;
}

export const SUPERVISOR_INPUT_ENV = 'CGPROCFS_SUPERVISOR';

/** Given to the heal process (heal-process.ts) in the CGPROCFS_HEAL environment variable (JSON). */
export interface HealInput {
  mountpoint: string;
  logLevel: LogLevel;
  /** Connections of stale mounts cleared from the mountpoint at start (see HealScope). */
  legacyDevices: string[];
}

export const HEAL_INPUT_ENV = 'CGPROCFS_HEAL';
/** The FUSE connection is the server's fd 3, the IPC channel its fd 4. */
export const SERVER_FUSE_FD = 3;

export type ServerMessage =
  | { kind: 'ready'; resend: 'resent' | 'unsupported' }
  /** Every HEARTBEAT_MS while some serving thread can answer (heartbeat.ts). */
  | { kind: 'alive' };

export type SupervisorMessage =
  /** Stop reading new requests: a successor serves the connection now. */
  | { kind: 'drain' }
  /** Ask the kernel to re-send what a killed predecessor held. */
  | { kind: 'resend' };

/** How a server process ends, so the supervisor can tell a crash from a gone connection. */
export const ServerExitCode = {
  /** Drained after a reload, or stopped on request. */
  DONE: 0,
  /** A worker failed; restart. */
  FAILED: 1,
  /** The kernel ended the connection: someone unmounted us. */
  UNMOUNTED: 3,
  /** The connection was aborted (fusectl): nothing can serve this mount again. */
  ABORTED: 4,
} as const;
