import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import { cgroupViewOf } from '../../../src/cgroup/view.js';
import { visibleCpus } from '../../../src/render/cpu-files.js';
import { CGROUP_V1, DOCKER_A, LAYOUTS, NESTED, NGINX_B, PROC_ROOT } from '../helpers/fixtures.js';
import { contextFor, cpuLines, cpuViews, useStateDirs } from '../helpers/render-context.js';

const HOST = (file: string): string => readFileSync(join(PROC_ROOT, file), 'utf8');
const SYS_CPU = 'sys/devices/system/cpu';
const field = (text: string, key: string): string[] =>
  text.split('\n').filter((line) => line.split(':')[0]!.trim() === key).map((line) => line.split(':')[1]!.trim());

describeServedFiles([
  'proc/cpuinfo', 'proc/stat', 'proc/uptime',
  'sys/devices/system/cpu/online', 'sys/devices/system/cpu/possible', 'sys/devices/system/cpu/present', 'sys/devices/system/cpu/offline',
], 'the CPU files of a view', () => {
  const stateDir = useStateDirs();

  describe.each(LAYOUTS)('on %s', (_, root) => {
    it.each([
      [DOCKER_A, 'quota', [1, 2]],
      [DOCKER_A, 'cpuset', [1, 2, 3]],
      [NGINX_B, 'quota', [0]],
      [NGINX_B, 'cpuset', [0, 1, 2, 3]],
      [NESTED, 'quota', [2]],
      [NESTED, 'cpuset', [2, 3]],
      ['/system.slice/cgprocfs.service', 'quota', [1, 2, 3]],
      ['/user.slice/user-1000.slice/session-3.scope', 'quota', [0, 1, 2, 3]],
      ['/', 'quota', [0, 1, 2, 3]],
    ] as const)('shows %s under --cpu-count %s the CPUs %j', (path, mode, expected) => {
      const context = contextFor(root, { path });
      expect(visibleCpus(context.sources, context.target.cgroups, mode)).toEqual(expected);
    });

    it('lists the same CPU ids in cpuinfo, stat and the sys files', () => {
      const views = cpuViews(stateDir());
      const context = contextFor(root, { path: DOCKER_A });
      expect(field(views.render('proc/cpuinfo', context), 'processor')).toEqual(['1', '2']);
      expect([...cpuLines(views.render('proc/stat', context)).keys()]).toEqual(['cpu', 'cpu1', 'cpu2']);
      for (const file of ['online', 'possible', 'present']) expect(views.render(`${SYS_CPU}/${file}`, context)).toBe('1-2\n');
      expect(views.render(`${SYS_CPU}/offline`, context)).toBe('\n');
    });

    it('recounts siblings and cpu cores over the visible CPUs of each package', () => {
      const views = cpuViews(stateDir());
      // CPUs 1 and 2 sit on cores 1 and 0 of package 0; CPU 2 alone is one core.
      const docker = views.render('proc/cpuinfo', contextFor(root, { path: DOCKER_A }));
      expect([field(docker, 'siblings'), field(docker, 'cpu cores')]).toEqual([['2', '2'], ['2', '2']]);
      const nested = views.render('proc/cpuinfo', contextFor(root, { path: NESTED }));
      expect([field(nested, 'siblings'), field(nested, 'cpu cores'), field(nested, 'apicid')]).toEqual([['1'], ['1'], ['1']]);
      expect(nested.endsWith('power management:\n\n')).toBe(true);
    });

    it('spreads the cgroup\'s CPU time over the visible CPUs and keeps the host\'s other lines', () => {
      const text = cpuViews(stateDir()).render('proc/stat', contextFor(root, { path: DOCKER_A }));
      // 12 s user and 3 s system over 2 CPUs, first seen at host uptime 5000 s (no container init).
      expect(text.split('\n').slice(0, 3)).toEqual([
        'cpu  1200 0 300 998500 0 0 0 0 0 0',
        'cpu1 600 0 150 499250 0 0 0 0 0 0',
        'cpu2 600 0 150 499250 0 0 0 0 0 0',
      ]);
      const host = HOST('stat').split('\n');
      const line = (lines: string[], key: string) => lines.find((candidate) => candidate.startsWith(`${key} `));
      for (const key of ['btime', 'processes', 'softirq']) expect(line(text.split('\n'), key)).toBe(line(host, key));
      // Its tasks' context switches, and half of the host's interrupts (2 of 4 CPUs) over
      // an age as long as the host's (no container init), per-interrupt counts 0.
      expect(line(text.split('\n'), 'ctxt')).toBe('ctxt 75');
      const intr = line(text.split('\n'), 'intr')?.split(' ');
      expect(intr?.slice(0, 3)).toEqual(['intr', String(1984532 / 2), '0']);
      expect(intr).toHaveLength(line(host, 'intr')!.split(' ').length);
      expect(intr?.slice(2).every((count) => count === '0')).toBe(true);
      expect(Number(/^procs_running (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(/^procs_blocked \d+$/m);
    });

    it('reads v1 CPU time from cpuacct.stat where cpuacct.usage_all is missing', () => {
      // nested: 4 s user, 1 s system on its one visible CPU.
      const lines = cpuLines(cpuViews(stateDir()).render('proc/stat', contextFor(root, { path: NESTED })));
      expect([lines.get('cpu2')?.[0], lines.get('cpu2')?.[2]]).toEqual([400, 100]);
    });

    it('shows a container\'s age and its idle time, the same as stat\'s aggregate idle', () => {
      const views = cpuViews(stateDir());
      // Container A's init (pid 2100) started 4000 s after boot: 1000 s old at host uptime 5000 s.
      const context = contextFor(root, { path: DOCKER_A, pid: 2100, containerInit: true });
      const stat = cpuLines(views.render('proc/stat', context));
      expect(stat.get('cpu')?.[3]).toBe(2 * 100_000 - 1500);
      expect(views.render('proc/uptime', context)).toBe('1000.00 1985.00\n');
    });

    it.each([
      ['host', 1795668577],
      // Container A's init started 4000 s after the host's boot.
      ['container', 1795668577 + 4000],
    ] as const)('shows btime as the %s boot under --btime %s', (btime, expected) => {
      const views = cpuViews(stateDir(), 'quota', undefined, btime);
      const text = views.render('proc/stat', contextFor(root, { path: DOCKER_A, pid: 2100, containerInit: true }));
      expect(text).toMatch(new RegExp(`^btime ${expected}$`, 'm'));
    });

    it('keeps the host\'s btime under --btime container for a reader that is no container', () => {
      const views = cpuViews(stateDir(), 'quota', undefined, 'container');
      const text = views.render('proc/stat', contextFor(root, { path: DOCKER_A, pid: 1200, containerInit: false }));
      expect(text).toMatch(/^btime 1795668577$/m);
    });

    it('counts processes as the container\'s newest pid, leaking no host pid', () => {
      const views = cpuViews(stateDir());
      const text = views.render('proc/stat', contextFor(root, { path: DOCKER_A, pid: 2100, containerInit: true }));
      expect(Number(/^processes (\d+)$/m.exec(text)?.[1])).toBeLessThan(4321);
    });

    it.each(['proc/cpuinfo', 'proc/stat', 'proc/uptime'])('shows the host\'s own %s for the root cgroup', (file) => {
      expect(cpuViews(stateDir()).render(file, contextFor(root, { path: '/' }))).toBe(HOST(file.slice('proc/'.length)));
    });

    it('lists the host\'s online CPUs in the sys files for the root cgroup', () => {
      const views = cpuViews(stateDir());
      const context = contextFor(root, { path: '/' });
      expect(['online', 'possible', 'present', 'offline'].map((file) => views.render(`${SYS_CPU}/${file}`, context)))
        .toEqual(['0-3\n', '0-3\n', '0-3\n', '\n']);
    });
  });

  it('shows the host\'s lines of the visible CPUs where CPU time is accounted at the root', () => {
    // Only the cpuset is a cgroup's (1-3): the root's CPU time is the host's own.
    const context = contextFor(CGROUP_V1, {});
    const target = { ...context.target, cgroups: cgroupViewOf((controller: string) => (controller === 'cpuset' ? '/system.slice' : '/')) };
    const text = cpuViews(stateDir()).render('proc/stat', { ...context, target });
    const host = HOST('stat').split('\n');
    expect(text.split('\n').slice(0, 4)).toEqual([
      'cpu  27080 37 10590 1455430 860 0 400 61 0 0',
      ...host.slice(2, 5),
    ]);
  });

  it('shows the host uptime for an explicit cgroup, which has no init', () => {
    const text = cpuViews(stateDir()).render('proc/uptime', contextFor(LAYOUTS[1][1], { path: DOCKER_A }));
    expect(text).toBe('5000.00 9985.00\n');
  });
});
