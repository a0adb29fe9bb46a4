import { describe, expect, it } from 'vitest';
import { targetOf } from '../../../src/caller/target.js';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { parseMembership, uniformPaths } from '../../../src/cgroup/membership.js';
import { createCgroupReader } from '../../../src/cgroup/reader.js';
import { cgroupViewOf } from '../../../src/cgroup/view.js';
import { CGROUP_V1, CGROUP_V2 } from '../helpers/fixtures.js';

const HYBRID_HOST = `4:memory:/process_api/3d64
1:cpu,cpuacct:/system.slice/a:b.scope
0::/unified/path
`;

describe('the cgroup view of a membership (issue 20)', () => {
  it('places each controller on both versions, named as cgroup v2 names it', () => {
    const view = cgroupViewOf(parseMembership(HYBRID_HOST));
    expect(view.memory).toEqual({ 1: { raw: '/process_api/3d64', path: '/process_api/3d64' }, 2: { raw: '/unified/path', path: '/unified/path' } });
    expect(view.cpuacct[1].path).toBe('/system.slice/a:b.scope');
    // v1 calls it blkio; not listed here.
    expect(view.io[1]).toEqual({ raw: undefined, path: undefined });
    expect(view.pressure.path).toBe('/unified/path');
  });

  it('keeps what was listed beside the normal path, and no path that leaves the hierarchy', () => {
    expect(cgroupViewOf(uniformPaths('system.slice/x.scope/')).pids[2]).toEqual({ raw: 'system.slice/x.scope/', path: '/system.slice/x.scope' });
    expect(cgroupViewOf(uniformPaths('/../..')).memory[1]).toEqual({ raw: '/../..', path: undefined });
  });

  it.each([
    [true, '/lxc.payload.c'],
    [false, '/lxc.payload.c/init.scope'],
  ])('a container init (%s) is shown its cgroup without /init.scope', (containerInit, expected) => {
    const target = targetOf({ pid: 3100, containerInit }, '0::/lxc.payload.c/init.scope\n', 'cgroup');
    expect(target.cgroups.memory[2].path).toBe(expected);
    expect(target.cgroups.pressure.path).toBe(expected);
  });
});

describe('a controller the reader\'s cgroup lacks fails where it is read', () => {
  const unreadable = (message: string) => expect.objectContaining({ code: 'SOURCE_UNREADABLE', message });
  const v1 = createCgroupReader(detectLayout(CGROUP_V1));
  const v2 = createCgroupReader(detectLayout(CGROUP_V2));
  const onlyMemoryV1 = cgroupViewOf(parseMembership('4:memory:/system.slice\n'));
  const onlyUnified = cgroupViewOf(parseMembership('0::/system.slice\n'));

  it('names the controller as the host\'s hierarchy does (blkio on v1, io on v2)', () => {
    expect(() => v1.io(onlyMemoryV1)).toThrow(unreadable('the blkio cgroup is not listed'));
    expect(() => v2.io(onlyMemoryV1)).toThrow(unreadable('the io cgroup is not listed'));
    expect(() => v1.cpuPlacement(onlyMemoryV1)).toThrow(unreadable('the cpu cgroup is not listed'));
    expect(() => v2.pressure(onlyMemoryV1, 'memory')).toThrow(unreadable('the memory cgroup is not listed'));
  });

  it('says a path outside the hierarchy is outside it', () => {
    expect(() => v2.memory(cgroupViewOf(uniformPaths('/../x')))).toThrow(unreadable('the memory cgroup is outside the hierarchy (/../x)'));
  });

  it('reads the controllers the cgroup has, whatever it lacks', () => {
    expect(v2.taskList(onlyUnified)?.path).toBe('/system.slice');
    expect(v1.taskList(onlyMemoryV1)?.path).toBe('/system.slice');
  });
});
