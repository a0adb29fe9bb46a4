// `cgprocfs serve`: the composition root of the daemon. It checks the host, takes the
// state directory's lock, gets the FUSE connection (a fresh mount answered with INIT,
// or the one systemd kept across a restart), hands it to the supervisor, and once it
// serves, has containers a dead predecessor left healed. The supervisor process never
// touches the mount itself: a request it caused could only be answered by its own
// children, and a stuck one would make it unkillable.

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { CgprocfsError } from '../errors.js';
import { collectIdleArenas } from '../fs/arena-file.js';
import { closeDevice, FSTYPE, mountFuse, mountsAt, openFuseDevice, prepareMountpoint, unmount } from '../fuse/mount.js';
import { handshake } from '../fuse/session.js';
import { arenaDirOf, type ServeConfig } from './config.js';
import { lockMountpoint, lockStateDir } from './lock.js';
import { scheduleExecutableDrops } from './executable-pages.js';
import { createLogger } from './logger.js';
import { verifyStateDir } from './state-dir.js';
import { Supervisor, type Connection } from './supervisor.js';
import { notify, storeFd, systemdUnit, takeListenedFd } from './systemd.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Held until this process exits: a second daemon on this state directory is refused.
 * Taken once the mountpoint is known to be usable, so a bad one touches no state.
 */
function lockState(config: ServeConfig): void {
  lockStateDir(config.stateDir, { pid: process.pid, mountpoint: config.mountpoint, systemdUnit: systemdUnit() });
}

/** The connection systemd kept for us, if it still backs our mount. */
function inheritedConnection(config: ServeConfig, log: Logger): Connection | undefined {
  const fd = takeListenedFd();
  if (fd === undefined) return undefined;
  const mount = mountsAt(config.mountpoint).at(-1);
  if (mount?.fstype !== FSTYPE) {
    log.warn({ mountpoint: config.mountpoint }, 'systemd passed a FUSE connection but nothing of ours is mounted there; mounting anew');
    closeDevice(fd);
    return undefined;
  }
  lockState(config);
  log.info({ mountpoint: config.mountpoint, fd }, 'took the connection back from systemd: the mount and every bind of it stay as they are');
  return { fd, device: mount.device, mountedAtSec: Math.floor(Date.now() / 1000), storedWithSystemd: true };
}

/**
 * Mounts anew: clears a stale mount, mounts, answers INIT. `cleared` gets the
 * connections of the stale mounts: the heal treats their binds as this mountpoint's.
 */
function newConnection(config: ServeConfig, log: Logger, cleared: string[]): Connection {
  cleared.push(...prepareMountpoint(config.mountpoint));
  if (cleared.length > 0) log.warn({ mountpoint: config.mountpoint, cleared: cleared.length }, 'detached a stale mount left by a dead instance');
  lockMountpoint(config.mountpoint);
  lockState(config);
  // Arenas of earlier mounts hold handles of connections that no longer exist.
  collectIdleArenas(arenaDirOf(config), new Set(), true);
  const fd = openFuseDevice();
  try {
    mountFuse(fd, config.mountpoint);
  } catch (err) {
    closeDevice(fd);
    throw err;
  }
  const device = mountsAt(config.mountpoint).at(-1)?.device ?? '';
  try {
    const { kernelMinor } = handshake(fd);
    log.debug({ kernel: `7.${kernelMinor}` }, 'INIT answered');
  } catch (err) {
    unmount(config.mountpoint);
    closeDevice(fd);
    throw err;
  }
  const stored = storeFd(fd);
  log.info({ fdStore: stored }, stored === 'stored' ? 'connection kept in systemd\'s fd store: restarts keep the mount' : 'no systemd fd store: a restart of the supervisor remounts');
  return { fd, device, mountedAtSec: Math.floor(Date.now() / 1000), storedWithSystemd: stored === 'stored' };
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new CgprocfsError('NOT_ROOT', 'cgprocfs serve must run as root (it mounts a filesystem and reads every process\'s /proc entries)');
  }
}

/**
 * Serves until SIGTERM/SIGINT or until the mount goes away; resolves to the exit code.
 * `layout` is the cgroup layout the CLI found when it checked the options.
 */
export async function serve(config: ServeConfig, layout: Record<string, unknown>): Promise<number> {
  const log = createLogger(config.logLevel, { component: 'supervisor' });
  requireRoot();
  verifyStateDir(config.stateDir);
  const cleared: string[] = [];
  const connection = inheritedConnection(config, log) ?? newConnection(config, log, cleared);
  const supervisor = new Supervisor(config, connection, log);
  try {
    await supervisor.start();
  } catch (err) {
    if (!connection.storedWithSystemd) unmount(config.mountpoint);
    closeDevice(connection.fd);
    throw new CgprocfsError('MOUNT_FAILED', `the server did not start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // Issue 22: what starting took of the node executable need not stay resident.
  scheduleExecutableDrops(log, 0);
  process.on('SIGHUP', () => supervisor.background(supervisor.reload()));
  process.on('SIGTERM', () => supervisor.background(supervisor.stop('SIGTERM')));
  process.on('SIGINT', () => supervisor.background(supervisor.stop('SIGINT')));
  notify('READY=1', `STATUS=serving ${config.mountpoint}`);
  log.info(
    { version: packageVersion(), mountpoint: config.mountpoint, resolve: config.resolve, swap: config.swap, cgroups: layout, workers: config.workers },
    'serving',
  );
  if (config.heal) supervisor.background(supervisor.heal(cleared));
  return supervisor.done;
}
