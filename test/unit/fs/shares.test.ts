import { describe, expect, it } from 'vitest';
import {
  maxOwnerHandles, OwnerTable, ownerTableWords, PAGES_PER_HANDLE, RESERVE_OWNER_HANDLES, refusal, shareLimits, type OwnerId,
} from '../../../src/fs/shares.js';

const table = (capacity: number) => new OwnerTable(new Int32Array(ownerTableWords(capacity)));
/** Ids whose first word puts them all in the same home slot of a small table, so they probe past each other. */
const colliding = (i: number, capacity: number): OwnerId => [i * capacity, i, 0, 0];

describe('the table of what each container holds', () => {
  it('adds up what a container holds, and forgets it once it holds nothing', () => {
    const t = table(8);
    const a: OwnerId = [1, 2, 3, 4];
    t.charge(a, 1, 5);
    t.charge(a, 1, 5);
    expect(t.holding(a)).toEqual({ handles: 2, pages: 10 });
    t.charge(a, -2, -10);
    expect(t.holding(a)).toEqual({ handles: 0, pages: 0 });
    expect(t.size()).toBe(0);
  });

  it('tells containers apart by all 128 bits of their id', () => {
    const t = table(8);
    t.charge([1, 2, 3, 4], 1, 1);
    expect(t.holding([1, 2, 3, 5])).toEqual({ handles: 0, pages: 0 });
  });

  it('finds every container after others in its probe run left (no tombstones to wade through)', () => {
    const capacity = 16;
    const t = table(capacity);
    const model = new Map<number, number>();
    // A seeded sequence of arrivals and departures, most of them in one probe run.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let step = 0; step < 2000; step++) {
      const i = next() % 12;
      const id = i < 8 ? colliding(i, capacity) : ([i, i, i, i] as const);
      const held = model.get(i) ?? 0;
      const delta = held > 0 && next() % 2 === 0 ? -held : 1;
      expect(t.charge(id, delta, delta)).toBe(true);
      model.set(i, held + delta);
      for (const [j, handles] of model) {
        const other = j < 8 ? colliding(j, capacity) : ([j, j, j, j] as const);
        expect(t.holding(other).handles).toBe(handles);
      }
    }
    expect(t.size()).toBe([...model.values()].filter((n) => n > 0).length);
  });

  it('says so when a new container finds the table full', () => {
    const t = table(2);
    expect(t.charge([1, 0, 0, 0], 1, 1)).toBe(true);
    expect(t.charge([2, 0, 0, 0], 1, 1)).toBe(true);
    expect(t.charge([3, 0, 0, 0], 1, 1)).toBe(false);
  });
});

describe('shares of the handle store', () => {
  const store = { slots: 1024, pages: 1024 };
  const limits = shareLimits(store.slots, store.pages, 64);
  const none = { handles: 0, pages: 0 };
  const one = { handles: 1, pages: 5 };

  it('gives each container its share and keeps an eighth of the store in reserve', () => {
    expect(limits).toEqual({ ownerHandles: 64, ownerPages: 64 * PAGES_PER_HANDLE, reserveSlots: 128, reservePages: 128 });
  });

  it('caps a share at the store less its reserve', () => {
    expect(maxOwnerHandles(65536, 65536)).toBe(7168);
    expect(shareLimits(65536, 65536, 100_000).ownerHandles).toBe(7168);
  });

  it.each([
    ['a container within its share', { handles: 63, pages: 315 }, one, { handles: 100, pages: 500 }, undefined],
    ['a container at its share of handles', { handles: 64, pages: 320 }, one, { handles: 100, pages: 500 }, 'share'],
    ['a container at its share of pages', { handles: 10, pages: 510 }, one, { handles: 100, pages: 500 }, 'share'],
    ['a container holding little when the store is full but for the reserve', { handles: 3, pages: 15 }, one, { handles: 200, pages: 896 }, undefined],
    ['a container holding more than little then', { handles: RESERVE_OWNER_HANDLES, pages: 80 }, one, { handles: 200, pages: 896 }, 'full'],
    ['a container when the reserve too is gone', none, one, { handles: 1024, pages: 1024 }, 'full'],
  ] as const)('answers %s', (_name, held, want, used, why) => {
    expect(refusal(limits, held, want, used, store)).toBe(why);
  });
});
