import { describe, expect, it } from 'vitest';
import { cpuOfPath, isPerReader, visibilityFor } from '../../../src/render/cpu-dirs.js';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { createViewSources } from '../../../src/render/view-sources.js';
import { uniformPaths } from '../../../src/cgroup/membership.js';
import { CGROUP_V2, PROC_ROOT } from '../helpers/fixtures.js';

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
    const layout = detectLayout(CGROUP_V2);
    const sources = createViewSources({ procRoot: PROC_ROOT, layout });
    // The fixture's nested cgroup sees CPU 2 alone (test/fixtures/README.md, CPU section).
    const target = { paths: uniformPaths('/lxc.payload.b/nested'), pid: undefined, containerInit: false, key: 'nested' };
    const visible = visibilityFor(sources, target, 'quota');
    expect(visible('sys/devices/system/cpu/cpu2/topology/core_id')).toBe(true);
    expect(visible('sys/devices/system/cpu/cpu0')).toBe(false);
    expect(visible('sys/devices/system/cpu/online')).toBe(true);
  });
});
