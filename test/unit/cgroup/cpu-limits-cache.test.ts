import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedCpuLimits, cpuPlacement, readCpuLimits } from '../../../src/cgroup/cpu.js';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths } from '../../../src/cgroup/membership.js';
import { cgroupViewOf, type CgroupView } from '../../../src/cgroup/view.js';
import { CGROUP_V2, useFixtureCopies } from '../helpers/fixtures.js';

const viewOn = (path: string): CgroupView => cgroupViewOf(uniformPaths(path));

describe('the CPU limits cache', () => {
  const copy = useFixtureCopies();
  const CGROUP = '/system.slice/docker-a1b2c3.scope';

  it('reuses a cgroup\'s limits within its bound and reads them afresh after it', () => {
    const root = copy(CGROUP_V2);
    const placement = cpuPlacement(detectLayout(root), viewOn(CGROUP));
    let now = 0;
    const limits = cachedCpuLimits(200, () => now);
    const before = limits(placement);
    expect(before).toEqual(readCpuLimits(placement));
    writeFileSync(join(root, CGROUP, 'cpu.max'), '300000 100000\n');
    now = 199;
    expect(limits(placement)).toEqual(before);
    now = 200;
    expect(limits(placement).quotaChain).toEqual(readCpuLimits(placement).quotaChain);
    expect(limits(placement)).not.toEqual(before);
  });

  it('reads the files every time with a bound of 0', () => {
    expect(cachedCpuLimits(0)).toBe(readCpuLimits);
  });
});
