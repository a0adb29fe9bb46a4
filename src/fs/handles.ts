// Open file handles and their rendered snapshots: the store that composes the slot
// table (slots.ts), the page allocator (pages.ts), what each container holds
// (shares.ts) and this epoch's arena file (arena-file.ts) under one Atomics mutex,
// which is never held across a system call. It stores; when to render anew is the
// filesystem's rule (filesystem.ts).
//
// All serving workers read one /dev/fuse queue, so the READ or RELEASE of a handle
// usually reaches another worker than the OPEN that rendered it; and after a server
// crash or reload the kernel sends a predecessor's handles to the new server
// (reference §7). So the tables live in SharedArrayBuffers shared by the workers of
// one server, and snapshots are also written to an arena FILE (one per server start,
// its "epoch"), which outlives the process. One container may hold only its share of
// handles and pages (issue 17), and pages freed by a flood of opens are given back to
// the kernel (trim).
//
// An OPEN writes the record only. The contents reach the arena at the first READ that
// serves part of the rendering but not all of it from offset 0 (the READ at the end,
// which every reader sends, serves nothing and saves nothing): until a reader has
// been served part of a rendering, a successor can render anew without anyone
// noticing, and most readers take the whole file in their first READ. A re-rendering
// (a rewind) is written at once: its first part goes to the reader without another
// READ here.
//
// A full or failing state directory is outlived (issue 18): a new arena reserves its
// usual working set, and what cannot be written is served from memory (the record says
// "not saved", so a successor renders anew); a server without an arena serves too.

import { existsSync } from 'node:fs';
import { copyOut } from '../shared/bytes.js';
import { withLock } from '../shared/mutex.js';
import { createArenaFile, describeError, LiveArena, outliveArenaFailure, PastArena } from './arena-file.js';
import { arenaPath, decodeFh, encodeFh, EPOCH_LIMIT, extentPages, PAGE, type ArenaRecord } from './arena-format.js';
import { bitmapWords, discardAligned, PAGE_COUNTER_WORDS, PageAllocator, pageAlignedOffset, TRIM_KEEP_PAGES, type PageReleaser } from './pages.js';
import { maxOwnerHandles, OwnerTable, ownerTableWords, refusal, shareLimits, type Holding, type OwnerId, type ShareLimits } from './shares.js';
import { Col, FLAG_SAVED, FLAG_SERVED_START, ROW, SLOT_COUNTER_WORDS, SlotTable } from './slots.js';
import { ShareExceededError, StoreFullError } from './store-errors.js';

// The shared table: [lock, arena failed][slot counters][page counters][slot rows].
const LOCK_INDEX = 0;
/** 1 once an arena write failed: the server logs that once, whichever worker met it. */
const ARENA_FAILED_INDEX = 1;
const SLOT_COUNTERS_INDEX = 2;
const PAGE_COUNTERS_INDEX = SLOT_COUNTERS_INDEX + SLOT_COUNTER_WORDS;
const HEADER_WORDS = PAGE_COUNTERS_INDEX + PAGE_COUNTER_WORDS;

export interface HandleStoreLimits {
  /** Most handles open at once. */
  slots: number;
  /** Size of the (sparse) page area of the arena file. */
  arenaBytes: number;
  /**
   * Most handles one container may hold (and 8 pages of rendering each); absent: no
   * shares. Capped at the store less its reserve (shares.ts).
   */
  ownerHandles?: number;
}

/** 64 Ki pages: about 13,000 open handles at the usual 20 KiB extent (rendering plus headroom). */
export const DEFAULT_HANDLE_LIMITS: HandleStoreLimits = { slots: 65536, arenaBytes: 256 * 1024 * 1024 };
/**
 * What one container may hold by default: as many files as one process may open by
 * default (RLIMIT_NOFILE 1,024), a thirteenth of the default store, which would
 * otherwise fill at about 13,000 (issue 17).
 */
export const DEFAULT_OWNER_HANDLES = 1024;
/** The largest share the default store allows: all of it but the reserve. */
export const MAX_OWNER_HANDLES = maxOwnerHandles(DEFAULT_HANDLE_LIMITS.slots, DEFAULT_HANDLE_LIMITS.arenaBytes / PAGE);
/** An owner for handles of stores without shares. */
export const NO_OWNER: OwnerId = [0, 0, 0, 0];

