// Whose cgroup a reader sees: the pid namespace's init (default, like lxcfs) or the reader itself (--resolve caller).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runInContainer } from './harness/container.js';
import { Daemon } from './harness/daemon.js';
import { describeRun } from './harness/exec.js';
import { field, MiB } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { teardown, useFixture } from './harness/suite.js';

describeE2E('the view policy for a process in a sub-cgroup of a container', () => {
  const fx = useFixture(); // default policy: init
  let caller: Daemon | undefined;
  beforeAll(async () => {
    caller = await Daemon.start({ args: ['--resolve', 'caller'] });
    fx.cgroups.make('ctr', { memoryLimit: 300 * MiB });
    fx.cgroups.make('ctr/sub', { memoryLimit: 200 * MiB });
  });
  afterAll(() => teardown(() => caller?.destroy()));

  /** MemTotal as read by the container's init (pid 1, in ctr) or by a child it moved into ctr/sub. */
  const memTotal = async (daemon: Daemon, reader: 'init' | 'sub-cgroup child') => {
    // The trailing ":" keeps sh from exec'ing the subshell, so pid 1 stays in ctr.
    const script = reader === 'init' ? 'exec cat /proc/meminfo' : `(${fx.cgroups.joinShell('ctr/sub')}; exec cat /proc/meminfo); :`;
    const r = await runInContainer(fx.cgroups, 'ctr', daemon.mountpoint, ['sh', '-c', script], { timeoutMs: 20_000 });
    if (r.code !== 0) throw new Error(describeRun([script], r));
    return field(r.stdout, 'MemTotal');
  };

  it('--resolve init (default): the sub-cgroup child sees the container init\'s 300 MiB', async () => {
    expect(await memTotal(fx.daemon, 'sub-cgroup child')).toBe(300 * 1024);
  });

  it('--resolve caller: the sub-cgroup child sees its own 200 MiB', async () => {
    expect(await memTotal(caller!, 'sub-cgroup child')).toBe(200 * 1024);
  });

  it.each(['init', 'caller'] as const)('--resolve %s: the container init sees 300 MiB', async (policy) => {
    expect(await memTotal(policy === 'init' ? fx.daemon : caller!, 'init')).toBe(300 * 1024);
  });
});
