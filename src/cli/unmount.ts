// `cgprocfs unmount`: takes a cgprocfs mount away. A dead mount is detached. A live one
// has a daemon behind it: unmounting under it would leave that daemon running unseen
// (issue 16), so a daemon started by hand is stopped (SIGTERM, as Ctrl-C would), one
// that systemd runs is left to `systemctl stop`, and --force unmounts anyway and ends
// the connection, which stops whatever daemon served it.

import type { CommandModule } from 'yargs';
import { DEFAULT_STATE_DIR } from '../daemon/config.js';
import { lockHolder, type LockHolder } from '../daemon/lock.js';
import { CgprocfsError } from '../errors.js';
import { abortConnection, FSTYPE, mountsAt, mountState, unmount } from '../fuse/mount.js';
import { mountpointOption } from './options.js';

interface UnmountArgs {
  mountpoint: string;
  'stale-only': boolean;
  force: boolean;
  'state-dir': string;
}

/** How long a daemon gets to stop after SIGTERM (its own stop takes well under a second). */
const DAEMON_STOP_MS = 20_000;

async function stopDaemon(holder: LockHolder, stateDir: string): Promise<void> {
  try {
    process.kill(holder.pid, 'SIGTERM');
  } catch (err) {
    throw new CgprocfsError('NOT_ROOT', `cannot signal the cgprocfs daemon pid ${holder.pid}: ${(err as Error).message}`, { cause: err });
  }
  // The lock is the daemon's life: the kernel drops it when the daemon has exited.
  for (const deadline = Date.now() + DAEMON_STOP_MS; lockHolder(stateDir)?.pid === holder.pid; ) {
    if (Date.now() > deadline) throw new CgprocfsError('ALREADY_RUNNING', `the cgprocfs daemon pid ${holder.pid} did not stop within ${DAEMON_STOP_MS / 1000} s of SIGTERM`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function unmountLive(args: UnmountArgs): Promise<string> {
  const where = args.mountpoint;
  const found = lockHolder(args['state-dir']);
  const holder = found?.mountpoint === where ? found : undefined;
  if (args.force) {
    const device = mountsAt(where).at(-1)?.device ?? '';
    const how = unmount(where);
    abortConnection(device);
    return `${where} ${how}; its connection is ended, so the daemon that served it stops and containers holding its files fail until cgprocfs starts again\n`;
  }
  if (holder?.systemdUnit) {
    throw new CgprocfsError('ALREADY_RUNNING', `${where} is served by the cgprocfs daemon pid ${holder.pid} of ${holder.systemdUnit}: stop it with systemctl stop ${holder.systemdUnit} (or unmount under it with --force)`);
  }
  if (holder === undefined) {
    throw new CgprocfsError(
      'ALREADY_RUNNING',
      `${where} is served by a cgprocfs daemon that does not use --state-dir ${args['state-dir']}: stop that daemon, or give its --state-dir, or unmount under it with --force`,
    );
  }
  await stopDaemon(holder, args['state-dir']);
  const left = mountsAt(where).some((m) => m.fstype === FSTYPE);
  return `stopped the cgprocfs daemon pid ${holder.pid}; ${where} ${left ? 'is still mounted' : 'unmounted'}\n`;
}

async function runUnmount(args: UnmountArgs): Promise<string> {
  const where = args.mountpoint;
  const state = mountState(where);
  if (args['stale-only'] && state !== 'stale') return `${where}: ${state}, left alone\n`;
  if (state === 'live' || state === 'unanswered') return unmountLive(args);
  const top = mountsAt(where).at(-1);
  if (top === undefined) return `${where} is not mounted\n`;
  if (top.fstype !== FSTYPE) throw new CgprocfsError('MOUNTPOINT', `${where} is a ${top.fstype} mount, not cgprocfs: left alone`);
  return `${where} ${unmount(where)} (a dead mount: its daemon was gone)\n`;
}

export function makeUnmountCommand(stdout: (text: string) => void): CommandModule<object, UnmountArgs> {
  return {
    command: 'unmount',
    describe: 'unmount the tree, stopping the daemon that serves it (also clears a stale mount a dead instance left)',
    builder: (y) =>
      mountpointOption(y)
        .option('stale-only', { type: 'boolean', default: false, describe: 'only a dead mount (ENOTCONN); for ExecStopPost' })
        .option('force', { type: 'boolean', default: false, describe: 'unmount a live mount and end its connection, whoever serves it' })
        .option('state-dir', { type: 'string', default: DEFAULT_STATE_DIR, describe: 'the state directory of the daemon to stop' })
        .example('$0 unmount', 'stop the daemon serving /var/lib/cgprocfs, which unmounts it')
        .example('$0 unmount --stale-only', 'clear a dead mount, leave a live one (systemd may hold it)'),
    handler: async (args) => {
      stdout(await runUnmount(args));
    },
  };
}
