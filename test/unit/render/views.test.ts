import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ViewOptions } from '../../../src/render/views.js';
import { useCgroupTrees, writeCgroupTree } from '../helpers/cgroup-tree.js';
import {
  CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, DOCKER_A, DOCKER_A_DESCRIPTION, MIB_IN_KB, meminfoField, PROC_ROOT, useFixtureCopies,
} from '../helpers/fixtures.js';
import { STATE_DIR, viewService } from '../helpers/render-context.js';

const MiB = 2 ** 20;
const views = (options: Partial<ViewOptions> = {}) => viewService(CGROUP_V2, options);
const memTotal = (buffer: Buffer) => meminfoField(buffer.toString(), 'MemTotal');

describe('the view service', () => {
  it('serves every file the README promises, each once', () => {
    const files = views().files;
    expect(files).toEqual(expect.arrayContaining(['proc/meminfo', 'proc/swaps', 'proc/diskstats', 'proc/pressure/cpu', 'proc/pressure/memory', 'proc/pressure/io']));
    expect(new Set(files).size).toBe(files.length);
  });

  it.each(views().files)('renders %s as a Buffer', (file) => {
    expect(Buffer.isBuffer(views().renderForReader(file, 2150))).toBe(true);
  });

  it('gives a reader the view of the cgroup its policy picks', () => {
    const service = views();
    expect(service.renderForReader('proc/meminfo', 2150)).toEqual(
      service.renderForCgroup('proc/meminfo', '/system.slice/docker-a1b2c3.scope'),
    );
  });

  it.each([
    ['init', 2048],
    ['caller', 256],
  ] as const)('with policy %s, a service in a systemd container sees %d MiB', (resolve, mib) => {
    expect(memTotal(views({ resolve }).renderForReader('proc/meminfo', 3150))).toBe(mib * MIB_IN_KB);
  });

  it.each([['renderForReader', () => views().renderForReader('proc/zoneinfo', 0)], ['renderForCgroup', () => views().renderForCgroup('meminfo', '/')]])(
    '%s raises NO_SUCH_FILE for an unknown file before looking at the caller',
    (_, call) => {
      expect(call).toThrow(expect.objectContaining({ code: 'NO_SUCH_FILE' }));
    },
  );

  it.each([0, 99999])('raises CALLER_UNKNOWN for tid %d', (tid) => {
    expect(() => views().renderForReader('proc/meminfo', tid)).toThrow(expect.objectContaining({ code: 'CALLER_UNKNOWN' }));
  });

  it('raises USAGE for a cgroup path that leaves the hierarchy', () => {
    expect(() => views().renderForCgroup('proc/meminfo', '/../etc')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('raises CGROUP_LAYOUT for a cgroup root with no hierarchy', () => {
    expect(() => views({ cgroupRoot: PROC_ROOT })).toThrow(expect.objectContaining({ code: 'CGROUP_LAYOUT' }));
  });

  it.each([
    ['v1', CGROUP_V1, 'v1'],
    ['v2', CGROUP_V2, 'v2'],
    ['hybrid', CGROUP_HYBRID, 'v2'],
  ])('describes a %s layout with the memory controller\'s version', (kind, cgroupRoot, memory) => {
    const description = views({ cgroupRoot }).describeLayout();
    expect(description).toMatchObject({ kind, controllers: { memory } });
  });

  describe('on a changing host', () => {
    const copy = useFixtureCopies();
    const tree = useCgroupTrees();

    it('shows a process moved to another cgroup its new view at the next render', () => {
      const procRoot = copy(PROC_ROOT);
      const service = views({ procRoot, resolve: 'caller' });
      expect(memTotal(service.renderForReader('proc/meminfo', 2150))).toBe(512 * MIB_IN_KB);
      writeFileSync(join(procRoot, '2150', 'cgroup'), '0::/lxc.payload.b/system.slice/nginx.service\n');
      expect(memTotal(service.renderForReader('proc/meminfo', 2150))).toBe(256 * MIB_IN_KB);
    });

    describe('reusing renderings', () => {
      const clock = { ms: 0 };
      const cached = (options: Partial<ViewOptions>) =>
        views({ cacheMs: 200, counterCacheMs: 10, cacheClockMs: () => clock.ms, ...options });
      const statCpuLine = (buffer: Buffer) => buffer.toString().split('\n')[0];
      const processesLine = (buffer: Buffer) => buffer.toString().split('\n').find((line) => line.startsWith('processes '));

      it('serves a meminfo rendering for cacheMs, then shows the changed limit', () => {
        const cgroupRoot = tree('v2', { [DOCKER_A]: DOCKER_A_DESCRIPTION });
        const service = cached({ cgroupRoot });
        clock.ms = 1000;
        expect(memTotal(service.renderForReader('proc/meminfo', 2150))).toBe(512 * MIB_IN_KB);
        writeCgroupTree(cgroupRoot, 'v2', { [DOCKER_A]: { ...DOCKER_A_DESCRIPTION, memory: { ...DOCKER_A_DESCRIPTION.memory!, limit: 300 * MiB } } });
        clock.ms = 1199;
        expect(memTotal(service.renderForReader('proc/meminfo', 2150))).toBe(512 * MIB_IN_KB);
        clock.ms = 1200;
        expect(memTotal(service.renderForReader('proc/meminfo', 2150))).toBe(300 * MIB_IN_KB);
      });

      it('serves a stat rendering for counterCacheMs only, then shows the new usage', () => {
        const cgroupRoot = tree('v2', { [DOCKER_A]: DOCKER_A_DESCRIPTION });
        const service = cached({ cgroupRoot, stateDir: copy(STATE_DIR) });
        clock.ms = 5000;
        const first = statCpuLine(service.renderForReader('proc/stat', 2150));
        writeCgroupTree(cgroupRoot, 'v2', { [DOCKER_A]: { ...DOCKER_A_DESCRIPTION, cpu: { ...DOCKER_A_DESCRIPTION.cpu, userUs: 112_000_000 } } });
        clock.ms = 5009;
        expect(statCpuLine(service.renderForReader('proc/stat', 2150))).toBe(first);
        clock.ms = 5010;
        const [, user] = statCpuLine(service.renderForReader('proc/stat', 2150))!.split(/\s+/).map(Number);
        expect(user).toBeGreaterThanOrEqual(Number(first!.split(/\s+/)[1]) + 10_000);
      });

      it('never gives a stat rendering of a reader in a pid namespace to one outside it', () => {
        const procRoot = copy(PROC_ROOT);
        // A host process in the same cgroup as 2150, which is pid 7 of a container.
        cpSync(join(procRoot, '2150'), join(procRoot, '2001'), { recursive: true, verbatimSymlinks: true });
        const status = readFileSync(join(procRoot, '2001/status'), 'utf8');
        writeFileSync(join(procRoot, '2001/status'), status.replace(/NSpid:.*\n/, 'NSpid:\t2001\n').replace(/Pid:\t2150/, 'Pid:\t2001'));
        const service = cached({ procRoot, resolve: 'caller', stateDir: copy(STATE_DIR) });
        clock.ms = 9000;
        const inside = processesLine(service.renderForReader('proc/stat', 2150));
        const outside = processesLine(service.renderForReader('proc/stat', 2001));
        expect(outside).toBe('processes 4321');
        expect(inside).not.toBe(outside);
      });
    });

    it('raises SOURCE_UNREADABLE when the host meminfo is missing', () => {
      const procRoot = copy(PROC_ROOT);
      rmSync(join(procRoot, 'meminfo'));
      expect(() => views({ procRoot }).renderForReader('proc/meminfo', 2150)).toThrow(
        expect.objectContaining({ code: 'SOURCE_UNREADABLE' }),
      );
    });

    it('raises SOURCE_UNREADABLE when the reader\'s cgroup has vanished', () => {
      const procRoot = copy(PROC_ROOT);
      writeFileSync(join(procRoot, '2150', 'cgroup'), '0::/system.slice/removed.scope\n');
      expect(() => views({ procRoot, resolve: 'caller' }).renderForReader('proc/meminfo', 2150)).toThrow(
        expect.objectContaining({ code: 'SOURCE_UNREADABLE' }),
      );
    });
  });
});
