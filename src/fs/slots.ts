// The slot table of the handle store: one row per open handle in shared memory
// (generation, state, flags, extent, length, node, owning container), the lowest free
// slot found first, and how many are in use. Used only under the store's lock.

import { GEN_MASK } from './arena-format.js';
import type { OwnerId } from './shares.js';
import { StoreFullError } from './store-errors.js';

/** Slot row: generation, state, flags, first page, page count, byte length, node id, owner (4 words). */
export const Col = { GEN: 0, STATE: 1, FLAGS: 2, PAGE: 3, PAGES: 4, LENGTH: 5, NODE_LO: 6, NODE_HI: 7, OWNER: 8 } as const;
export const ROW = 12;
const FREE = 0;
const USED = 1;
/** Released by the kernel; its record is being written, then the slot is free. */
const RELEASING = 2;
/** The start of the rendering was served to a reader (a READ at offset 0). */
export const FLAG_SERVED_START = 1;
/** The current rendering is in the arena file. */
export const FLAG_SAVED = 2;

/** Words of shared memory the table keeps besides its rows: the search hint and the slots not free. */
export const SLOT_COUNTER_WORDS = 2;
const HINT = 0;
const IN_USE = 1;

export class SlotTable {
  readonly count: number;

  /** `counters` holds SLOT_COUNTER_WORDS words; `rows` ROW words per slot. */
  constructor(private readonly counters: Int32Array, readonly rows: Int32Array) {
    this.count = rows.length / ROW;
  }

  /** Slots not free: what the shares are measured against. */
  used(): number {
    return this.counters[IN_USE]!;
  }

  row(slot: number): number {
    return slot * ROW;
  }

  /** The row of an open handle's slot; undefined when the slot was released or reused. */
  liveRow(slot: number, gen: number): number | undefined {
    if (slot >= this.count) return undefined;
    const row = this.row(slot);
    if (this.rows[row + Col.STATE] !== USED || this.rows[row + Col.GEN] !== gen) return undefined;
    return row;
  }

  /**
   * The lowest free slot (no slot below the hint is free), given its next generation
   * and no extent: the records in use stay in the first, reserved pages of the arena's
   * directory (issue 18). It stays free until open() activates it.
   */
  claim(): { slot: number; gen: number } {
    for (let slot = this.counters[HINT]!; slot < this.count; slot++) {
      const row = this.row(slot);
      if (this.rows[row + Col.STATE] === FREE) {
        this.counters[HINT] = slot + 1;
        const gen = ((this.rows[row + Col.GEN]! + 1) & Number(GEN_MASK)) || 1;
        this.rows[row + Col.GEN] = gen;
        this.rows[row + Col.FLAGS] = 0;
        this.rows[row + Col.PAGES] = 0;
        return { slot, gen };
      }
    }
    throw new StoreFullError(`all ${this.count} file handles are in use`);
  }

  /** A claimed slot becomes an open handle of `owner`. */
  activate(slot: number, owner: OwnerId): void {
    const row = this.row(slot);
    this.rows[row + Col.STATE] = USED;
    this.counters[IN_USE]!++;
    for (let i = 0; i < 4; i++) this.rows[row + Col.OWNER + i] = owner[i]!;
  }

  /** A claimed slot that did not become a handle is free again. */
  unclaim(slot: number): void {
    this.lowerHint(slot);
  }

  /** Not free yet: the slot's record must be written before another handle may take it. */
  markReleasing(row: number): void {
    this.rows[row + Col.STATE] = RELEASING;
  }

  /** The slot is free again (its extent was freed by the caller). */
  free(slot: number): void {
    const row = this.row(slot);
    this.rows[row + Col.PAGES] = 0;
    this.rows[row + Col.STATE] = FREE;
    this.counters[IN_USE]!--;
    this.lowerHint(slot);
  }

  nodeIdAt(row: number): bigint {
    return (BigInt(this.rows[row + Col.NODE_HI]! >>> 0) << 32n) | BigInt(this.rows[row + Col.NODE_LO]! >>> 0);
  }

  setNode(row: number, nodeId: bigint, length: number): void {
    this.rows[row + Col.NODE_LO] = Number(nodeId & 0xffffffffn) | 0;
    this.rows[row + Col.NODE_HI] = Number(nodeId >> 32n) | 0;
    this.rows[row + Col.LENGTH] = length;
  }

  /** The container a live slot's handle was opened for. */
  ownerAt(row: number): OwnerId {
    const t = this.rows;
    return [t[row + Col.OWNER]!, t[row + Col.OWNER + 1]!, t[row + Col.OWNER + 2]!, t[row + Col.OWNER + 3]!];
  }

  /** Handles open now (for logs and leak checks in tests). */
  openCount(): number {
    let n = 0;
    for (let slot = 0; slot < this.count; slot++) if (this.rows[this.row(slot) + Col.STATE] === USED) n++;
    return n;
  }

  private lowerHint(slot: number): void {
    if (slot < this.counters[HINT]!) this.counters[HINT] = slot;
  }
}
