import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import { parseMeminfo } from '../../../src/host/meminfo.js';
import { render } from '../../../src/render/meminfo.js';
import {
  CGROUP_V1, CGROUP_V2, DOCKER_A, GOLDEN, LAYOUTS, HOST_MEM_TOTAL_KB, MIB_IN_KB, meminfoField, PROC_ROOT,
} from '../helpers/fixtures.js';
import { viewService } from '../helpers/render-context.js';

const HOST_MEMINFO = readFileSync(join(PROC_ROOT, 'meminfo'), 'utf8');

function meminfo(cgroupRoot: string, path: string, swap = true): string {
  return viewService(cgroupRoot, { swap }).renderForCgroup('proc/meminfo', path).toString();
}

const keys = (text: string) => text.split('\n').filter(Boolean).map((line) => line.split(':')[0]);
const lineOf = (text: string, key: string) => text.split('\n').find((line) => line.startsWith(`${key}:`));

describeServedFiles(['proc/meminfo'], 'meminfo of a memory cgroup', () => {
  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]] as const)('matches the golden file on %s', async (name, root) => {
    await expect(meminfo(root, DOCKER_A)).toMatchFileSnapshot(join(GOLDEN, `meminfo-${name}-docker-a.txt`));
  });

  describe.each(LAYOUTS)('on %s', (_, root) => {
    const text = meminfo(root, DOCKER_A);

    it.each([
      ['MemTotal', 512 * MIB_IN_KB],
      ['MemFree', 512 * MIB_IN_KB - 259000],
      ['Buffers', 0],
      ['Cached', 90 * MIB_IN_KB],
      ['SwapCached', 0],
      ['Active', 127488 + 25256],
      ['Inactive', 42496 + 50520],
      ['AnonPages', 150 * MIB_IN_KB],
      ['Mapped', 18432],
      ['Shmem', 16 * MIB_IN_KB],
      ['AnonHugePages', 4 * MIB_IN_KB],
      ['Dirty', 2 * MIB_IN_KB],
      ['Writeback', 1 * MIB_IN_KB],
      ['SwapTotal', 256 * MIB_IN_KB],
      ['SwapFree', 236 * MIB_IN_KB],
    ])('reports %s as %d kB', (key, expected) => {
      expect(meminfoField(text, key)).toBe(expected);
    });

    it('keeps every host line, in host order, and passes through the ones a cgroup does not account', () => {
      expect(keys(text)).toEqual(keys(HOST_MEMINFO));
      for (const key of ['Mlocked', 'CommitLimit', 'VmallocTotal', 'HugePages_Total', 'Hugepagesize', 'DirectMap1G']) {
        expect(lineOf(text, key)).toBe(lineOf(HOST_MEMINFO, key));
      }
    });
  });

  it.each([
    ['v1, which has no slab keys', CGROUP_V1, { Slab: 0, SReclaimable: 0, MemAvailable: 265288 + 25256 + 50520 }],
    ['v2', CGROUP_V2, { Slab: 10 * MIB_IN_KB, SReclaimable: 6 * MIB_IN_KB, MemAvailable: 265288 + 25256 + 50520 + 6144 }],
  ])('reports slab and MemAvailable (free + file LRUs + reclaimable slab) on %s', (_, root, expected) => {
    const text = meminfo(root, DOCKER_A);
    for (const [key, value] of Object.entries(expected)) expect([key, meminfoField(text, key)]).toEqual([key, value]);
  });

  it.each(LAYOUTS)('reports the minimum ancestor memory limit as MemTotal on %s', (_, root) => {
    // /lxc.payload.b/nested asks for 3 GiB under a 2 GiB parent.
    expect(meminfoField(meminfo(root, '/lxc.payload.b/nested'), 'MemTotal')).toBe(2048 * MIB_IN_KB);
  });

  it.each(LAYOUTS)('caps MemTotal at host RAM for a limit above it on %s', (_, root) => {
    expect(meminfoField(meminfo(root, '/system.slice/cgprocfs.service'), 'MemTotal')).toBe(HOST_MEM_TOTAL_KB);
  });

  it.each(LAYOUTS)('shows the host\'s own meminfo for the root cgroup on %s', (_, root) => {
    expect(meminfo(root, '/')).toBe(HOST_MEMINFO);
  });

  it.each([['a cgroup', DOCKER_A], ['the root cgroup', '/']])('reports SwapTotal and SwapFree 0 without swap for %s', (_, path) => {
    const text = meminfo(CGROUP_V2, path, false);
    expect([meminfoField(text, 'SwapTotal'), meminfoField(text, 'SwapFree')]).toEqual([0, 0]);
    expect(meminfoField(text, 'MemTotal')).toBe(meminfoField(meminfo(CGROUP_V2, path), 'MemTotal'));
  });

  it('never renders a negative value when usage exceeds the limit', () => {
    const text = render({
      host: parseMeminfo(HOST_MEMINFO),
      memory: { limitChain: [100 * 2 ** 20], current: 200 * 2 ** 20, stat: {}, swap: undefined },
      swap: true,
    });
    expect(lineOf(text, 'MemFree')).toBe('MemFree:               0 kB');
    expect(text).not.toMatch(/-\d/);
  });
});
