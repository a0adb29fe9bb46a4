// `cgprocfs render meminfo` prints what the mount would show the same pid or cgroup.
import { expect, it } from 'vitest';
import { runOk } from './harness/exec.js';
import { memTotalLine, MiB, parseMeminfo } from './harness/meminfo.js';
import { DAEMON_BIN, describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

describeE2E('the render command', () => {
  const fx = useFixture();
  const render = (...args: string[]) => runOk(process.execPath, [DAEMON_BIN, 'render', 'meminfo', ...args], { timeoutMs: 20_000 });

  it('render meminfo --pid of a process in a 300 MiB cgroup prints MemTotal 307200 kB, like the mount', async () => {
    fx.cgroups.make('r', { memoryLimit: 300 * MiB });
    const sleeper = fx.cgroups.spawn('r', 'sleep', ['600']);
    try {
      const rendered = await render('--pid', String(sleeper.pid));
      const mounted = await fx.readIn('r', fx.daemon.path('proc/meminfo'));
      expect(memTotalLine(rendered)).toBe('MemTotal:         307200 kB');
      expect(memTotalLine(rendered)).toBe(memTotalLine(mounted));
      expect([...parseMeminfo(rendered).keys()]).toEqual([...parseMeminfo(mounted).keys()]);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('render meminfo --cgroup <path as /proc/<pid>/cgroup shows it> prints MemTotal 307200 kB', async () => {
    fx.cgroups.make('r', { memoryLimit: 300 * MiB });
    expect(memTotalLine(await render('--cgroup', fx.cgroups.cgroupPath('r')))).toBe('MemTotal:         307200 kB');
  });
});
