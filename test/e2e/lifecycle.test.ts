// Start and stop: a signal unmounts cleanly, and a stale mount left by a killed daemon is replaced on start.
import { readdir } from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { cgprocfsMountsAt, Daemon, makeMountpoint, removeMountpoint } from './harness/daemon.js';
import { run, runOk } from './harness/exec.js';
import { describeE2E } from './harness/prerequisites.js';
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

  it('a stale mount left by a SIGKILLed daemon is detached and replaced by the next start', async () => {
    const mountpoint = makeMountpoint();
    mountpoints.push(mountpoint);
    await (await start(mountpoint)).kill();
    const stale = await run('stat', [mountpoint], { timeoutMs: 10_000 });
    expect(stale.stderr).toMatch(/Transport endpoint is not connected/);
    expect(cgprocfsMountsAt(mountpoint)).toHaveLength(1);

    const daemon = await start(mountpoint);
    expect(cgprocfsMountsAt(mountpoint)).toHaveLength(1);
    expect(await runOk('cat', [daemon.path('proc/meminfo')], { timeoutMs: 10_000 })).toMatch(/^MemTotal:/);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
  });
});
