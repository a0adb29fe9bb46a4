// Mounting and unmounting without libfuse: open /dev/fuse, run mount(8) with the fd
// as the child's fd 3, find our mounts in mountinfo, clear a stale mount a dead
// instance left behind (reference §1). The source names the mountpoint, so that binds
// of a dead connection can be told to have come from this mountpoint (issue 16).

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CgprocfsError, systemErrorCode } from '../errors.js';

export const FSTYPE = 'fuse.cgprocfs';
/** Mounts made before issue 16 have this source alone: it does not say where they were mounted. */
export const LEGACY_SOURCE = 'cgprocfs';
const SOURCE_PREFIX = `${LEGACY_SOURCE}:`;
/** Read-only at the VFS: writes fail with EROFS before they reach us; the kernel checks modes. */
const MOUNT_OPTIONS = 'ro,nosuid,nodev,noatime,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions';
const CHILD_FD = 3;

export interface MountEntry {
  /** The mount's id in its namespace, and its parent's (mountinfo fields 1 and 2). */
  id: number;
  parentId: number;
  /** The path inside its filesystem that is mounted: '/' for a whole mount, '/proc/meminfo' for a bind of one file. */
  root: string;
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
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      root: unescapeMountPath(fields[3] ?? ''),
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

/** The source a mount on `mountpoint` gets: `cgprocfs:<mountpoint>`, shown by every bind of it. */
export function mountSource(mountpoint: string): string {
  return `${SOURCE_PREFIX}${mountpoint}`;
}

/** The mountpoint a cgprocfs source names; undefined for a legacy source, which names none. */
export function servedMountpoint(source: string): string | undefined {
  return source.startsWith(SOURCE_PREFIX) ? source.slice(SOURCE_PREFIX.length) : undefined;
}

/** Mounts the FUSE connection `fd` on `mountpoint`. The kernel queues INIT at once. */
export function mountFuse(fd: number, mountpoint: string): void {
  const { ok, output } = run('mount', ['-i', '-t', FSTYPE, '-o', `fd=${CHILD_FD},${MOUNT_OPTIONS}`, mountSource(mountpoint), mountpoint], fd);
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

/** An error of a FUSE mount whose connection is gone (see DEAD_CONNECTION_ERRNOS). */
export function isDeadConnectionError(err: unknown): boolean {
  return DEAD_CONNECTION_ERRNOS.has(systemErrorCode(err) ?? '');
}

/**
 * A FUSE mount whose server is gone. statfs, not stat: the kernel answers a stat of the
 * root from its attribute cache for a while after the connection died; statfs always
 * asks the server.
 */
function isDisconnected(mountpoint: string): boolean {
  try {
    statfsSync(mountpoint);
    return false;
  } catch (err) {
    return isDeadConnectionError(err);
  }
}

/**
 * Makes `mountpoint` ready for a new mount: creates it, detaches stale cgprocfs mounts
 * a dead instance left (they would otherwise stay under ours), and refuses a path where
 * anything live is mounted. Returns the devices (connections) of the stale mounts
 * cleared: whatever else still binds them served this mountpoint.
 */
export function prepareMountpoint(mountpoint: string): string[] {
  const cleared: string[] = [];
  for (let mounts = mountsAt(mountpoint); mounts.length > 0; mounts = mountsAt(mountpoint)) {
    const top = mounts[mounts.length - 1]!;
    if (top.fstype !== FSTYPE || !isDisconnected(mountpoint)) {
      throw new CgprocfsError('MOUNTPOINT', `${mountpoint} is already mounted (${top.fstype}${top.fstype === FSTYPE ? ', served by a running cgprocfs' : ''}); stop it or choose another --mountpoint`);
    }
    const lazy = run('umount', ['-l', mountpoint]);
    if (!lazy.ok) throw new CgprocfsError('MOUNTPOINT', `cannot detach the stale mount on ${mountpoint}: ${lazy.output}`);
    cleared.push(top.device);
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
 * Ends a FUSE connection through fusectl: every blocked reader of the device, ours
 * included, returns at once. Used when an unmount had to be lazy and containers still
 * hold the connection. fusectl is mounted for the moment if it was not.
 */
export function abortConnection(device: string): boolean {
  const minor = device.split(':')[1];
  const control = '/sys/fs/fuse/connections';
  const mounted = mountsAt(control).length === 0 && run('mount', ['-t', 'fusectl', 'none', control]).ok;
  try {
    writeFileSync(`${control}/${minor}/abort`, '1');
    return true;
  } catch {
    return false;
  } finally {
    if (mounted) run('umount', [control]);
  }
}

export function closeDevice(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing left to release.
  }
}
