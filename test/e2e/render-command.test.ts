// `cgprocfs render meminfo` prints what the mount would show the same pid or cgroup.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { runInContainer } from './harness/container.js';
import { parseUptime } from './harness/cpu-files.js';
import { run, runOk, waitFor } from './harness/exec.js';
import { memTotalLine, MiB, parseMeminfo } from './harness/meminfo.js';
import { DAEMON_BIN, describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

/** Whether a task of the cgroup whose cgroup.procs is `procs` runs the command `comm`. */
function hasTask(procs: string, comm: string): boolean {
  return readFileSync(procs, 'utf8').split('\n').filter(Boolean).some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
    } catch {
      return false; // gone meanwhile
    }
  });
}

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

  const renderUptime = async (cgroupPath: string) => {
    const r = await run(process.execPath, [DAEMON_BIN, 'render', 'uptime', '--cgroup', cgroupPath], { timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    return { up: parseUptime(r.stdout).up, note: r.stderr.trim() };
  };

  it('render uptime --cgroup dates a container from the init of its pid namespace, as it reads its own /proc/uptime, and says so', async () => {
    fx.cgroups.make('u');
    const script = 'for i in 1 2 3 4 5 6; do cat /proc/uptime; sleep 2; done';
    const container = runInContainer(fx.cgroups, 'u', fx.daemon.mountpoint, ['sh', '-c', script], { timeoutMs: 40_000 }, ['proc/uptime']);
    // Rendered between the container's first read and its last: once its first sleep runs (a fixed
    // 3 s wait was too short for a loaded emulated v2 guest, where the container had not even started).
    await waitFor('the container to have read its uptime once', () => hasTask(fx.cgroups.procsFiles('u')[0]!, 'sleep'), { timeoutMs: 20_000 });
    const rendered = await renderUptime(fx.cgroups.cgroupPath('u'));
    const r = await container;
    expect(r.code, r.stderr).toBe(0);
    const seen = r.stdout.trim().split('\n').map((line) => parseUptime(`${line}\n`).up);
    console.log(`[render] container read ${seen.join(' ')}; render --cgroup ${rendered.up}; ${rendered.note}`);
    expect(seen).toHaveLength(6);
    expect(rendered.up).toBeGreaterThanOrEqual(Math.min(...seen));
    expect(rendered.up).toBeLessThanOrEqual(Math.max(...seen));
    expect(rendered.note).toMatch(/uptime counted from pid \d+, the init of its pid namespace$/);
  });

  it('render uptime --cgroup of a cgroup without a pid namespace dates it from its oldest task, and one without tasks from the host\'s boot', async () => {
    fx.cgroups.make('o');
    fx.cgroups.make('empty');
    const sleeper = fx.cgroups.spawn('o', 'sleep', ['600']);
    try {
      await sleep(2000);
      const oldest = await renderUptime(fx.cgroups.cgroupPath('o'));
      const empty = await renderUptime(fx.cgroups.cgroupPath('empty'));
      const host = parseUptime(readFileSync('/proc/uptime', 'utf8')).up;
      console.log(`[render] oldest task: ${oldest.up} (${oldest.note}); empty: ${empty.up} (${empty.note}); host ${host}`);
      expect(oldest.up).toBeGreaterThanOrEqual(1.5);
      expect(oldest.up).toBeLessThan(15);
      expect(oldest.note).toBe(`cgprocfs: ${fx.cgroups.cgroupPath('o')}: uptime counted from pid ${sleeper.pid}, its oldest task (no pid namespace init in it)`);
      expect(Math.abs(empty.up - host)).toBeLessThan(5);
      expect(empty.note).toMatch(/uptime is the host's \(no task in the cgroup\)$/);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