/** What a worker receives to attach to the store (structured-clone safe). */
export interface HandleStoreMemory {
  table: SharedArrayBuffer;
  bitmap: SharedArrayBuffer;
  /**
   * The contents again, in memory the workers share: a live server serves READs from
   * here and writes the arena file only for a successor. Pages are committed only as
   * they are used, and freed pages are reused first. One page larger than the pages,
   * so that they can start at `contentsOffset`, page aligned (trim gives pages back).
   */
  contents: SharedArrayBuffer;
  contentsOffset: number;
  /** Pages written since trim last gave them back (a bitmap like the allocation one). */
  dirty: SharedArrayBuffer;
  /** What each container holds. */
  owners: SharedArrayBuffer;
  /** Each container's share; absent: none. */
  shares?: ShareLimits;
  /** Distinguishes this server start's handles from a predecessor's. */
  epoch: number;
  /** Directory of the arena files, one per epoch. */
  arenaDir: string;
  /**
   * Why this epoch has no arena file, when it could not be made (a full or failing
   * state directory): its handles are served from memory and do not survive a crash.
   */
  noArena?: string;
}

/**
 * Creates the shared tables and a fresh arena file for `epoch`. With `native`, the
 * contents start page aligned, so trim can give every freed page back, and the
 * arena's usual working set is reserved on disk. When the arena cannot be made (a
 * full or failing state directory), the store serves from memory (`noArena` says why).
 */
export function createHandleStore(arenaDir: string, epoch: number, limits = DEFAULT_HANDLE_LIMITS, native?: Pick<PageReleaser, 'addressOf' | 'reserve'>): HandleStoreMemory {
  const pages = Math.ceil(limits.arenaBytes / PAGE);
  const contents = new SharedArrayBuffer((pages + 1) * PAGE);
  const noArena = createArenaFile(arenaDir, epoch, limits.slots, pages, native);
  return {
    table: new SharedArrayBuffer((HEADER_WORDS + limits.slots * ROW) * 4),
    bitmap: new SharedArrayBuffer(bitmapWords(pages) * 4),
    contents,
    contentsOffset: pageAlignedOffset(contents, native),
    dirty: new SharedArrayBuffer(bitmapWords(pages) * 4),
    // A row per slot: every container holding anything holds a slot, so it never fills.
    owners: new SharedArrayBuffer(ownerTableWords(limits.slots) * 4),
    ...(limits.ownerHandles !== undefined && { shares: shareLimits(limits.slots, pages, limits.ownerHandles) }),
    epoch: epoch % EPOCH_LIMIT,
    arenaDir,
    ...(noArena !== undefined && { noArena }),
  };
}

/** What the store holds for a READ of a handle. */
export type StoredRange =
  /** The requested range of the rendering (empty at or past its end). */
  | { kind: 'range'; nodeId: bigint; bytes: Buffer }
  /**
   * A predecessor's handle whose contents never reached its arena: no reader was
   * served a part of them (or the state directory was full), so none is kept.
   */
  | { kind: 'unsaved'; nodeId: bigint }
  /**
   * A predecessor's handle the store knows nothing of: its arena could not be written
   * (a full state directory) or is gone; crash survival was lost for it.
   */
  | { kind: 'untracked' };

/** Whether the start of a handle's rendering had been served before (see markStartServed). */
export interface StartServed {
  nodeId: bigint;
  before: boolean;
}

const UNTRACKED: StoredRange = { kind: 'untracked' };

export class HandleStore {
  private readonly table: Int32Array;
  private readonly slots: SlotTable;
  /** The slot rows (slots.rows), read and written here for extents, lengths and flags. */
  private readonly rows: Int32Array;
  private readonly pages: PageAllocator;
  private readonly owners: OwnerTable;
  private readonly epoch: number;
  /** This epoch's arena file; undefined when it has none (memory.noArena). */
  private readonly arena: LiveArena | undefined;
  private readonly contents: Buffer;
  private readonly past = new Map<number, PastArena | undefined>();

