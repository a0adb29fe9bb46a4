import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import type { MemoryReading } from '../../../src/cgroup/memory.js';
import { deviceLine, render } from '../../../src/render/swaps.js';
import { CGROUP_V1, CGROUP_V2, HOST_MEM_TOTAL_KB, HOST_SWAP_TOTAL_KB, PROC_ROOT } from '../helpers/fixtures.js';
import { viewService } from '../helpers/render-context.js';

const HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';
const NONE_PADDED = `none${' '.repeat(36)}`;

function swaps(cgroupRoot: string, path: string, swap = true): string {
  const views = viewService(cgroupRoot, { swap });
  return views.renderForCgroup('proc/swaps', path).toString();
}

describeServedFiles(['proc/swaps'], '/proc/swaps of a view', () => {
  it.each([
    ['small values, each followed by a second tab', { total: 262144, used: 20480 }, `${NONE_PADDED}virtual\t\t262144\t\t20480\t\t0`],
    ['values from 10000000 kB, one tab', { total: 16777216, used: 10000000 }, `${NONE_PADDED}virtual\t\t16777216\t10000000\t0`],
  ])('lays out the device line like the kernel\'s swap_show for %s', (_, figures, expected) => {
    expect(deviceLine({ ...figures, free: 0 })).toBe(expected);
  });

  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]])('shows the container\'s swap as one virtual device on %s', (_, root) => {
    expect(swaps(root, '/system.slice/docker-a1b2c3.scope')).toBe(`${HEADER}${NONE_PADDED}virtual\t\t262144\t\t20480\t\t0\n`);
  });

  it('shows a v1 cgroup with swappiness 0 as a full device of the size in use', () => {
    expect(swaps(CGROUP_V1, '/lxc.payload.b/nested')).toBe(`${HEADER}${NONE_PADDED}virtual\t\t4096\t\t4096\t\t0\n`);
  });

  it.each([['a cgroup', '/system.slice/docker-a1b2c3.scope'], ['the root cgroup', '/']])(
    'shows the header only without swap for %s',
    (_, path) => {
      expect(swaps(CGROUP_V2, path, false)).toBe(HEADER);
    },
  );

  it('shows the host\'s own devices for the root cgroup', () => {
    expect(swaps(CGROUP_V2, '/')).toBe(readFileSync(join(PROC_ROOT, 'swaps'), 'utf8'));
  });

  const memory = (overrides: Partial<MemoryReading>): MemoryReading => ({
    limitChain: [Infinity], current: 0, stat: {}, swap: { limitChain: [Infinity], limitIncludesMemory: false, current: 0, swappiness: undefined }, ...overrides,
  });
  const host = { header: HEADER.trimEnd(), devices: ['/swapfile file'] };

  it.each([
    ['no swap accounting', memory({ swap: undefined }), HOST_SWAP_TOTAL_KB],
    ['a host without swap', memory({}), 0],
    ['a swap limit of 0', memory({ swap: { limitChain: [0], limitIncludesMemory: false, current: 0, swappiness: undefined } }), HOST_SWAP_TOTAL_KB],
  ])('shows the header only for %s', (_, reading, hostSwap) => {
    const text = render({ host, hostTotals: { memTotal: HOST_MEM_TOTAL_KB, swapTotal: hostSwap }, memory: reading, swap: true });
    expect(text).toBe(HEADER);
  });

  it('shows unlimited swap as the host\'s swap size', () => {
    const text = render({ host, hostTotals: { memTotal: HOST_MEM_TOTAL_KB, swapTotal: HOST_SWAP_TOTAL_KB }, memory: memory({}), swap: true });
    expect(text).toBe(`${HEADER}${NONE_PADDED}virtual\t\t${HOST_SWAP_TOTAL_KB}\t\t0\t\t0\n`);
  });
});
