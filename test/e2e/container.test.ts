// A "container" (own mount + pid namespace, in a 300 MiB cgroup, our files bound over /proc) sees its own memory.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { runInContainer } from './harness/container.js';
import { describeRun } from './harness/exec.js';
import { MiB } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

describeE2E('a container with the files bound over /proc', () => {
  const fx = useFixture();
  const inContainer = async (command: string[]) => {
    fx.cgroups.make('ctr', { memoryLimit: 300 * MiB });
    const r = await runInContainer(fx.cgroups, 'ctr', fx.daemon.mountpoint, command, { timeoutMs: 20_000 });
    if (r.code !== 0) throw new Error(describeRun(command, r));
    return r.stdout;
  };

  it('free -m shows a total of 300 (MiB) in a 300 MiB cgroup', async () => {
    expect(await inContainer(['free', '-m'])).toMatch(/^Mem:\s+300\s/m);
  });

  it('a non-root user in the container reads the same total (allow_other)', async () => {
    const out = await inContainer(['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', 'free', '-m']);
    expect(out).toMatch(/^Mem:\s+300\s/m);
  });

  it('/proc/swaps shows the host header, and only the header on a host without swap', async () => {
    const host = readFileSync('/proc/swaps', 'utf8').split('\n').filter(Boolean);
    const lines = (await inContainer(['cat', '/proc/swaps'])).split('\n').filter(Boolean);
    expect(lines[0]).toBe(host[0]);
    if (host.length === 1) expect(lines).toHaveLength(1);
  });
});
