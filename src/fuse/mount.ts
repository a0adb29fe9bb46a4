// Mounting and unmounting without libfuse: open /dev/fuse, run mount(8) with the fd
// as the child's fd 3, find our mounts in mountinfo, clear a stale mount a dead
// instance left behind (reference §1).

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CgprocfsError, systemErrorCode } from '../errors.js';

export const FSTYPE = 'fuse.cgprocfs';
const SOURCE = 'cgprocfs';
/** Read-only at the VFS: writes fail with EROFS before they reach us; the kernel checks modes. */
const MOUNT_OPTIONS = 'ro,nosuid,nodev,noatime,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions';
const CHILD_FD = 3;

export interface MountEntry {
  mountpoint: string;
  fstype: string;
  /** major:minor of the mount's device; for FUSE, the minor names the connection. */
  device: string;
  source: string;
  /** The mount's options, then the superblock's, comma separated. */
  options: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || fields.length < dash + 2) continue;
    entries.push({
      mountpoint: unescapeMountPath(fields[4] ?? ''),
      fstype: fields[dash + 1] ?? '',
      device: fields[2] ?? '',
      source: unescapeMountPath(fields[dash + 2] ?? ''),
      options: `${fields[5] ?? ''},${fields[dash + 3] ?? ''}`,
    });
  }
  return entries;
}

/**
 * The mountpoint as /proc/self/mountinfo spells it: absolute, its parent's symlinks
 * resolved. The mountpoint itself is not resolved: on a dead mount that stat fails.
 */
export function canonicalMountpoint(mountpoint: string): string {
  const absolute = resolve(mountpoint);
  if (absolute === '/') return absolute;
  try {
    return join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    return absolute;
  }
}

export function mountsAt(mountpoint: string): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.mountpoint === mountpoint);
}

export function openFuseDevice(): number {
  try {
    return openSync('/dev/fuse', 'r+');
  } catch (err) {
    throw new CgprocfsError('NO_FUSE_DEVICE', `cannot open /dev/fuse (${systemErrorCode(err) ?? err}): load the fuse module (modprobe fuse) or give the container /dev/fuse`, { cause: err });
  }
}

/** How long mount(8)/umount(8) may take; a FUSE umount can wait on a server that is gone. */
const COMMAND_TIMEOUT_MS = 10_000;

