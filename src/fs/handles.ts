// Open file handles and their rendered snapshots, in memory shared by every serving
// worker thread. All workers read the same /dev/fuse queue, so the READ or RELEASE of
// a handle usually reaches another worker than the OPEN that rendered it.
//
// Layout: a slot table (one row of Int32 per handle) and a data arena of 4 KiB pages,
// both SharedArrayBuffers; one Atomics mutex guards allocation and every slot access
// (critical sections are a bitmap scan or a copy of a few KiB).

const PAGE = 4096;
const LOCK_INDEX = 0;
const HINT_INDEX = 1;
const HEADER_WORDS = 2;

/** Slot row: generation, state, flags, first page, page count, byte length, file index. */
const Col = { GEN: 0, STATE: 1, FLAGS: 2, PAGE: 3, PAGES: 4, LENGTH: 5, FILE: 6 } as const;
const ROW = 7;
const FREE = 0;
const USED = 1;
/** The first READ at offset 0 was served from the OPEN's rendering. */
const FLAG_SERVED_START = 1;

// fh = epoch (16 bits) | generation (24 bits) | slot (24 bits)
const SLOT_BITS = 24n;
const GEN_BITS = 24n;
const SLOT_MASK = (1n << SLOT_BITS) - 1n;
const GEN_MASK = (1n << GEN_BITS) - 1n;
const EPOCH_MASK = 0xffffn;

export interface HandleStoreLimits {
  /** Most handles open at once. */
  slots: number;
  /** Bytes of rendered content held at once, across all handles. */
  arenaBytes: number;
}

export const DEFAULT_HANDLE_LIMITS: HandleStoreLimits = { slots: 65536, arenaBytes: 64 * 1024 * 1024 };

/** What a worker receives to attach to the store (structured-clone safe). */
export interface HandleStoreMemory {
  table: SharedArrayBuffer;
  bitmap: SharedArrayBuffer;
  arena: SharedArrayBuffer;
  /** Distinguishes this server start's handles from a predecessor's (reference §7). */
  epoch: number;
}

export function allocateHandleStoreMemory(limits: HandleStoreLimits, epoch: number): HandleStoreMemory {
  const pages = Math.ceil(limits.arenaBytes / PAGE);
  return {
    table: new SharedArrayBuffer((HEADER_WORDS + limits.slots * ROW) * 4),
    bitmap: new SharedArrayBuffer(Math.ceil(pages / 32) * 4),
    arena: new SharedArrayBuffer(pages * PAGE),
    epoch: epoch & Number(EPOCH_MASK),
  };
}

export interface Snapshot {
  fileIndex: number;
  content: Buffer;
  /** True when an earlier READ at offset 0 was already served from this content. */
  servedStart: boolean;
}

/** Raised when the store has no slot or no arena room left. */
export class StoreFullError extends Error {}

export class HandleStore {
  private readonly table: Int32Array;
  private readonly bitmap: Int32Array;
  private readonly arena: Buffer;
  private readonly slots: number;
  private readonly pages: number;
  private readonly epoch: bigint;

  constructor(memory: HandleStoreMemory) {
    this.table = new Int32Array(memory.table);
    this.bitmap = new Int32Array(memory.bitmap);
    this.arena = Buffer.from(memory.arena);
    this.slots = (this.table.length - HEADER_WORDS) / ROW;
    this.pages = memory.arena.byteLength / PAGE;
    this.epoch = BigInt(memory.epoch);
  }

  /** Stores a new rendering and returns its file handle. Throws StoreFullError. */
  open(fileIndex: number, content: Buffer): bigint {
    return this.locked(() => {
      const slot = this.findFreeSlot();
      const row = this.row(slot);
      const gen = (this.table[row + Col.GEN]! + 1) & Number(GEN_MASK);
      this.table[row + Col.GEN] = gen;
      this.table[row + Col.STATE] = USED;
      this.table[row + Col.FLAGS] = 0;
      this.table[row + Col.FILE] = fileIndex;
      this.table[row + Col.PAGES] = 0;
      try {
        this.store(row, content);
      } catch (err) {
        this.table[row + Col.STATE] = FREE;
        throw err;
      }
      return (this.epoch << (SLOT_BITS + GEN_BITS)) | (BigInt(gen) << SLOT_BITS) | BigInt(slot);
    });
  }