  /**
   * `onArenaFailure` hears, once per server start (whichever worker meets it first),
   * that the arena could not be written: handles go on being served from memory.
   */
  constructor(private readonly memory: HandleStoreMemory, private readonly onArenaFailure: (reason: string) => void = () => undefined) {
    this.table = new Int32Array(memory.table);
    this.rows = this.table.subarray(HEADER_WORDS);
    this.slots = new SlotTable(this.table.subarray(SLOT_COUNTERS_INDEX, SLOT_COUNTERS_INDEX + SLOT_COUNTER_WORDS), this.rows);
    const pageCount = memory.contents.byteLength / PAGE - 1;
    const pageCounters = this.table.subarray(PAGE_COUNTERS_INDEX, PAGE_COUNTERS_INDEX + PAGE_COUNTER_WORDS);
    this.pages = new PageAllocator(pageCounters, new Int32Array(memory.bitmap), new Int32Array(memory.dirty), pageCount);
    this.owners = new OwnerTable(new Int32Array(memory.owners));
    this.epoch = memory.epoch;
    this.contents = Buffer.from(memory.contents, memory.contentsOffset, pageCount * PAGE);
    this.arena = memory.noArena === undefined ? LiveArena.open(memory.arenaDir, memory.epoch, this.slots.count) : undefined;
  }

  /**
   * Stores a new rendering of node `nodeId` for the container `owner` and returns its
   * file handle. Throws ShareExceededError when the container would hold more than its
   * share, StoreFullError when the store has no room for it.
   */
  open(nodeId: bigint, content: Buffer, owner: OwnerId = NO_OWNER): bigint {
    const { slot, gen, page, pages } = this.locked(() => {
      this.admit(owner, { handles: 1, pages: extentPages(content.length) });
      const { slot, gen } = this.slots.claim();
      const row = this.slots.row(slot);
      try {
        this.place(row, nodeId, content.length);
      } catch (err) {
        this.slots.unclaim(slot);
        throw err;
      }
      this.slots.activate(slot, owner);
      this.owners.charge(owner, 1, this.rows[row + Col.PAGES]!);
      return { slot, gen, page: this.rows[row + Col.PAGE]!, pages: this.rows[row + Col.PAGES]! };
    });
    // No one else touches this slot until its handle is returned.
    content.copy(this.contents, page * PAGE);
    try {
      this.writeRecord(slot, { gen, saved: false, page, pages, length: content.length, nodeId });
    } catch (err) {
      this.locked(() => this.free(slot));
      throw err;
    }
    return encodeFh({ epoch: this.epoch, gen, slot });
  }

  /**
   * Notes that the start of the handle's rendering is being served, and says whether
   * it was before. A predecessor's handle counts as served before: this server cannot
   * know what its readers got. Undefined for a handle without a record here.
   */
  markStartServed(fh: bigint): StartServed | undefined {
    const { epoch, gen, slot } = decodeFh(fh);
    if (epoch !== this.epoch) {
      const record = this.pastArena(epoch)?.record(slot, gen);
      return record && { nodeId: record.nodeId, before: true };
    }
    return this.locked(() => {
      const row = this.slots.liveRow(slot, gen);
      if (row === undefined) return undefined;
      const before = (this.rows[row + Col.FLAGS]! & FLAG_SERVED_START) !== 0;
      this.rows[row + Col.FLAGS]! |= FLAG_SERVED_START;
      return { nodeId: this.slots.nodeIdAt(row), before };
    });
  }