function run(command: string, args: string[], extraFd?: number): { ok: boolean; output: string } {
  const stdio: (string | number)[] = ['ignore', 'pipe', 'pipe'];
  if (extraFd !== undefined) stdio[CHILD_FD] = extraFd;
  const result = spawnSync(command, args, { stdio: stdio as never, encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL' });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim();
  return { ok: result.status === 0, output };
}

/** Mounts the FUSE connection `fd` on `mountpoint`. The kernel queues INIT at once. */
export function mountFuse(fd: number, mountpoint: string): void {
  const { ok, output } = run('mount', ['-i', '-t', FSTYPE, '-o', `fd=${CHILD_FD},${MOUNT_OPTIONS}`, SOURCE, mountpoint], fd);
  if (!ok) throw new CgprocfsError('MOUNT_FAILED', `mount on ${mountpoint} failed: ${output}`);
}

/** Unmounts; a busy mount (a container still binds our files) is detached instead. */
export function unmount(mountpoint: string): 'unmounted' | 'detached' | 'not-mounted' {
  if (mountsAt(mountpoint).length === 0) return 'not-mounted';
  if (run('umount', [mountpoint]).ok) return 'unmounted';
  const lazy = run('umount', ['-l', mountpoint]);
  if (!lazy.ok) throw new CgprocfsError('MOUNT_FAILED', `umount ${mountpoint} failed: ${lazy.output}`);
  return 'detached';
}

/**
 * ENOTCONN from stat: a FUSE mount whose server is gone. ECONNABORTED is the same
 * death seen while the kernel is still aborting the connection (we ask for
 * FUSE_ABORT_ERROR), e.g. right after the serving process was killed.
 */
const DEAD_CONNECTION_ERRNOS = new Set(['ENOTCONN', 'ECONNABORTED']);
const DEAD_CONNECTION_MESSAGES = /Transport endpoint is not connected|Software caused connection abort/;

export type MountState = 'absent' | 'live' | 'stale' | 'unanswered';

/** How long a probe of the mount may wait for its server. */
const PROBE_TIMEOUT_MS = 2000;

/**
 * What is at `mountpoint`, probed with statfs(2) (the kernel caches no answer to it, so
 * it always reaches a server) from a child process with a deadline: a live mount
 * whose connection nobody serves right now (systemd holding the fd across a restart)
 * makes the probe wait, and this process must never be the one left waiting.
 */
export function mountState(mountpoint: string): MountState {
  if (!mountsAt(mountpoint).some((m) => m.fstype === FSTYPE)) return 'absent';
  const probe = spawnSync('stat', ['-f', '-c', '%i', mountpoint], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL' });
  if (probe.status === 0) return 'live';
  if (DEAD_CONNECTION_MESSAGES.test(probe.stderr ?? '')) return 'stale';
  return 'unanswered';
}

/** Throws MOUNTPOINT, saying why in one line, unless a cgprocfs mount at `mountpoint` answers. */
export function assertLiveMount(mountpoint: string): void {
  const state = mountState(mountpoint);
  if (state === 'live') return;
  const why = {
    absent: `no ${FSTYPE} is mounted there; start cgprocfs serve --mountpoint ${mountpoint}`,
    stale: 'its daemon is gone (Transport endpoint is not connected); restart cgprocfs serve',
    unanswered: 'nothing answers it (a restart in progress, or a stuck daemon); try again, or see cgprocfs check',
  }[state];
  throw new CgprocfsError('MOUNTPOINT', `${mountpoint} is not a live cgprocfs mount: ${why}`);
}

/** A FUSE mount whose server is gone (see DEAD_CONNECTION_ERRNOS). */
function isDisconnected(mountpoint: string): boolean {
  try {
    statSync(mountpoint);
    return false;
  } catch (err) {
    return DEAD_CONNECTION_ERRNOS.has(systemErrorCode(err) ?? '');
  }
}

/**
 * Makes `mountpoint` ready for a new mount: creates it, detaches stale cgprocfs mounts
 * a dead instance left (they would otherwise stay under ours), and refuses a path where
 * anything live is mounted. Returns the number of stale mounts cleared.
 */
export function prepareMountpoint(mountpoint: string): number {
  let cleared = 0;
  for (let mounts = mountsAt(mountpoint); mounts.length > 0; mounts = mountsAt(mountpoint)) {
    const top = mounts[mounts.length - 1]!;
    if (top.fstype !== FSTYPE || !isDisconnected(mountpoint)) {
      throw new CgprocfsError('MOUNTPOINT', `${mountpoint} is already mounted (${top.fstype}${top.fstype === FSTYPE ? ', served by a running cgprocfs' : ''}); stop it or choose another --mountpoint`);
    }
    const lazy = run('umount', ['-l', mountpoint]);
    if (!lazy.ok) throw new CgprocfsError('MOUNTPOINT', `cannot detach the stale mount on ${mountpoint}: ${lazy.output}`);
    cleared++;
  }
  ensureDirectory(mountpoint);
  return cleared;
}

function ensureDirectory(path: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (err) {
    if (systemErrorCode(err) !== 'ENOENT') {
      throw new CgprocfsError('MOUNTPOINT', `cannot use ${path} as a mountpoint: ${systemErrorCode(err) ?? err}`, { cause: err });
    }
    mkdirSync(path, { recursive: true });
    return;
  }
  if (!isDirectory) throw new CgprocfsError('MOUNTPOINT', `${path} is not a directory`);
}

/**
 * Ends a FUSE connection through fusectl (mounting fusectl if needed): every blocked
 * reader of the device, ours included, returns at once. Used when an unmount had to be
 * lazy and containers still hold the connection.
 */
export function abortConnection(device: string): boolean {
  const minor = device.split(':')[1];
  const control = '/sys/fs/fuse/connections';
  if (mountsAt(control).length === 0) run('mount', ['-t', 'fusectl', 'none', control]);
  try {
    writeFileSync(`${control}/${minor}/abort`, '1');
    return true;
  } catch {
    return false;
  }
}

export function closeDevice(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing left to release.
  }
}
