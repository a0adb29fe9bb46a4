import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths } from '../../../src/cgroup/membership.js';
import { cgroupViewOf, type CgroupView } from '../../../src/cgroup/view.js';
import { createCgroupReader } from '../../../src/cgroup/reader.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, DOCKER_A, useFixtureCopies } from '../helpers/fixtures.js';

const viewOn = (path: string): CgroupView => cgroupViewOf(uniformPaths(path));

const MiB = 2 ** 20;
const V1_UNLIMITED = 9223372036854771712;
/** anon + file + kernel of container A in the fixture trees. */
const DOCKER_A_CURRENT = 265216000;

function readMemory(root: string, path: string) {
  return createCgroupReader(detectLayout(root)).memory(viewOn(path));
}

describe('memory readings in v2 vocabulary', () => {
  it.each([
    ['v2', CGROUP_V2, [512 * MiB, Infinity]],
    ['hybrid (memory on unified)', CGROUP_HYBRID, [512 * MiB, Infinity]],
    ['v1', CGROUP_V1, [512 * MiB, V1_UNLIMITED]],
  ])('reads memory.max up the tree and memory.current on %s', (_, root, chain) => {
    const reading = readMemory(root, DOCKER_A);
    expect(reading?.limitChain).toEqual(chain);
    expect(reading?.current).toBe(DOCKER_A_CURRENT);
  });

  it('translates v1 memory.stat total_* keys to the v2 names of the same counters', () => {
    const v1 = readMemory(CGROUP_V1, DOCKER_A)?.stat ?? {};
    const v2 = readMemory(CGROUP_V2, DOCKER_A)?.stat ?? {};
    const shared = ['anon', 'file', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
      'active_anon', 'inactive_anon', 'active_file', 'inactive_file', 'unevictable'];
    for (const key of shared) expect([key, v1[key]]).toEqual([key, v2[key]]);
    expect(v1.anon_thp).toBe(4 * MiB);
    expect(v1.file_mapped).toBeGreaterThan(0);
  });

  it('takes the hierarchical v1 keys, not the cgroup-local ones', () => {
    // No process sits directly in /lxc.payload.b: its local `cache` is 0, `total_cache` is not.
    const stat = readMemory(CGROUP_V1, '/lxc.payload.b')?.stat ?? {};
    expect(stat.file).toBe(146 * MiB);
    expect(stat).not.toHaveProperty('cache');
    expect(stat).not.toHaveProperty('hierarchical_memory_limit');
  });

  it.each([
    ['v2 swap.max and swap.current', CGROUP_V2, { limitChain: [256 * MiB, Infinity], limitIncludesMemory: false, swappiness: undefined }],
    ['v1 memsw limits (memory plus swap) and swappiness', CGROUP_V1, { limitChain: [768 * MiB, V1_UNLIMITED], limitIncludesMemory: true, swappiness: 60 }],
  ])('reads swap from %s, swap in use net of memory', (_, root, expected) => {
    expect(readMemory(root, DOCKER_A)?.swap).toEqual({ ...expected, current: 20 * MiB });
  });

  it('charges a v2 cgroup without the memory controller to its nearest ancestor that has it', () => {
    const reading = readMemory(CGROUP_V2, '/user.slice/user-1000.slice/session-3.scope');
    expect(reading?.limitChain).toEqual([Infinity, 4096 * MiB]);
    expect(reading?.current).toBe(readMemory(CGROUP_V2, '/user.slice/user-1000.slice')?.current);
  });

  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]])('reads the root cgroup on %s as the host view (undefined)', (_, root) => {
    expect(readMemory(root, '/')).toBeUndefined();
  });

  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]])('raises SOURCE_UNREADABLE for a cgroup that does not exist on %s', (_, root) => {
    expect(() => readMemory(root, '/system.slice/gone.scope')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it('raises SOURCE_UNREADABLE for a path outside the hierarchy', () => {
    expect(() => readMemory(CGROUP_V2, '/../..')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });
});

describe('memory readings of changed trees', () => {
  const copy = useFixtureCopies();

  it.each([
    ['v2', CGROUP_V2, DOCKER_A, 'memory.swap.'],
    ['v1', CGROUP_V1, join('memory', DOCKER_A), 'memory.memsw.'],
  ])('reports no swap on %s when the kernel does no swap accounting (no swap files)', (_, fixture, dir, prefix) => {
    const root = copy(fixture);
    for (const file of readdirSync(join(root, dir))) if (file.startsWith(prefix)) rmSync(join(root, dir, file));
    expect(readMemory(root, DOCKER_A)?.swap).toBeUndefined();
  });

  it('takes v1 swappiness from the nearest level that has it', () => {
    expect(readMemory(CGROUP_V1, '/lxc.payload.b/nested')?.swap?.swappiness).toBe(0);
    const root = copy(CGROUP_V1);
    rmSync(join(root, 'memory', 'lxc.payload.b', 'nested', 'memory.swappiness'));
    expect(readMemory(root, '/lxc.payload.b/nested')?.swap?.swappiness).toBe(60);
  });
});
