// One daemon per state directory and mountpoint, and an unmount that never leaves a
// daemon running unseen (issue 16).
import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { cgprocfsMountsAt, Daemon, makeMountpoint, makeStateDir, removeMountpoint } from './harness/daemon.js';
import { run } from './harness/exec.js';
import { DAEMON_BIN, describeE2E } from './harness/prerequisites.js';
import { teardown } from './harness/suite.js';

const cli = (...args: string[]) => run(process.execPath, [DAEMON_BIN, ...args], { timeoutMs: 40_000 });

describeE2E('one daemon per state directory and mountpoint', () => {
  const daemons: Daemon[] = [];
  const mountpoints: string[] = [];
  const stateDirs: string[] = [];
  afterAll(() =>
    teardown(
      ...[...daemons].reverse().map((d) => () => d.destroy()),
      ...mountpoints.map((m) => () => removeMountpoint(m)),
      async () => stateDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })),
    ),
  );
  const fresh = () => {
    const [mountpoint, stateDir] = [makeMountpoint(), makeStateDir()];
    mountpoints.push(mountpoint);
    stateDirs.push(stateDir);
    return { mountpoint, stateDir };
  };
  const start = async (mountpoint: string, stateDir: string) => {
    const daemon = await Daemon.start({ mountpoint, args: ['--state-dir', stateDir] });
    daemons.push(daemon);
    return daemon;
  };

  it('a second serve on the same state directory is refused with one line naming the first, and mounts nothing', async () => {
    const first = fresh();
    const daemon = await start(first.mountpoint, first.stateDir);
    const second = fresh();
    const r = await cli('serve', '--mountpoint', second.mountpoint, '--state-dir', first.stateDir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `cgprocfs: the cgprocfs daemon pid ${daemon.pid} (serving ${first.mountpoint}) holds the state directory ${first.stateDir}: stop it first, or give this one another --state-dir\n`,
    );
    expect(cgprocfsMountsAt(second.mountpoint)).toEqual([]);
  });

  it('a second serve on the same mountpoint with another state directory is refused, and nothing is stacked', async () => {
    const first = fresh();
    await start(first.mountpoint, first.stateDir);
    const r = await cli('serve', '--mountpoint', first.mountpoint, '--state-dir', fresh().stateDir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cgprocfs: .* is already mounted \(fuse\.cgprocfs, served by a running cgprocfs\); stop it or choose another --mountpoint\n$/);
    expect(cgprocfsMountsAt(first.mountpoint)).toHaveLength(1);
  });

  it('a SIGKILLed daemon leaves no lock behind: the next serve on its state directory starts', async () => {
    const { mountpoint, stateDir } = fresh();
    await (await start(mountpoint, stateDir)).kill();
    const next = await start(mountpoint, stateDir);
    expect(next.running).toBe(true);
  });

  it('unmount of a mount whose daemon was started by hand stops that daemon, which unmounts', async () => {
    const { mountpoint, stateDir } = fresh();
    const daemon = await start(mountpoint, stateDir);
    const r = await cli('unmount', '--mountpoint', mountpoint, '--state-dir', stateDir);
    expect(r.stdout).toBe(`stopped the cgprocfs daemon pid ${daemon.pid}; ${mountpoint} unmounted\n`);
    expect(r.code).toBe(0);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
  });

  it('unmount refuses, saying how, when it cannot find the daemon (another state directory) or systemd runs it; the daemon keeps serving', async () => {
    const { mountpoint, stateDir } = fresh();
    const daemon = await start(mountpoint, stateDir);
    const elsewhere = await cli('unmount', '--mountpoint', mountpoint, '--state-dir', fresh().stateDir);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/is served by a cgprocfs daemon that does not use --state-dir .*: stop that daemon, or give its --state-dir, or unmount under it with --force\n$/);

    const managed = fresh();
    // What systemd sets for a service; the daemon records the unit in its lock.
    process.env.INVOCATION_ID = 'e2e';
    const service = await start(managed.mountpoint, managed.stateDir).finally(() => delete process.env.INVOCATION_ID);
    const refused = await cli('unmount', '--mountpoint', managed.mountpoint, '--state-dir', managed.stateDir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `cgprocfs: ${managed.mountpoint} is served by the cgprocfs daemon pid ${service.pid} of cgprocfs.service: stop it with systemctl stop cgprocfs.service (or unmount under it with --force)\n`,
    );
    for (const d of [daemon, service]) expect(d.running).toBe(true);
    expect((await cli('check', '--mountpoint', mountpoint)).stdout).toMatch(/is mounted and answering/);
  });

  it('unmount --force unmounts and ends the connection: the daemon serving it stops instead of running on unseen', async () => {
    const { mountpoint, stateDir } = fresh();
    const daemon = await start(mountpoint, stateDir);
    const r = await cli('unmount', '--mountpoint', mountpoint, '--force');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ unmounted; its connection is ended, so the daemon that served it stops/);
    expect((await daemon.stop()).signal).toBeNull();
    expect(daemon.running).toBe(false);
    expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
  });
});