  /**
   * Bytes [offset, offset+size) of the handle's rendering, copied into `into(length)`
   * (a READ reply's payload); undefined for a handle nobody issued or that was released.
   */
  read(fh: bigint, offset: number, size: number, into: (length: number) => Buffer = Buffer.allocUnsafe): StoredRange | undefined {
    const { epoch, gen, slot } = decodeFh(fh);
    if (epoch !== this.epoch) {
      const arena = this.pastArena(epoch);
      const record = arena?.record(slot, gen);
      // The kernel sends only handles it holds: one without a record is served anew.
      // Epoch 0 is never given out (freshEpoch): such a handle is no server's.
      if (!arena || !record) return epoch === 0 ? undefined : UNTRACKED;
      if (!record.saved && offset < record.length) return { kind: 'unsaved', nodeId: record.nodeId };
      return { kind: 'range', nodeId: record.nodeId, bytes: arena.range(record, offset, size, into) };
    }
    let unsaved: { record: ArenaRecord; content: Buffer } | undefined;
    const result = this.locked((): StoredRange | undefined => {
      const row = this.slots.liveRow(slot, gen);
      if (row === undefined) return undefined;
      const nodeId = this.slots.nodeIdAt(row);
      const page = this.rows[row + Col.PAGE]!;
      const length = this.rows[row + Col.LENGTH]!;
      const at = page * PAGE;
      // Only a part served leaves a reader needing this very rendering from a
      // successor: the whole of it from offset 0 does not, nor does a READ at the end.
      const part = offset < length && !(offset === 0 && size >= length);
      if (part && !(this.rows[row + Col.FLAGS]! & FLAG_SAVED)) {
        this.rows[row + Col.FLAGS]! |= FLAG_SAVED;
        const record = { gen, saved: true, page, pages: this.rows[row + Col.PAGES]!, length, nodeId };
        unsaved = { record, content: copyOut(this.contents, at, at + length) };
      }
      // A copy: once the lock is released another worker may reuse these pages.
      const from = Math.min(offset, length);
      const to = Math.min(offset + size, length);
      const bytes = into(to - from);
      this.contents.copy(bytes, 0, at + from, at + to);
      return { kind: 'range', nodeId, bytes };
    });
    // Part of the rendering is about to reach a reader: a successor must be able to
    // serve the rest of this very rendering.
    if (unsaved) this.save(slot, unsaved.record, unsaved.content);
    return result;
  }

  /**
   * Replaces the handle's content (a re-rendering). False if the handle is
   * gone or cannot hold it; a larger rendering that takes its container past its share
   * throws ShareExceededError. The caller serves the first part of the new rendering
   * straight away, so it is saved to the arena at once.
   */
  replace(fh: bigint, content: Buffer): boolean {
    const { epoch, gen, slot } = decodeFh(fh);
    if (epoch !== this.epoch) {
      const arena = this.pastArena(epoch);
      const record = arena?.record(slot, gen);
      return arena !== undefined && record !== undefined && arena.rewrite(slot, record, content);
    }
    const placed = this.locked((): ArenaRecord | undefined => {
      const row = this.slots.liveRow(slot, gen);
      if (row === undefined) return undefined;
      const nodeId = this.slots.nodeIdAt(row);
      const owner = this.slots.ownerAt(row);
      const before = this.rows[row + Col.PAGES]!;
      const after = before > 0 && content.length <= before * PAGE ? before : extentPages(content.length);
      if (after > before) this.admit(owner, { handles: 0, pages: after - before });
      this.place(row, nodeId, content.length);
      this.owners.charge(owner, 0, after - before);
      const page = this.rows[row + Col.PAGE]!;
      content.copy(this.contents, page * PAGE);
      this.rows[row + Col.FLAGS]! |= FLAG_SAVED;
      return { gen, saved: true, page, pages: this.rows[row + Col.PAGES]!, length: content.length, nodeId };
    });
    if (placed === undefined) return false;
    this.save(slot, placed, content);
    return true;
  }

  release(fh: bigint): boolean {
    const { epoch, gen, slot } = decodeFh(fh);
    if (epoch !== this.epoch) {
      const arena = this.pastArena(epoch);
      const record = arena?.record(slot, gen);
      if (!arena || !record) return false;
      arena.release(slot, record);
      return true;
    }
    const releasing = this.locked(() => {
      const row = this.slots.liveRow(slot, gen);
      if (row === undefined) return false;
      this.slots.markReleasing(row);
      return true;
    });
    if (!releasing) return false;
    try {
      this.writeRecord(slot, { gen, saved: true, page: 0, pages: 0, length: 0, nodeId: 0n });
    } finally {
      this.locked(() => this.free(slot));
    }
    return true;
  }

