// Containers (unshare, in real cgroups, our files bound over /proc) see their own age in /proc/uptime and
// uptime(1), and their own load in /proc/loadavg, not the host's (issue 3).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { CPU_VIEW_BINDS, runInContainer } from './harness/container.js';
import { parseLoadavg, parseUptime } from './harness/cpu-files.js';
import { describeRun } from './harness/exec.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const TOOL_ENV = { ...process.env, LC_ALL: 'C' };
const SECTION = '@@\n';
const BUSY_LOOP = `sh -c 'while :; do :; done' &`;
/**
 * One /proc/loadavg read a second for 12 s: the first a census warm start, the last 11 s later. The shell
 * reads with its `read` builtin: a `cat` would leave its parent shell runnable for an instant, which a
 * census taken during that instant counts (see the report on warm starts).
 */
const LOADAVG_READS = 12;
const readLoadavgEverySecond = `for i in $(seq ${LOADAVG_READS}); do read l < /proc/loadavg; echo "$l"; sleep 1; done`;

describeE2E('containers see their own age and load', () => {
  const fx = useFixture();
  let containers = 0;

  /** A fresh cgroup per container: load averages are kept per cgroup. */
  const makeCgroup = (): string => {
    const rel = `t${containers++}`;
    fx.cgroups.make(rel);
    return rel;
  };

  const inContainer = async (rel: string, script: string): Promise<string> => {
    const argv = ['sh', '-c', script];
    const opts = { timeoutMs: 40_000, env: TOOL_ENV };
    const r = await runInContainer(fx.cgroups, rel, fx.daemon.mountpoint, argv, opts, CPU_VIEW_BINDS);
    if (r.code !== 0) throw new Error(describeRun(argv, r));
    return r.stdout;
  };

  it('/proc/uptime, uptime and uptime -p show the age of a 3 s old container, not the host\'s', async () => {
    const out = await inContainer(makeCgroup(), 'sleep 3; cat /proc/uptime; echo @@; uptime; echo @@; uptime -p');
    const host = parseUptime(readFileSync('/proc/uptime', 'utf8'));
    const [uptimeFile = '', uptime, pretty] = out.split(SECTION);
    const container = parseUptime(uptimeFile);
    console.log(`[time-views] container /proc/uptime ${uptimeFile.trim()}, host ${host.up} s; uptime:${uptime?.trimEnd()}; ${pretty?.trim()}`);
    expect(container.up).toBeGreaterThanOrEqual(2.5);
    expect(container.up).toBeLessThan(30);
    expect(host.up).toBeGreaterThan(container.up);
    // Idle is summed over the visible CPUs (all the host's: the cpuset is the root's) minus the container's
    // CPU time, so at most CPUs x age; a second of slack, as the daemon clocks the two fields a moment apart.
    expect(container.idle).toBeGreaterThanOrEqual(0);
    expect(container.idle).toBeLessThanOrEqual(cpus().length * (container.up + 1));
    expect(uptime).toMatch(/ up 0 min,/);
    expect(pretty).toBe('up 0 minutes\n');
  });

  it('two busy loops raise a container\'s 1-minute loadavg above 1.5 for 10 s, an idle one stays below 0.5, and the host\'s differs', async () => {
    const busyRun = inContainer(makeCgroup(), `${BUSY_LOOP} ${BUSY_LOOP} ${readLoadavgEverySecond}`);
    const idleRun = inContainer(makeCgroup(), readLoadavgEverySecond);
    await sleep(5_000);
    const hostText = readFileSync('/proc/loadavg', 'utf8');
    const [busy, idle] = (await Promise.all([busyRun, idleRun])).map((out) => out.split(/(?<=\n)/));
    console.log(`[time-views] host loadavg ${hostText.trim()}; busy: ${busy!.map((l) => l.split(' ')[0]).join(' ')}; idle: ${idle!.map((l) => l.split(' ')[0]).join(' ')}`);
    const oneMinute = (lines: string[]) => lines.map((line) => parseLoadavg(line).averages[0]);
    const [busyLoad, idleLoad] = [oneMinute(busy!), oneMinute(idle!)];
    expect(busyLoad).toHaveLength(LOADAVG_READS);
    expect(idleLoad).toHaveLength(LOADAVG_READS);
    // The first read starts from a census of runnable tasks, so no minute-long ramp is needed.
    expect(Math.max(...busyLoad.slice(0, 3))).toBeGreaterThanOrEqual(1.5);
    for (const load of busyLoad.slice(10)) expect(load).toBeGreaterThan(1.5);
    for (const load of idleLoad) expect(load).toBeLessThan(0.5);
    expect(busyLoad.at(-1)).not.toBe(idleLoad.at(-1));
    // The host counts every task it runs; a container counts its own handful.
    const host = parseLoadavg(hostText);
    for (const line of [...busy!, ...idle!]) {
      expect(line).not.toBe(hostText);
      expect(parseLoadavg(line).total).toBeLessThan(host.total);
    }
  });
});
