// What cgprocfs says to systemd, and takes from it: readiness (Type=notify), the FUSE
// connection fd kept in the service's fd store across restarts (systemd >= 254), and
// that fd handed back at start through LISTEN_FDS/LISTEN_FDNAMES (sd_listen_fds(3)).
// Without NOTIFY_SOCKET (not started by systemd) every call here is a no-op.

import { spawnSync } from 'node:child_process';
import { fstatSync, readFileSync } from 'node:fs';

/** sd_listen_fds(3): passed fds start at 3. */
const SD_LISTEN_FDS_START = 3;
export const FD_NAME = 'fuse';
/** systemd-notify learned --fd (FDSTORE from a shell) in systemd 254. */
const FDSTORE_MIN_VERSION = 254;
/** /dev/fuse is the character device 10:229. */
const FUSE_DEVICE = { major: 10, minor: 229 };

function notifySocket(): string | undefined {
  return process.env.NOTIFY_SOCKET || undefined;
}

function runNotify(args: string[], extraFd?: number): boolean {
  const stdio: (string | number)[] = ['ignore', 'ignore', 'pipe'];
  if (extraFd !== undefined) stdio[SD_LISTEN_FDS_START] = extraFd;
  const result = spawnSync('systemd-notify', args, { stdio: stdio as never, timeout: 5000 });
  return result.status === 0;
}

/** READY=1 / RELOADING=1 / STOPPING=1 / STATUS=...; false when not under systemd. */
export function notify(...assignments: string[]): boolean {
  if (!notifySocket()) return false;
  return runNotify(assignments.some((a) => a === 'READY=1') ? ['--ready', ...assignments.filter((a) => a !== 'READY=1')] : assignments);
}

export function systemdNotifyVersion(): number | undefined {
  const result = spawnSync('systemd-notify', ['--version'], { encoding: 'utf8', timeout: 5000 });
  const match = /^systemd (\d+)/.exec(result.stdout ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * The unit systemd runs this process as, read from its cgroup; undefined when systemd
 * did not start it. Named in the lock file, so `cgprocfs unmount` can say how to stop it.
 */
export function systemdUnit(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env.NOTIFY_SOCKET && !env.INVOCATION_ID) return undefined;
  let cgroups = '';
  try {
    cgroups = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    // No /proc: the unit's usual name below.
  }
  return /\/([^/\n]+\.service)(?:\/|$)/m.exec(cgroups)?.[1] ?? 'cgprocfs.service';
}

export type FdStoreResult = 'stored' | 'no-systemd' | 'unsupported' | 'refused';

/** Hands the connection fd to systemd's fd store, so `systemctl restart` keeps the mount alive. */
export function storeFd(fd: number): FdStoreResult {
  if (!notifySocket()) return 'no-systemd';
  const version = systemdNotifyVersion();
  if (version === undefined || version < FDSTORE_MIN_VERSION) return 'unsupported';
  return runNotify([`--fd=${SD_LISTEN_FDS_START}`, `--fdname=${FD_NAME}`, 'FDSTORE=1'], fd) ? 'stored' : 'refused';
}

function isFuseDevice(fd: number): boolean {
  try {
    const { rdev } = fstatSync(fd);
    // glibc's dev_t encoding for small numbers: major in bits 8-19, minor in bits 0-7.
    return ((rdev >> 8) & 0xfff) === FUSE_DEVICE.major && (rdev & 0xff) === FUSE_DEVICE.minor;
  } catch {
    return false;
  }
}

/**
 * The descriptors systemd passed to this process (LISTEN_PID is us), left in the
 * environment: an exec that keeps the pid must keep them open too.
 */
export function listenedFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number[] {
  const count = Number(env.LISTEN_FDS);
  if (Number(env.LISTEN_PID) !== pid || !Number.isInteger(count) || count < 1) return [];
  return Array.from({ length: count }, (_, i) => SD_LISTEN_FDS_START + i);
}

/**
 * The FUSE connection systemd passed back (LISTEN_PID is us, a fd named "fuse" that
 * is a /dev/fuse fd), or undefined. The LISTEN_* variables are removed either way so
 * that no child mistakes them for its own.
 */
export function takeListenedFd(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const { LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES } = env;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (Number(LISTEN_PID) !== pid) return undefined;
  const count = Number(LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return undefined;
  const names = (LISTEN_FDNAMES ?? '').split(':');
  const index = names.length === count ? names.indexOf(FD_NAME) : 0;
  if (index < 0) return undefined;
  const fd = SD_LISTEN_FDS_START + index;
  return isFuseDevice(fd) ? fd : undefined;
}
