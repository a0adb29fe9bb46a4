// What each container (the view a handle was opened for) holds of the handle store:
// open handles and pages of rendered content (the same pages in memory and in the
// arena file). A table in shared memory, open addressing on a 128-bit id of the
// container, used only under the handle store's lock; a container that holds nothing
// leaves the table (deletion by backward shift, Knuth's Algorithm R, so no tombstones
// pile up and probes stay short). Issue 17: one container must not be able to hold
// every handle and page and so refuse everyone else's reads.

/** A container's identity: 128 bits of a hash of its cgroup membership. */
export type OwnerId = readonly [number, number, number, number];

/** Row: state, id (4 words), handles held, pages held. */
const Col = { STATE: 0, ID: 1, HANDLES: 5, PAGES: 6 } as const;
const ROW = 7;
const FREE = 0;
const USED = 1;

/** What a container holds. */
export interface Holding {
  readonly handles: number;
  readonly pages: number;
}

/** Int32 words for a table of `capacity` containers. */
export function ownerTableWords(capacity: number): number {
  return capacity * ROW;
}

export class OwnerTable {
  readonly capacity: number;

  constructor(private readonly words: Int32Array) {
    this.capacity = words.length / ROW;
  }

  /** What `id` holds now (nothing for a container not in the table). */
  holding(id: OwnerId): Holding {
    const row = this.find(id);
    return row === undefined ? { handles: 0, pages: 0 } : { handles: this.words[row + Col.HANDLES]!, pages: this.words[row + Col.PAGES]! };
  }

  /**
   * Adds (or with negative numbers takes back) handles and pages to `id`'s holding; a
   * container left holding nothing leaves the table. False when a new container finds
   * the table full (it never is when the table has a row per handle slot).
   */
  charge(id: OwnerId, handles: number, pages: number): boolean {
    let row = this.find(id);
    if (row === undefined) {
      if (handles <= 0 && pages <= 0) return true;
      row = this.insert(id);
      if (row === undefined) return false;
    }
    const w = this.words;
    w[row + Col.HANDLES]! += handles;
    w[row + Col.PAGES]! += pages;
    if (w[row + Col.HANDLES]! <= 0 && w[row + Col.PAGES]! <= 0) this.remove(row);
    return true;
  }

  /** Containers holding something (for tests and logs). */
  size(): number {
    let n = 0;
    for (let slot = 0; slot < this.capacity; slot++) if (this.words[slot * ROW + Col.STATE] === USED) n++;
    return n;
  }

  private home(id: OwnerId): number {
    return (id[0] >>> 0) % this.capacity;
  }

  private find(id: OwnerId): number | undefined {
    for (let probe = 0, slot = this.home(id); probe < this.capacity; probe++, slot = (slot + 1) % this.capacity) {
      const row = slot * ROW;
      if (this.words[row + Col.STATE] === FREE) return undefined;
      if (this.holds(row, id)) return row;
    }
    return undefined;
  }

  private insert(id: OwnerId): number | undefined {
    for (let probe = 0, slot = this.home(id); probe < this.capacity; probe++, slot = (slot + 1) % this.capacity) {
      const row = slot * ROW;
      if (this.words[row + Col.STATE] !== FREE) continue;
      this.words[row + Col.STATE] = USED;
      for (let i = 0; i < 4; i++) this.words[row + Col.ID + i] = id[i]!;
      this.words[row + Col.HANDLES] = 0;
      this.words[row + Col.PAGES] = 0;
      return row;
    }
    return undefined;
  }

  /**
   * Frees `row` and moves back each later row of its probe run whose home does not lie
   * cyclically between the freed slot and its own, so every probe still finds it.
   */
  private remove(row: number): void {
    const w = this.words;
    let hole = row / ROW;
    w[hole * ROW + Col.STATE] = FREE;
    for (let slot = (hole + 1) % this.capacity; w[slot * ROW + Col.STATE] !== FREE; slot = (slot + 1) % this.capacity) {
      const home = (w[slot * ROW + Col.ID]! >>> 0) % this.capacity;
      const stays = hole <= slot ? hole < home && home <= slot : hole < home || home <= slot;
      if (stays) continue;
      w.copyWithin(hole * ROW, slot * ROW, slot * ROW + ROW);
      w[slot * ROW + Col.STATE] = FREE;
      hole = slot;
    }
  }

  private holds(row: number, id: OwnerId): boolean {
    const w = this.words;
    return w[row + Col.ID] === id[0] && w[row + Col.ID + 1] === id[1] && w[row + Col.ID + 2] === id[2] && w[row + Col.ID + 3] === id[3];
  }
}

/** Pages a container may hold per handle of its share: 32 KiB, above meminfo's 20 KiB extent. */
export const PAGES_PER_HANDLE = 8;
/** The part of the store's slots and pages kept back for containers that hold little. */
const RESERVE_FRACTION = 1 / 8;
/** "Little": a container holding fewer handles (and their pages) than this may use the reserve. */
export const RESERVE_OWNER_HANDLES = 16;

/** How much of the store one container may hold, and what is kept back for the others. */
export interface ShareLimits {
  readonly ownerHandles: number;
  readonly ownerPages: number;
  readonly reserveSlots: number;
  readonly reservePages: number;
}

/** The largest per-container share of a store of `slots` handles and `pages` pages: all but the reserve. */
export function maxOwnerHandles(slots: number, pages: number): number {
  return Math.max(1, Math.min(slots - Math.ceil(slots * RESERVE_FRACTION), Math.floor((pages - Math.ceil(pages * RESERVE_FRACTION)) / PAGES_PER_HANDLE)));
}

export function shareLimits(slots: number, pages: number, ownerHandles: number): ShareLimits {
  const handles = Math.min(ownerHandles, maxOwnerHandles(slots, pages));
  return {
    ownerHandles: handles,
    ownerPages: handles * PAGES_PER_HANDLE,
    reserveSlots: Math.ceil(slots * RESERVE_FRACTION),
    reservePages: Math.ceil(pages * RESERVE_FRACTION),
  };
}

/**
 * Why a container may not take `want` more: 'share' (it would hold more than its own
 * share: only it is refused), 'full' (the store is full but for the reserve, and this
 * container already holds more than the little the reserve is for), or undefined.
 */
export function refusal(limits: ShareLimits, held: Holding, want: Holding, used: Holding, store: { slots: number; pages: number }): 'share' | 'full' | undefined {
  const handles = held.handles + want.handles;
  const pages = held.pages + want.pages;
  if (handles > limits.ownerHandles || pages > limits.ownerPages) return 'share';
  const slotsAfter = used.handles + want.handles;
  const pagesAfter = used.pages + want.pages;
  if (slotsAfter <= store.slots - limits.reserveSlots && pagesAfter <= store.pages - limits.reservePages) return undefined;
  const little = handles <= RESERVE_OWNER_HANDLES && pages <= RESERVE_OWNER_HANDLES * PAGES_PER_HANDLE;
  return little && slotsAfter <= store.slots && pagesAfter <= store.pages ? undefined : 'full';
}
