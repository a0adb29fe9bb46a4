// What people run in a container agrees with it (issue 21), in real Docker containers
// started with `cgprocfs docker-flags`: vmstat's first line (since-boot rates) within a
// small factor of the container's own activity, lscpu's NUMA line naming the container's
// CPU, and /proc/stat's counters starting anew after `docker restart`, as uptime does.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runOk } from '../harness/exec.js';
import { figure, sleep, uptimeSeconds } from '../../runtime/checks.js';
import { describeRuntime, prepareRuntime } from '../../runtime/runtime.js';

const prepared = await prepareRuntime({ images: ['procps'] });

/** vmstat's columns by name, from its header and first line. */
function vmstatFirstLine(out: string): Record<string, number> {
  const lines = out.trim().split('\n');
  const header = lines.findIndex((line) => /\bcs\b/.test(line));
  const names = lines[header]!.trim().split(/\s+/);
  const values = lines[header + 1]!.trim().split(/\s+/).map(Number);
  return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
}

const statField = (stat: string, key: string): number => Number(new RegExp(`^${key} (\\d+)`, 'm').exec(stat)?.[1]);
const busyTicks = (stat: string): number => {
  const [user = 0, , system = 0] = (/^cpu +(.*)$/m.exec(stat)?.[1] ?? '').split(' ').map(Number);
  return user + system;
};

describeRuntime('tools in Docker containers agree with the container (issue 21)', prepared, (fx) => {
  const image = () => fx.image('procps');

  describe('docker run -m 256m --cpus 0.5, idle', () => {
    let name = '';
    beforeAll(async () => {
      name = await fx.docker.start(['-m', '256m', '--cpus', '0.5', ...(await fx.flags())], [image()], ['sleep', 'infinity']);
      await sleep(3000);
    });

    it('vmstat\'s first line shows the container\'s interrupts and context switches, not host totals over its age', async () => {
      const out = await fx.docker.execOk(name, ['vmstat', '1', '2']);
      const stat = await fx.docker.execOk(name, ['cat', '/proc/stat', '/proc/uptime']);
      const first = vmstatFirstLine(out);
      const age = uptimeSeconds(stat.split('\n').find((line) => /^\d+\.\d+ \d+\.\d+$/.test(line))!);
      const hostCtxt = statField(readFileSync('/proc/stat', 'utf8'), 'ctxt');
      figure('docker --cpus 0.5, idle: vmstat 1 2, first line r b ... in cs', `${out.trim().split('\n')[2]} (ctxt ${statField(stat, 'ctxt')}, intr ${statField(stat, 'intr')}, age ${age} s)`);
      // A sleeping container switches a few times a second at most (its exec'd tools
      // included); the host's totals over a few seconds' age would be tens of thousands.
      expect(first['cs']).toBeLessThan(1000);
      expect(first['cs']).toBeLessThan(hostCtxt / Math.max(age, 1) / 10);
      // bi/bo come from /proc/vmstat, which runc refuses to bind: the host's pgpgin/pgpgout
      // over the container's CPU time (README, "What the files show"), so no check here.
      expect(statField(stat, 'ctxt')).toBeLessThan(hostCtxt / 100);
    });

    it('lscpu names one CPU and its NUMA node with that CPU alone', async () => {
      const out = await fx.docker.execOk(name, ['lscpu']);
      const numa = /^NUMA node0 CPU\(s\):\s+(.*)$/m.exec(out)?.[1];
      const online = /^On-line CPU\(s\) list:\s+(.*)$/m.exec(out)?.[1];
      figure('docker --cpus 0.5: lscpu On-line / NUMA node0', `${online} / ${numa}`);
      expect(online).toBe('0');
      expect(numa).toBe('0');
    });
  });

  it('--cpuset-cpus 1: lscpu\'s NUMA line names CPU 1, its kernel id', async () => {
    const out = await fx.docker.runOk(['--cpuset-cpus', '1', ...(await fx.flags())], [image()], ['lscpu']);
    const numa = /^NUMA node0 CPU\(s\):\s+(.*)$/m.exec(out)?.[1];
    figure('docker --cpuset-cpus 1: lscpu NUMA node0 CPU(s)', numa);
    expect(numa).toBe('1');
  });

  it('after docker restart, /proc/stat\'s CPU counters belong to the new life, agreeing with /proc/uptime', async () => {
    const name = await fx.docker.start(['--cpus', '1', ...(await fx.flags())], [image()], ['sh', '-c', 'i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done; sleep infinity']);
    await sleep(8000);
    const before = await fx.docker.execOk(name, ['cat', '/proc/stat']);
    await fx.docker.execOk(name, ['true']);
    await runOk('docker', ['restart', '-t', '1', name], { timeoutMs: 60_000 });
    await sleep(1500);
    const after = await fx.docker.execOk(name, ['cat', '/proc/stat', '/proc/uptime']);
    const age = uptimeSeconds(after.split('\n').find((line) => /^\d+\.\d+ \d+\.\d+$/.test(line))!);
    const total = (stat: string) => (/^cpu +(.*)$/m.exec(stat)?.[1] ?? '').split(' ').map(Number).reduce((a, b) => a + b, 0);
    figure('docker restart: busy ticks before / after, total ticks after vs uptime', `${busyTicks(before)} / ${busyTicks(after)}, ${total(after)} vs ${age} s`);
    expect(busyTicks(before)).toBeGreaterThan(100);
    expect(busyTicks(after)).toBeLessThan(busyTicks(before));
    // One visible CPU: every tick of the new life, about its age (not the old life's counters).
    expect(Math.abs(total(after) / 100 - age)).toBeLessThan(3);
  });
});
