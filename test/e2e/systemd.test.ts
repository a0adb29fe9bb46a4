// systemd integration without a running systemd: the unit file verifies, and the
// fd-store take-back works the way systemd drives it (the connection fd inherited as
// fd 3 with LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES set): the mount and a bind mount of
// one of its files made earlier keep working across a stop and a new start.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { mountFuse, openFuseDevice } from '../../src/fuse/mount.js';
import { handshake } from '../../src/fuse/session.js';
import { cgprocfsMountsAt, makeMountpoint, removeMountpoint } from './harness/daemon.js';
import { killTrees, run, runOk, waitForLine } from './harness/exec.js';
import { DAEMON_BIN, describeE2E, REPO_ROOT } from './harness/prerequisites.js';
import { teardown } from './harness/suite.js';

const UNIT = join(REPO_ROOT, 'systemd/cgprocfs.service');

/** Starts `cgprocfs serve` as systemd would after a restart: our fd as its fd 3 and LISTEN_* naming it. */
function startWithListenFds(fd: number, mountpoint: string, stateDir: string): ChildProcess {
  const script = 'LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=fuse exec "$0" "$@"';
  return spawn('sh', ['-c', script, process.execPath, DAEMON_BIN, 'serve', '--mountpoint', mountpoint, '--state-dir', stateDir], {
    stdio: ['ignore', 'pipe', 'pipe', fd],
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

const cat = (path: string) => runOk('cat', [path], { timeoutMs: 15_000 });

describeE2E('systemd integration', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'cgprocfs-e2e-systemd-'));
  const mountpoint = makeMountpoint();
  const bindTarget = join(scratch, 'meminfo');
  const daemons: ChildProcess[] = [];
  let fd: number | undefined;
  afterAll(() =>
    teardown(
      async () => void (await killTrees(daemons.map((d) => d.pid!).filter(Boolean))),
      async () => void (await run('umount', ['-l', bindTarget])),
      () => removeMountpoint(mountpoint),
      () => {
        if (fd !== undefined) closeSync(fd);
        rmSync(scratch, { recursive: true, force: true });
        return undefined;
      },
    ),
  );

  it('systemd-analyze verify accepts the unit', async () => {
    // The unit names the installed path; verify a copy that names this checkout's build.
    const copy = join(scratch, 'cgprocfs.service');
    writeFileSync(copy, readFileSync(UNIT, 'utf8').replaceAll('/usr/local/bin/cgprocfs', DAEMON_BIN));
    const result = await run('systemd-analyze', ['verify', copy], { timeoutMs: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('takes the connection back from LISTEN_FDS: the mount and an earlier bind mount keep working across a restart', async () => {
    fd = openFuseDevice();
    mountFuse(fd, mountpoint);
    handshake(fd);
    const stateDir = join(scratch, 'state');

    const first = startWithListenFds(fd, mountpoint, stateDir);
    daemons.push(first);
    expect(await waitForLine(first, /took the connection back from systemd/)).toBeTruthy();
    await waitForLine(first, /"msg":"serving"/);
    copyFileSync('/dev/null', bindTarget);
    await runOk('mount', ['--bind', join(mountpoint, 'proc/meminfo'), bindTarget]);
    expect(await cat(bindTarget)).toMatch(/^MemTotal:/);

    // Stopping a supervisor whose connection systemd keeps leaves the mount in place.
    first.kill('SIGTERM');
    expect(await exitOf(first)).toBe(0);
    expect(cgprocfsMountsAt(mountpoint)).toHaveLength(1);
    const staleOnly = await runOk(process.execPath, [DAEMON_BIN, 'unmount', '--mountpoint', mountpoint, '--stale-only'], { timeoutMs: 15_000 });
    expect(staleOnly).toMatch(/unanswered, left alone/);

    // A reader that arrives while no server runs waits, and is answered by the next one.
    const waiting = run('cat', [bindTarget], { timeoutMs: 30_000 });
    const second = startWithListenFds(fd, mountpoint, stateDir);
    daemons.push(second);
    await waitForLine(second, /"msg":"serving"/);
    const early = await waiting;
    expect(early.code).toBe(0);
    expect(early.stdout).toMatch(/^MemTotal:/);
    expect(await cat(bindTarget)).toMatch(/^MemTotal:/);
    expect(await cat(join(mountpoint, 'proc/meminfo'))).toMatch(/^MemTotal:/);

    second.kill('SIGTERM');
    expect(await exitOf(second)).toBe(0);
  }, 60_000);

  it('unmount --stale-only clears the mount once its connection is gone', async () => {
    expect(fd).toBeDefined();
    await run('umount', ['-l', bindTarget]);
    closeSync(fd!);
    fd = undefined;
    const out = await runOk(process.execPath, [DAEMON_BIN, 'unmount', '--mountpoint', mountpoint, '--stale-only'], { timeoutMs: 15_000 });
    expect(out).toMatch(/detached|unmounted/);
    expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
  });
});
