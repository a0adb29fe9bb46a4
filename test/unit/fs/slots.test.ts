// The slot table of the handle store on its own: lowest free slot first, a new
// generation on every reuse, released slots no longer live, a full table refused.
import { describe, expect, it } from 'vitest';
import { ROW, SLOT_COUNTER_WORDS, SlotTable } from '../../../src/fs/slots.js';
import { StoreFullError } from '../../../src/fs/store-errors.js';

const OWNER = [7, 7, 7, 7] as const;

function table(slots: number): SlotTable {
  return new SlotTable(new Int32Array(SLOT_COUNTER_WORDS), new Int32Array(slots * ROW));
}

/** Claims and activates the lowest free slot. */
function take(slots: SlotTable): { slot: number; gen: number } {
  const claimed = slots.claim();
  slots.activate(claimed.slot, OWNER);
  return claimed;
}

describe('SlotTable', () => {
  it('takes the lowest free slot, and gives a reused slot a new generation that the old handle does not match', () => {
    const slots = table(4);
    const [a, b] = [take(slots), take(slots)];
    expect([a.slot, b.slot]).toEqual([0, 1]);
    slots.free(a.slot);
    const again = take(slots);
    expect(again.slot).toBe(0);
    expect(again.gen).not.toBe(a.gen);
    expect(slots.liveRow(0, a.gen)).toBeUndefined();
    expect(slots.liveRow(0, again.gen)).toBe(0);
    expect(slots.used()).toBe(2);
    expect(slots.ownerAt(slots.row(0))).toEqual(OWNER);
  });

  it('keeps node id and length of a slot, the node id in 64 bits', () => {
    const slots = table(2);
    const { slot } = take(slots);
    slots.setNode(slots.row(slot), 0x1_2345_6789n, 42);
    expect(slots.nodeIdAt(slots.row(slot))).toBe(0x1_2345_6789n);
  });

  it('refuses a claim when every slot is in use, and a slot whose OPEN failed is taken next (unclaim)', () => {
    const slots = table(2);
    take(slots);
    const failed = slots.claim();
    slots.unclaim(failed.slot);
    expect(take(slots).slot).toBe(failed.slot);
    expect(() => slots.claim()).toThrow(StoreFullError);
    expect(slots.openCount()).toBe(2);
  });

  it('does not count a releasing slot as open, nor as live', () => {
    const slots = table(2);
    const { slot, gen } = take(slots);
    slots.markReleasing(slots.row(slot));
    expect(slots.liveRow(slot, gen)).toBeUndefined();
    expect(slots.openCount()).toBe(0);
  });
});
