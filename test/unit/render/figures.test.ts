import { describe, expect, it } from 'vitest';
import type { MemoryReading, SwapReading } from '../../../src/cgroup/memory.js';
import { memoryFigures, swapFigures, type HostTotals } from '../../../src/render/figures.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const V1_UNLIMITED = 9223372036854771712;
const HOST: HostTotals = { memTotal: 1000 * 1024, swapTotal: 500 * 1024 };

function reading(overrides: Partial<MemoryReading> = {}): MemoryReading {
  return { limitChain: [512 * MiB], current: 100 * MiB, stat: {}, swap: undefined, ...overrides };
}

function swap(overrides: Partial<SwapReading>): SwapReading {
  return { limitChain: [Infinity], limitIncludesMemory: false, current: 0, swappiness: undefined, ...overrides };
}

describe('memory figures of a view (kB)', () => {
  it.each([
    ['the tightest limit', [Infinity, 512 * MiB, 768 * MiB], 512 * 1024],
    ['host RAM for no limit', [Infinity], HOST.memTotal],
    ['host RAM for a limit above it', [2000 * MiB], HOST.memTotal],
    ['host RAM for v1\'s unlimited', [V1_UNLIMITED], HOST.memTotal],
  ])('reports %s as MemTotal', (_, limitChain, expected) => {
    expect(memoryFigures(reading({ limitChain }), HOST).memTotal).toBe(expected);
  });

  it('reports MemFree as MemTotal minus memory.current', () => {
    expect(memoryFigures(reading(), HOST).memFree).toBe(412 * 1024);
  });

  it('never reports negative MemFree when usage is above the limit', () => {
    const figures = memoryFigures(reading({ current: 600 * MiB, stat: { active_file: 50 * MiB } }), HOST);
    expect(figures.memFree).toBe(0);
    expect(figures.memAvailable).toBe(50 * 1024);
  });

  it('counts the file LRUs and reclaimable slab, not shmem, as available', () => {
    const stat = { active_file: 10 * MiB, inactive_file: 20 * MiB, slab_reclaimable: 3 * MiB, shmem: 40 * MiB, file: 70 * MiB };
    expect(memoryFigures(reading({ stat }), HOST).memAvailable).toBe((412 + 33) * 1024);
  });

  it('caps MemAvailable at MemTotal', () => {
    const stat = { active_file: 400 * MiB, inactive_file: 400 * MiB };
    expect(memoryFigures(reading({ current: 0, stat }), HOST).memAvailable).toBe(512 * 1024);
  });
});

describe('swap figures of a view (kB)', () => {
  it.each([
    ['no swap accounting: no swap', undefined, { total: 0, used: 0, free: 0 }],
    ['a v2 swap.max of max: host swap', swap({ current: 10 * MiB }), { total: 500 * 1024, used: 10 * 1024, free: 490 * 1024 }],
    ['the tightest v2 swap.max', swap({ limitChain: [Infinity, 100 * MiB] }), { total: 100 * 1024, used: 0, free: 100 * 1024 }],
    ['a swap limit above host swap: host swap', swap({ limitChain: [4000 * MiB] }), { total: 500 * 1024, used: 0, free: 500 * 1024 }],
    ['v1 memsw less the memory limit', swap({ limitChain: [768 * MiB], limitIncludesMemory: true, current: 16 * MiB }),
      { total: 256 * 1024, used: 16 * 1024, free: 240 * 1024 }],
    ['v1 memsw below an ancestor\'s memory limit: no swap', swap({ limitChain: [256 * MiB], limitIncludesMemory: true }),
      { total: 0, used: 0, free: 0 }],
    ['v1 unlimited memsw: host swap', swap({ limitChain: [V1_UNLIMITED], limitIncludesMemory: true }),
      { total: 500 * 1024, used: 0, free: 500 * 1024 }],
    ['swappiness 0: a full device of the size in use', swap({ swappiness: 0, current: 4 * MiB }), { total: 4 * 1024, used: 4 * 1024, free: 0 }],
    ['usage above the limit: SwapFree 0, never negative', swap({ limitChain: [8 * MiB], current: 9 * MiB }),
      { total: 8 * 1024, used: 9 * 1024, free: 0 }],
  ])('gives %s', (_, swapReading, expected) => {
    expect(swapFigures(reading({ swap: swapReading }), HOST)).toEqual(expected);
  });

  it('subtracts a v1 memory limit capped at host RAM from an unlimited-memory memsw limit', () => {
    const figures = swapFigures(
      reading({ limitChain: [Infinity], swap: swap({ limitChain: [1200 * MiB], limitIncludesMemory: true }) }),
      HOST,
    );
    expect(figures.total).toBe(200 * 1024);
  });
});
