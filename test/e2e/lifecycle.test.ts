// Start and stop: a signal unmounts cleanly, and a stale mount left by a killed daemon is replaced on start.
import { rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { cgprocfsMountsAt, Daemon, makeMountpoint, makeStateDir, removeMountpoint } from './harness/daemon.js';
import { spawn } from 'node:child_process';
import { killTrees, run, runOk, waitForLine } from './harness/exec.js';
import { DAEMON_BIN, describeE2E } from './harness/prerequisites.js';
import { teardown } from './harness/suite.js';

describeE2E('daemon lifecycle', () => {
  const daemons: Daemon[] = [];
  const mountpoints: string[] = [];
  const start = async (mountpoint?: string) => {
    const daemon = await Daemon.start(mountpoint ? { mountpoint } : {});
    daemons.push(daemon);
    return daemon;
  };
  afterAll(() =>
    teardown(...[...daemons].reverse().map((d) => () => d.destroy()), ...mountpoints.map((m) => () => removeMountpoint(m))),
  );

  it.each(['SIGTERM', 'SIGINT'] as const)('%s unmounts, exits 0 and leaves an empty plain directory', async (signal) => {
    const daemon = await start();
    expect(cgprocfsMountsAt(daemon.mountpoint)).toHaveLength(1);
    expect(await daemon.stop(signal)).toEqual({ code: 0, signal: null });
    expect(cgprocfsMountsAt(daemon.mountpoint)).toEqual([]);
    expect(await readdir(daemon.mountpoint)).toEqual([]);
  });

  it('Ctrl-C to the daemon\'s whole process group (as a terminal sends it) unmounts and exits 0', async () => {
    const mountpoint = makeMountpoint();
    mountpoints.push(mountpoint);
    // Its own process group, as a shell job in a terminal; the group gets the signal.
    const stateDir = makeStateDir();
    const child = spawn(process.execPath, [DAEMON_BIN, 'serve', '--mountpoint', mountpoint, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitForLine(child, /"msg":"serving"/);
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(0);
      expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
    } finally {
      await killTrees([child.pid!]);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('a stale mount left by a SIGKILLed daemon is detached and replaced by the next start', async () => {
    const mountpoint = makeMountpoint();
    mountpoints.push(mountpoint);
    await (await start(mountpoint)).kill();
    const stale = await run('stat', [mountpoint], { timeoutMs: 10_000 });
    // ENOTCONN, or ECONNABORTED while the kernel is still aborting the connection.
    expect(stale.stderr).toMatch(/Transport endpoint is not connected|Software caused connection abort/);
    expect(cgprocfsMountsAt(mountpoint)).toHaveLength(1);

    const daemon = await start(mountpoint);
    expect(cgprocfsMountsAt(mountpoint)).toHaveLength(1);
    expect(await runOk('cat', [daemon.path('proc/meminfo')], { timeoutMs: 10_000 })).toMatch(/^MemTotal:/);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
  });
});