  /**
   * Gives back to the kernel the memory and arena space of pages freed since the last
   * trim (a flood of opens that closed), but for `keepPages` above the pages in use,
   * which the usual working set reuses. Run by the server's main thread; the pages are
   * held as if allocated while they are given back, outside the lock. Returns how many.
   */
  trim(native: PageReleaser, keepPages = TRIM_KEEP_PAGES): number {
    const runs = this.locked(() => this.pages.reserveDirtyRuns(this.pages.used() + keepPages));
    try {
      for (const [first, count] of runs) {
        discardAligned(native, this.contents.subarray(first * PAGE, (first + count) * PAGE));
        this.arena?.punchPages(native, first, count);
      }
    } finally {
      this.locked(() => this.pages.returnCleanRuns(runs));
    }
    return runs.reduce((n, [, count]) => n + count, 0);
  }

  /** What the container `owner` holds now. */
  holding(owner: OwnerId): Holding {
    return this.locked(() => this.owners.holding(owner));
  }

  /** Handles currently open in this epoch (for logs and leak checks in tests). */
  openCount(): number {
    return this.locked(() => this.slots.openCount());
  }

  close(): void {
    this.arena?.close();
    for (const arena of this.past.values()) arena?.close();
  }

  private pastArena(epoch: number): PastArena | undefined {
    if (!this.past.has(epoch)) {
      const path = arenaPath(this.memory.arenaDir, epoch);
      this.past.set(epoch, existsSync(path) ? PastArena.open(path) : undefined);
    }
    return this.past.get(epoch);
  }

  /**
   * Writes a slot's record. A full or failing state directory is outlived: the handle
   * is served from memory, and only a successor would miss the record (issue 18).
   */
  private writeRecord(slot: number, record: ArenaRecord): void {
    this.toArena((arena) => arena.writeRecord(slot, record));
  }

  /** Writes a rendering to the arena, then the record that says it is there. */
  private save(slot: number, record: ArenaRecord, content: Buffer): void {
    const saved = this.toArena((arena) => arena.writeContents(record.page, content));
    // Unsaved, a successor renders anew rather than serve pages that are not this rendering.
    this.writeRecord(slot, saved ? record : { ...record, saved: false });
  }

  /** Runs an arena write unless there is no arena; false when it failed (logged once per server). */
  private toArena(write: (arena: LiveArena) => void): boolean {
    const arena = this.arena;
    if (arena === undefined) return false;
    const failure = outliveArenaFailure(() => write(arena));
    if (failure === undefined) return true;
    if (Atomics.compareExchange(this.table, ARENA_FAILED_INDEX, 0, 1) === 0) this.onArenaFailure(describeError(failure));
    return false;
  }

  /** Throws unless `owner` may take `want` more (see shares.ts). Under the lock. */
  private admit(owner: OwnerId, want: Holding): void {
    const limits = this.memory.shares;
    if (limits === undefined) return;
    const used = { handles: this.slots.used(), pages: this.pages.used() };
    const held = this.owners.holding(owner);
    const why = refusal(limits, held, want, used, { slots: this.slots.count, pages: this.pages.count });
    if (why === 'share') throw new ShareExceededError(held, limits);
    if (why === 'full') throw new StoreFullError(`the store is full but for the reserve of containers that hold little, and this one holds ${held.handles} files`);
  }

  /**
   * Gives the slot an extent that holds `length` bytes (moving to a larger one if
   * needed) and records node and length. Under the lock.
   */
  private place(row: number, nodeId: bigint, length: number): void {
    // Every live handle owns at least one page, even for an empty rendering: a record
    // with no pages reads as released to a successor (arena-file.ts: PastArena).
    const pages = this.rows[row + Col.PAGES]!;
    if (pages === 0 || length > pages * PAGE) {
      const needed = extentPages(length);
      const page = this.pages.allocate(needed);
      this.pages.free(this.rows[row + Col.PAGE]!, pages);
      this.rows[row + Col.PAGE] = page;
      this.rows[row + Col.PAGES] = needed;
    }
    this.slots.setNode(row, nodeId, length);
  }

  /** Frees a slot and its pages, and takes them off its container's holding. Under the lock. */
  private free(slot: number): void {
    const row = this.slots.row(slot);
    const pages = this.rows[row + Col.PAGES]!;
    this.pages.free(this.rows[row + Col.PAGE]!, pages);
    this.owners.charge(this.slots.ownerAt(row), -1, -pages);
    this.slots.free(slot);
  }

  private locked<T>(fn: () => T): T {
    return withLock(this.table, LOCK_INDEX, fn);
  }
}