  /** A copy of the handle's snapshot, or undefined for a handle this store never issued or already released. */
  get(fh: bigint): Snapshot | undefined {
    return this.locked(() => {
      const row = this.liveRow(fh);
      if (row === undefined) return undefined;
      const start = this.table[row + Col.PAGE]! * PAGE;
      const content = Buffer.from(this.arena.subarray(start, start + this.table[row + Col.LENGTH]!));
      return {
        fileIndex: this.table[row + Col.FILE]!,
        content,
        servedStart: (this.table[row + Col.FLAGS]! & FLAG_SERVED_START) !== 0,
      };
    });
  }

  /** Records that READ at offset 0 was answered from the current content. */
  markServedStart(fh: bigint): void {
    this.locked(() => {
      const row = this.liveRow(fh);
      if (row !== undefined) this.table[row + Col.FLAGS]! |= FLAG_SERVED_START;
    });
  }

  /** Replaces the handle's content (a re-rendering on rewind). False if the handle is gone. */
  replace(fh: bigint, content: Buffer): boolean {
    return this.locked(() => {
      const row = this.liveRow(fh);
      if (row === undefined) return false;
      this.store(row, content);
      return true;
    });
  }

  release(fh: bigint): boolean {
    return this.locked(() => {
      const row = this.liveRow(fh);
      if (row === undefined) return false;
      this.freePages(this.table[row + Col.PAGE]!, this.table[row + Col.PAGES]!);
      this.table[row + Col.STATE] = FREE;
      this.table[row + Col.PAGES] = 0;
      return true;
    });
  }

  /** Handles currently open (for logs and leak checks in tests). */
  openCount(): number {
    return this.locked(() => {
      let n = 0;
      for (let slot = 0; slot < this.slots; slot++) if (this.table[this.row(slot) + Col.STATE] === USED) n++;
      return n;
    });
  }

  private row(slot: number): number {
    return HEADER_WORDS + slot * ROW;
  }

  private liveRow(fh: bigint): number | undefined {
    if ((fh >> (SLOT_BITS + GEN_BITS)) !== this.epoch) return undefined;
    const slot = Number(fh & SLOT_MASK);
    if (slot >= this.slots) return undefined;
    const row = this.row(slot);
    const gen = Number((fh >> SLOT_BITS) & GEN_MASK);
    if (this.table[row + Col.STATE] !== USED || this.table[row + Col.GEN] !== gen) return undefined;
    return row;
  }

  /** Writes content into the row's extent, moving it to a larger extent when it does not fit. */
  private store(row: number, content: Buffer): void {
    const needed = Math.max(1, Math.ceil(content.length / PAGE));
    if (needed > this.table[row + Col.PAGES]!) {
      const page = this.allocatePages(needed);
      this.freePages(this.table[row + Col.PAGE]!, this.table[row + Col.PAGES]!);
      this.table[row + Col.PAGE] = page;
      this.table[row + Col.PAGES] = needed;
    }
    content.copy(this.arena, this.table[row + Col.PAGE]! * PAGE);
    this.table[row + Col.LENGTH] = content.length;
  }

  private findFreeSlot(): number {
    const hint = this.table[HINT_INDEX]!;
    for (let i = 0; i < this.slots; i++) {
      const slot = (hint + i) % this.slots;
      if (this.table[this.row(slot) + Col.STATE] === FREE) {
        this.table[HINT_INDEX] = (slot + 1) % this.slots;
        return slot;
      }
    }
    throw new StoreFullError(`all ${this.slots} file handles are in use`);
  }

  private pageUsed(page: number): boolean {
    return (this.bitmap[page >> 5]! & (1 << (page & 31))) !== 0;
  }

  private setPages(first: number, count: number, used: boolean): void {
    for (let p = first; p < first + count; p++) {
      if (used) this.bitmap[p >> 5]! |= 1 << (p & 31);
      else this.bitmap[p >> 5]! &= ~(1 << (p & 31));
    }
  }

  /** First fit over the page bitmap. */
  private allocatePages(count: number): number {
    let run = 0;
    for (let page = 0; page < this.pages; page++) {
      run = this.pageUsed(page) ? 0 : run + 1;
      if (run === count) {
        const first = page - count + 1;
        this.setPages(first, count, true);
        return first;
      }
    }
    throw new StoreFullError(`no room for ${count * PAGE} bytes of rendered content`);
  }

  private freePages(first: number, count: number): void {
    if (count > 0) this.setPages(first, count, false);
  }

  private locked<T>(fn: () => T): T {
    const t = this.table;
    while (Atomics.compareExchange(t, LOCK_INDEX, 0, 1) !== 0) Atomics.wait(t, LOCK_INDEX, 1, 1);
    try {
      return fn();
    } finally {
      Atomics.store(t, LOCK_INDEX, 0);
      Atomics.notify(t, LOCK_INDEX, 1);
    }
  }
}
