// `cgprocfs check` on a real host: it sees a live mount as serving and a dead one as dead.
import { expect, it } from 'vitest';
import { Daemon } from './harness/daemon.js';
import { run } from './harness/exec.js';
import { DAEMON_BIN, describeE2E } from './harness/prerequisites.js';
import { teardown } from './harness/suite.js';
import { afterAll } from 'vitest';

const check = (mountpoint: string) => run(process.execPath, [DAEMON_BIN, 'check', '--mountpoint', mountpoint], { timeoutMs: 20_000 });

describeE2E('cgprocfs check', () => {
  const daemons: Daemon[] = [];
  afterAll(() => teardown(...daemons.map((d) => () => d.destroy())));

  it('reports a live mount as answering and exits 0', async () => {
    const daemon = await Daemon.start();
    daemons.push(daemon);
    const result = await check(daemon.mountpoint);
    expect(result.stdout).toMatch(/^ok {4}mount .* is mounted and answering$/m);
    expect(result.code).toBe(0);
  });

  it('reports a dead mount as FAIL, says starting cgprocfs again replaces it (no manual unmount), and exits 1', async () => {
    const daemon = await Daemon.start();
    daemons.push(daemon);
    await daemon.kill();
    const result = await check(daemon.mountpoint);
    expect(result.stdout).toMatch(/^FAIL {2}mount .* dead mount \(ENOTCONN\): start cgprocfs again; it replaces the mount/m);
    expect(result.stdout).not.toMatch(/unmount/);
    expect(result.code).toBe(1);
  });
});
