// `cgprocfs serve`: the composition root of the daemon. It checks the host, mounts,
// answers INIT, starts the serving workers, and unmounts cleanly on SIGTERM/SIGINT.
// The main thread never touches the mount itself (a request it caused could only be
// answered by its own workers, and a stuck one would make the process unkillable).

import { readFileSync, writeSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { CgprocfsError } from '../errors.js';
import { decodeRequest, encodeError, encodeInitOut, encodeReply } from '../fuse/codec.js';
import { Errno } from '../fuse/abi.js';
import { negotiateInit, ProtocolVersionError } from '../fuse/dispatcher.js';
import { readRequest } from '../fuse/device.js';
import { abortConnection, closeDevice, mountFuse, mountsAt, openFuseDevice, prepareMountpoint, unmount } from '../fuse/mount.js';
import { allocateHandleStoreMemory, DEFAULT_HANDLE_LIMITS } from '../fs/handles.js';
import { createViewService } from '../render/views.js';
import type { ServeConfig } from './config.js';
import { createLogger } from './logger.js';
import { startWorkers } from './workers.js';

/** How long workers get to notice an unmount before the connection is aborted. */
const DRAIN_MS = 5000;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Answers the INIT the kernel queues at mount time, on the main thread, before workers start. */
function handshake(fd: number, log: Logger): void {
  const request = decodeRequest(readRequest(fd));
  if (request.kind !== 'init') {
    writeSync(fd, encodeError(request.header.unique, Errno.EIO));
    throw new CgprocfsError('PROTOCOL_VERSION', `expected INIT as the first request, got opcode ${request.header.opcode}`);
  }
  try {
    const reply = negotiateInit(request.major, request.minor, request.maxReadahead, request.flags);
    writeSync(fd, encodeReply(request.header.unique, encodeInitOut(reply)));
    log.debug({ kernel: `${request.major}.${request.minor}`, flags: reply.flags.toString(16) }, 'INIT answered');
  } catch (err) {
    if (!(err instanceof ProtocolVersionError)) throw err;
    writeSync(fd, encodeError(request.header.unique, Errno.EPROTO));
    throw new CgprocfsError('PROTOCOL_VERSION', err.message);
  }
}

/** Serves until SIGTERM/SIGINT or until the mount goes away; resolves to the exit code. */
export async function serve(config: ServeConfig): Promise<number> {
  const log = createLogger(config.logLevel, { component: 'daemon' });
  if (process.getuid?.() !== 0) {
    throw new CgprocfsError('NOT_ROOT', 'cgprocfs serve must run as root (it mounts a filesystem and reads every process\'s /proc entries)');
  }
  // Build the views first: a bad --cgroup-root fails before anything is mounted.
  const layout = createViewService(config).describeLayout();
  const cleared = prepareMountpoint(config.mountpoint);
  if (cleared > 0) log.warn({ mountpoint: config.mountpoint, cleared }, 'detached a stale mount left by a dead instance');

  const fd = openFuseDevice();
  try {
    mountFuse(fd, config.mountpoint);
  } catch (err) {
    closeDevice(fd);
    throw err;
  }
  const device = mountsAt(config.mountpoint).at(-1)?.device ?? '';
  try {
    handshake(fd, log);
  } catch (err) {
    unmount(config.mountpoint);
    closeDevice(fd);
    throw err;
  }

  const memory = allocateHandleStoreMemory(DEFAULT_HANDLE_LIMITS, randomInt(1, 0xffff));
  const pool = startWorkers({ fd, config, memory, mountedAtSec: Math.floor(Date.now() / 1000) }, log);
  log.info(
    { version: packageVersion(), mountpoint: config.mountpoint, resolve: config.resolve, swap: config.swap, cgroups: layout, workers: config.workers },
    'serving',
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const how = unmount(config.mountpoint);
    // A lazy unmount leaves the connection alive while containers hold our files:
    // abort it so the workers' blocked reads return and the process can exit.
    const timer = setTimeout(() => abortConnection(device), how === 'detached' ? 0 : DRAIN_MS);
    timer.unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const ends = await pool.done;
  closeDevice(fd);
  if (ends.includes('failed') || (!stopping && ends.includes('aborted'))) {
    // Nothing serves this mount any more (our workers failed, or someone aborted the
    // connection): take the dead mount away rather than leave it answering ENOTCONN.
    unmount(config.mountpoint);
    log.error({ mountpoint: config.mountpoint, ends }, 'serving ended abnormally; unmounted');
    return 1;
  }
  log.info({ mountpoint: config.mountpoint, by: stopping ? 'signal' : 'external unmount' }, 'unmounted');
  return 0;
}
