import { describe, expect, it } from 'vitest';
import { cpuOfPath, isPerReader, visibilityFor } from '../../../src/render/cpu-dirs.js';
import { CGROUP_V2, NESTED } from '../helpers/fixtures.js';
import { contextFor } from '../helpers/render-context.js';

describe('which CPU directories a reader sees', () => {
  it.each([
    ['sys/devices/system/cpu/cpu3', 3],
    ['sys/devices/system/cpu/cpu12/topology/core_id', 12],
    ['sys/devices/system/cpu/online', undefined],
    ['sys/devices/system/cpu/cpufreq', undefined],
    ['sys/devices/system/node/node1/cpu3', 3],
    ['sys/devices/system/node/node1/cpulist', undefined],
    ['proc/cpuinfo', undefined],
  ] as const)('%s belongs to CPU %s', (path, cpu) => {
    expect(cpuOfPath(path)).toBe(cpu);
    if (!path.includes('/node/')) expect(isPerReader(path)).toBe(cpu !== undefined);
  });

  it('shows the cpuN directories of the view\'s CPUs and hides the others', () => {
    // The fixture's nested cgroup sees CPU 2 alone (test/fixtures/README.md, CPU section).
    const { sources, target } = contextFor(CGROUP_V2, NESTED);
    const visible = visibilityFor(sources, target, 'quota');
    expect(visible('sys/devices/system/cpu/cpu2/topology/core_id')).toBe(true);
    expect(visible('sys/devices/system/cpu/cpu0')).toBe(false);
    expect(visible('sys/devices/system/cpu/online')).toBe(true);
  });
});
