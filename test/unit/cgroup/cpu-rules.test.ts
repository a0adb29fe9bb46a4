import { describe, expect, it } from 'vitest';
import {
  formatCpuList, nearestCpuset, parseCpuList, quotaCpuCount, visibleCpuIds, type CpuQuota,
} from '../../../src/cgroup/cpu-rules.js';
import { parseCpuMax } from '../../../src/cgroup/cpu-v2.js';
import { parseUsageAll } from '../../../src/cgroup/cpu-v1.js';

describe('CPU lists', () => {
  it.each([
    ['0-3\n', [0, 1, 2, 3]],
    ['0-1,5\n', [0, 1, 5]],
    ['7', [7]],
    ['\n', []],
    ['2,0-1,1', [0, 1, 2]],
  ])('parses %j as %j', (text, ids) => {
    expect(parseCpuList(text, 'cpuset.cpus')).toEqual(ids);
  });

  it.each(['3-1', 'a', '0-', '1:2', '0-99999999'])('rejects %j as SOURCE_UNREADABLE', (text) => {
    expect(() => parseCpuList(text, 'cpuset.cpus')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it.each([
    [[0, 1, 2, 3], '0-3'],
    [[0, 1], '0-1'],
    [[5], '5'],
    [[0, 2, 3, 4, 7], '0,2-4,7'],
    [[3, 1, 2, 1], '1-3'],
    [[], ''],
  ])('formats %j in the kernel canonical form %j', (ids, text) => {
    expect(formatCpuList(ids)).toBe(text);
  });
});

const q = (quota: number, period = 100_000): CpuQuota => ({ quota, period });

describe('visible CPUs', () => {
  // levels: the cpuset of the cgroup and its ancestors, nearest first (undefined: no file).
  it.each([
    ['a cpuset narrowed by a parent (effective set)', [[1, 2, 3]], [], 'quota', [1, 2, 3]],
    ['a quota at an ancestor smaller than the container\'s', [[0, 1, 2, 3]], [q(300_000), q(100_000)], 'quota', [0]],
    ['a quota larger than the cpuset', [[1, 2, 3]], [q(800_000)], 'quota', [1, 2, 3]],
    ['no quota', [[2, 3]], [], 'quota', [2, 3]],
    ['a fractional quota, rounded up', [[0, 1, 2, 3]], [q(150_000)], 'quota', [0, 1]],
    ['a period other than 100000', [[0, 1, 2, 3]], [q(25_000, 50_000)], 'quota', [0]],
    ['a period other than 100000, above one CPU', [[0, 1, 2, 3]], [q(250_000, 50_000)], 'quota', [0, 1, 2, 3]],
    ['an empty cpuset at the leaf (the parent\'s applies)', [[], undefined, [2, 3]], [], 'quota', [2, 3]],
    ['no cpuset anywhere (the host\'s online CPUs)', [undefined, []], [], 'quota', [0, 1, 2, 3]],
    ['cpuset mode, which ignores quotas', [[0, 1, 2, 3]], [q(100_000)], 'cpuset', [0, 1, 2, 3]],
    ['a quota below one CPU, which still shows one', [[4, 6]], [q(1_000)], 'quota', [4]],
  ] as const)('applies %s', (_, levels, chain, mode, expected) => {
    const cpuset = nearestCpuset(levels);
    expect(visibleCpuIds(cpuset, [0, 1, 2, 3], quotaCpuCount(chain), mode)).toEqual(expected);
  });

  it('never shows fewer than one CPU', () => {
    expect(visibleCpuIds(undefined, [], undefined, 'quota')).toEqual([0]);
  });

  it('takes the tightest quota of the chain as ceil(quota/period)', () => {
    expect(quotaCpuCount([])).toBeUndefined();
    expect(quotaCpuCount([q(400_000), q(250_000), q(900_000)])).toBe(3);
  });
});

describe('cpu.max and cpuacct.usage_all', () => {
  it.each([
    ['max 100000\n', undefined],
    ['50000 100000\n', { quota: 50_000, period: 100_000 }],
    ['25000 50000', { quota: 25_000, period: 50_000 }],
  ])('reads cpu.max %j', (text, expected) => {
    expect(parseCpuMax(text, 'cpu.max')).toEqual(expected);
  });

  it('rejects a garbled cpu.max', () => {
    expect(() => parseCpuMax('max', 'cpu.max')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it('sums usage_all exactly past 2^53 ns and answers in µs', () => {
    const text = 'cpu user system\n0 9007199254740993 1999\n1 1000 1\n';
    expect(parseUsageAll(text, 'cpuacct.usage_all')).toEqual({ user: 9007199254741, system: 2 });
  });
});
