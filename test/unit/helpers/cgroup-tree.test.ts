// The tree builder writes what the kernel writes: container A of the static captures
// (test/fixtures, README), described once, comes out as the captured files on each layout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { useCgroupTrees } from './cgroup-tree.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, DOCKER_A, DOCKER_A_DESCRIPTION } from './fixtures.js';

const captured = (root: string, file: string) => readFileSync(join(root, DOCKER_A, file), 'utf8');
const keyed = (text: string) => text.trim().split('\n').map((line) => line.split(' ') as [string, string]);

describe('a cgroup tree built from one description', () => {
  const tree = useCgroupTrees();
  const v1 = tree('v1', { [DOCKER_A]: DOCKER_A_DESCRIPTION });
  const v2 = tree('v2', { [DOCKER_A]: DOCKER_A_DESCRIPTION });
  const hybrid = tree('hybrid', { [DOCKER_A]: DOCKER_A_DESCRIPTION });
  const built = (root: string, file: string) => readFileSync(join(root, DOCKER_A, file), 'utf8');

  it('is detected as the layout it was drawn in, with each controller where the captures have it', () => {
    const versions = (root: string) => Object.fromEntries([...detectLayout(root).controllers].map(([name, at]) => [name, at.version]));
    expect(detectLayout(v1).kind).toBe('v1');
    expect(detectLayout(v2).kind).toBe('v2');
    expect(detectLayout(hybrid).kind).toBe('hybrid');
    expect(versions(hybrid)).toMatchObject({ memory: 2, cpu: 1, cpuacct: 1, cpuset: 1, pids: 1 });
    expect(versions(CGROUP_HYBRID)).toMatchObject({ memory: 2, cpu: 1, cpuacct: 1, cpuset: 1, pids: 1 });
    expect(versions(v1)).toMatchObject({ memory: 1, cpu: 1, cpuacct: 1, cpuset: 1, blkio: 1, pids: 1 });
  });

  it.each([
    'memory.max', 'memory.current', 'memory.high', 'memory.low', 'memory.min', 'memory.swap.max', 'memory.swap.current', 'memory.stat',
    'cpu.max', 'cpu.weight', 'cpu.stat', 'cpuset.cpus.effective', 'io.stat', 'cgroup.procs', 'cgroup.threads', 'cgroup.type',
  ])('writes v2 %s as captured', (file) => {
    expect(built(v2, file)).toBe(captured(CGROUP_V2, file));
  });

  it.each(['memory.max', 'memory.current', 'memory.swap.max', 'memory.swap.current', 'memory.stat', 'cgroup.threads'])(
    'writes %s under unified/ on a hybrid host as captured',
    (file) => {
      expect(built(join(hybrid, 'unified'), file)).toBe(captured(join(CGROUP_HYBRID, 'unified'), file));
    },
  );

  it.each([
    'memory/memory.limit_in_bytes', 'memory/memory.usage_in_bytes', 'memory/memory.memsw.limit_in_bytes', 'memory/memory.memsw.usage_in_bytes',
    'memory/memory.swappiness', 'memory/memory.use_hierarchy', 'memory/tasks', 'memory/cgroup.procs', 'cpu,cpuacct/cpu.cfs_quota_us', 'cpu,cpuacct/cpu.cfs_period_us',
    'cpu,cpuacct/cpu.shares', 'cpu,cpuacct/cpuacct.stat', 'cpuset/cpuset.cpus', 'cpuset/cpuset.effective_cpus', 'cpuset/cpuset.mems',
  ])('writes v1 %s as captured', (file) => {
    const [hierarchy, name] = file.split('/') as [string, string];
    expect(built(join(v1, hierarchy), name)).toBe(captured(join(CGROUP_V1, hierarchy), name));
  });

  it('writes v1 memory.stat with the captured keys in the captured order, own and total_, in v1 names', () => {
    const text = built(join(v1, 'memory'), 'memory.stat');
    const capture = captured(join(CGROUP_V1, 'memory'), 'memory.stat');
    expect(keyed(text).map(([key]) => key)).toEqual(keyed(capture).map(([key]) => key));
    // pgpgin/pgpgout are v1's own page events, which no v2 key gives; every other value is the capture's.
    const other = (text: string) => keyed(text).filter(([key]) => !/pgpg(in|out)$/.test(key));
    expect(other(text)).toEqual(other(capture));
  });

  it('writes cpuacct.usage_all and usage_percpu per CPU in ns, summing to cpu.stat\'s µs, in the captured layout', () => {
    const usageAll = built(join(v1, 'cpu,cpuacct'), 'cpuacct.usage_all');
    const capture = captured(join(CGROUP_V1, 'cpu,cpuacct'), 'cpuacct.usage_all');
    expect(usageAll.split('\n').map((line) => line.split(' ').length)).toEqual(capture.split('\n').map((line) => line.split(' ').length));
    expect(usageAll).toBe('cpu user system\n0 0 0\n1 4000000000 1000000000\n2 4000000000 1000000000\n3 4000000000 1000000000\n');
    expect(built(join(v1, 'cpu,cpuacct'), 'cpuacct.usage_percpu')).toBe('0 5000000000 5000000000 5000000000 \n');
    expect(built(join(v1, 'cpu,cpuacct'), 'cpuacct.usage')).toBe('15000000000\n');
  });

  it.each(['blkio.throttle.io_serviced', 'blkio.throttle.io_service_bytes', 'blkio.throttle.io_serviced_recursive', 'blkio.throttle.io_service_bytes_recursive'])(
    'writes v1 %s in the kernel\'s rwstat layout with the captured counts',
    (file) => {
      // Sync/Async split the same operations by how they were issued, which no description says.
      const counts = (text: string) => text.split('\n').filter((line) => !/ (Sync|Async) /.test(line)).sort();
      const text = built(join(v1, 'blkio'), file);
      expect(counts(text)).toEqual(counts(captured(join(CGROUP_V1, 'blkio'), file)));
      expect(text.split('\n').filter((line) => / (Sync|Async) /.test(line))).toHaveLength(2 * 4);
    },
  );

  it('gives an ancestor the sums of its descendants and no limits of its own', () => {
    const root = tree('v2', { '/a/b': { memory: { usage: 100, limit: 1000 }, cpu: { userUs: 5 } }, '/a/c': { memory: { usage: 20 }, cpu: { systemUs: 7 } } });
    expect(readFileSync(join(root, 'a', 'memory.current'), 'utf8')).toBe('120\n');
    expect(readFileSync(join(root, 'a', 'memory.max'), 'utf8')).toBe('max\n');
    expect(readFileSync(join(root, 'a', 'cpu.stat'), 'utf8')).toMatch(/^usage_usec 12\nuser_usec 5\nsystem_usec 7\n/);
    expect(readFileSync(join(root, 'a', 'cgroup.subtree_control'), 'utf8')).toBe('cpuset cpu io memory pids\n');
    const v1Root = tree('v1', { '/a/b': { memory: { usage: 100, limit: 1000 } } });
    expect(readFileSync(join(v1Root, 'memory', 'a', 'b', 'memory.stat'), 'utf8')).toContain('hierarchical_memory_limit 1000\n');
    expect(readFileSync(join(v1Root, 'memory', 'a', 'memory.limit_in_bytes'), 'utf8')).toBe('9223372036854771712\n');
  });
});
