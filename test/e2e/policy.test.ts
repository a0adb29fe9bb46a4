// Whose cgroup a reader sees: the pid namespace's init (default, like lxcfs) or the reader itself (--resolve caller),
// for a process in a sub-cgroup of a container: beside the init (systemd's layout: init in init.scope, services in
// system.slice, the only one cgroup v2 allows, as a cgroup with processes cannot delegate), or below it (v1, hybrid).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostLayout } from './harness/cgroups.js';
import { runInContainer } from './harness/container.js';
import { Daemon } from './harness/daemon.js';
import { describeRun } from './harness/exec.js';
import { field, MiB } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { teardown, useFixture } from './harness/suite.js';

interface Arrangement {
  title: string;
  /** The container cgroup, limited to 300 MiB. */
  container: string;
  /** Where the container's init (pid 1) runs. */
  init: string;
  /** Where a process the init starts moves, limited to 200 MiB. */
  sub: string;
}

const ARRANGEMENTS: readonly Arrangement[] = [
  {
    title: 'init in ctr/init.scope, a service in ctr/system.slice/svc.service',
    container: 'ctr',
    init: 'ctr/init.scope',
    sub: 'ctr/system.slice/svc.service',
  },
  // cgroup v2 refuses processes in a cgroup whose children have controllers of their own.
  ...(hostLayout() === 'v2' ? [] : [{ title: 'init in the container cgroup, a child in ctr2/sub', container: 'ctr2', init: 'ctr2', sub: 'ctr2/sub' }]),
];

describeE2E('the view policy for a process in a sub-cgroup of a container', () => {
  const fx = useFixture(); // default policy: init
  let caller: Daemon | undefined;
  beforeAll(async () => {
    caller = await Daemon.start({ args: ['--resolve', 'caller'] });
    for (const { container, init, sub } of ARRANGEMENTS) {
      fx.cgroups.make(container, { memoryLimit: 300 * MiB });
      fx.cgroups.make(init);
      fx.cgroups.make(sub, { memoryLimit: 200 * MiB });
    }
  });
  afterAll(() => teardown(() => caller?.destroy()));

  /** MemTotal as read by the container's init (pid 1) or by a child it moved into the sub-cgroup. */
  const memTotal = async (daemon: Daemon, { init, sub }: Arrangement, reader: 'init' | 'sub-cgroup child') => {
    // The trailing ":" keeps sh from exec'ing the subshell, so pid 1 stays where it is.
    const script = reader === 'init' ? 'exec cat /proc/meminfo' : `(${fx.cgroups.joinShell(sub)}; exec cat /proc/meminfo); :`;
    const r = await runInContainer(fx.cgroups, init, daemon.mountpoint, ['sh', '-c', script], { timeoutMs: 20_000 });
    if (r.code !== 0) throw new Error(describeRun([script], r));
    return field(r.stdout, 'MemTotal');
  };

  describe.each(ARRANGEMENTS)('$title', (arrangement) => {
    it('--resolve init (default): the sub-cgroup child sees the container\'s 300 MiB', async () => {
      expect(await memTotal(fx.daemon, arrangement, 'sub-cgroup child')).toBe(300 * 1024);
    });

    it('--resolve caller: the sub-cgroup child sees its own 200 MiB', async () => {
      expect(await memTotal(caller!, arrangement, 'sub-cgroup child')).toBe(200 * 1024);
    });

    it.each(['init', 'caller'] as const)('--resolve %s: the container init sees 300 MiB', async (policy) => {
      expect(await memTotal(policy === 'init' ? fx.daemon : caller!, arrangement, 'init')).toBe(300 * 1024);
    });
  });
});
