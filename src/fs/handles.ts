// Open file handles and their rendered snapshots. All serving workers read one
// /dev/fuse queue, so the READ or RELEASE of a handle usually reaches another worker
// than the OPEN that rendered it; and after a server crash or reload the kernel sends
// a predecessor's handles to the new server (reference §7). So snapshots live in an
// arena FILE (one per server start, its "epoch"), which outlives the process:
//
//   [header page][directory: one 24-byte record per slot][pages of 4 KiB of contents]
//
// The slot table and page bitmap that say what is free live in SharedArrayBuffers
// shared by the workers of one server, guarded by one Atomics mutex, which is never
// held across a system call. So does what each container holds (shares.ts): one
// container may hold only its share of handles and pages (issue 17), and pages freed
// by a flood of opens are given back to the kernel (trim).
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

import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CgprocfsError, systemErrorCode } from '../errors.js';
import { copyOut } from '../shared/bytes.js';
import { CREATE_NEW, WRITE_NOFOLLOW } from '../shared/private-files.js';
import { withLock } from '../shared/mutex.js';
import { maxOwnerHandles, OwnerTable, ownerTableWords, refusal, shareLimits, type Holding, type OwnerId, type ShareLimits } from './shares.js';

const PAGE = 4096;
const RECORD = 24;
/** First 4 KiB of an arena file: magic and slot count, so a successor can read it with any limits. */
const MAGIC = 0x43475046; // "CGPF"
const HEADER_BYTES = PAGE;
const LOCK_INDEX = 0;
const SLOT_HINT_INDEX = 1;
const PAGE_HINT_INDEX = 2;
/** Slots not free, and pages allocated: what the shares are measured against. */
const USED_SLOTS_INDEX = 3;
const USED_PAGES_INDEX = 4;
/** 1 once an arena write failed: the server logs that once, whichever worker met it. */
const ARENA_FAILED_INDEX = 5;
const HEADER_WORDS = 6;

/** Slot row in the shared table: generation, state, flags, first page, page count, byte length, node id, owner (4 words). */
const Col = { GEN: 0, STATE: 1, FLAGS: 2, PAGE: 3, PAGES: 4, LENGTH: 5, NODE_LO: 6, NODE_HI: 7, OWNER: 8 } as const;
const ROW = 12;
const FREE = 0;
const USED = 1;
/** Released by the kernel; its record is being written, then the slot is free. */
const RELEASING = 2;
/** The first READ at offset 0 was served from the OPEN's rendering. */
const FLAG_SERVED_START = 1;
/** The current rendering is in the arena file. */
const FLAG_SAVED = 2;
/**
 * In a record's generation word, above the 24 generation bits: the contents are not in
 * the arena. Records of earlier versions never set it: theirs always are.
 */
const RECORD_UNSAVED = 1 << 24;

// fh = epoch (16 bits) | generation (24 bits) | slot (24 bits)
const SLOT_BITS = 24n;
const GEN_BITS = 24n;
const SLOT_MASK = (1n << SLOT_BITS) - 1n;
const GEN_MASK = (1n << GEN_BITS) - 1n;
export const EPOCH_LIMIT = 0x10000;

/**
 * A snapshot gets room to grow: after a restart the successor can only re-render an
 * old handle in place (the old server's allocator is gone). Unwritten pages of the
 * sparse arena file cost nothing.
 */
const HEADROOM_BYTES = 16 * 1024;

/** The pages a rendering of `length` bytes is given: room to grow to twice its size, or by HEADROOM_BYTES. */
function extentPages(length: number): number {
  return Math.ceil(Math.max(2 * length, length + HEADROOM_BYTES) / PAGE);
}

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

export function arenaPath(arenaDir: string, epoch: number): string {
  return join(arenaDir, `handles-${epoch}.arena`);
}

/** Where contents start: after the header page and the directory, page aligned. */
function dataStart(slots: number): number {
  return HEADER_BYTES + Math.ceil((slots * RECORD) / PAGE) * PAGE;
}

const recordOffset = (slot: number): number => HEADER_BYTES + slot * RECORD;
/** Records read at a time when a whole directory is searched (64 KiB). */
const DIRECTORY_CHUNK_RECORDS = 2730;

/**
 * The system calls that give pages back (native/libc.ts), passed in by the server's
 * main thread: the serving workers never load the native module.
 */
export interface PageReleaser {
  /** Where a buffer's bytes are in memory (the same in every thread of the process). */
  addressOf(buffer: Uint8Array): bigint;
  /** madvise(MADV_DONTNEED) of whole pages. */
  discardPages(buffer: Uint8Array): void;
  /** fallocate(PUNCH_HOLE) of a file's range. */
  punchHole(fd: number, offset: number, length: number): void;
  /** fallocate(0) of a file's range: its blocks are taken now, so writing there never meets ENOSPC. */
  reserve(fd: number, offset: number, length: number): void;
}

/** Free pages trim leaves committed above those in use: the usual working set reuses them at no cost. */
export const TRIM_KEEP_PAGES = 1024;

/** How far into `memory` its first page-aligned byte is; 0 without a way to tell. */
function pageAlignedOffset(memory: SharedArrayBuffer, native?: Pick<PageReleaser, 'addressOf'>): number {
  if (native === undefined) return 0;
  return Number((BigInt(PAGE) - (native.addressOf(new Uint8Array(memory)) % BigInt(PAGE))) % BigInt(PAGE));
}

/**
 * Errors of writing the arena that a server outlives by serving from memory (issue 18):
 * a full or failing state directory. Anything else (EEXIST: an epoch collision) is not.
 */
const ARENA_WRITE_ERRORS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG', 'EROFS', 'ENOMEM']);

export function isArenaWriteError(err: unknown): boolean {
  return ARENA_WRITE_ERRORS.has(systemErrorCode(err) ?? '');
}

/**
 * Space taken at once in a new arena file, so that the usual working set never meets
 * a full state directory: the header, the first directory pages (slots are taken
 * lowest first) and the first content pages (reused lowest first too).
 */
export const RESERVED_DIRECTORY_PAGES = 4;
export const RESERVED_CONTENT_PAGES = 64;

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
    bitmap: new SharedArrayBuffer(Math.ceil(pages / 32) * 4),
    contents,
    contentsOffset: pageAlignedOffset(contents, native),
    dirty: new SharedArrayBuffer(Math.ceil(pages / 32) * 4),
    // A row per slot: every container holding anything holds a slot, so it never fills.
    owners: new SharedArrayBuffer(ownerTableWords(limits.slots) * 4),
    ...(limits.ownerHandles !== undefined && { shares: shareLimits(limits.slots, pages, limits.ownerHandles) }),
    epoch: epoch % EPOCH_LIMIT,
    arenaDir,
    ...(noArena !== undefined && { noArena }),
  };
}

/** Writes a new arena file; undefined when done, else why it could not be (the file is then removed). */
function createArenaFile(arenaDir: string, epoch: number, slots: number, pages: number, native?: Pick<PageReleaser, 'reserve'>): string | undefined {
  const path = arenaPath(arenaDir, epoch);
  let fd: number;
  try {
    mkdirSync(arenaDir, { recursive: true, mode: 0o700 });
    // O_EXCL: never truncate another server's arena, whatever epoch collision may happen.
    fd = openSync(path, CREATE_NEW, 0o600);
  } catch (err) {
    if (!isArenaWriteError(err)) throw err;
    return describeError(err);
  }
  try {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(slots, 4);
    writeSync(fd, header, 0, header.length, 0);
    ftruncateSync(fd, dataStart(slots) + pages * PAGE);
    if (native !== undefined) {
      reserveUnlessUnsupported(native, fd, HEADER_BYTES, Math.min(RESERVED_DIRECTORY_PAGES * PAGE, dataStart(slots) - HEADER_BYTES));
      reserveUnlessUnsupported(native, fd, dataStart(slots), Math.min(RESERVED_CONTENT_PAGES, pages) * PAGE);
    }
    return undefined;
  } catch (err) {
    if (!isArenaWriteError(err)) throw err;
    unlinkSync(path);
    return describeError(err);
  } finally {
    closeSync(fd);
  }
}

/** A filesystem without fallocate(2) gets no reservation; a full one fails the arena. */
function reserveUnlessUnsupported(native: Pick<PageReleaser, 'reserve'>, fd: number, offset: number, length: number): void {
  try {
    native.reserve(fd, offset, length);
  } catch (err) {
    if (systemErrorCode(err) !== 'EOPNOTSUPP' && systemErrorCode(err) !== 'ENOSYS') throw err;
  }
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The epochs that have an arena file in `arenaDir`. */
export function arenaEpochs(arenaDir: string): number[] {
  try {
    return readdirSync(arenaDir)
      .map((name) => /^handles-(\d+)\.arena$/.exec(name)?.[1])
      .filter((epoch) => epoch !== undefined)
      .map(Number);
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Random picks of an epoch before a scan of them all: a nearly full directory still gets one, in bounded time. */
const RANDOM_EPOCH_PICKS = 64;

/**
 * An epoch no arena file uses yet, nor a server in `inUse` (one serving from memory has
 * no arena file). Bounded: whoever can write the directory may fill every name
 * (issue 18), and then this throws NAMES_EXHAUSTED instead of looping.
 */
export function freshEpoch(arenaDir: string, inUse: Iterable<number> = [], random: () => number = Math.random): number {
  const used = new Set([...arenaEpochs(arenaDir), ...inUse]);
  const pick = (): number => Math.floor(random() * (EPOCH_LIMIT - 1));
  for (let i = 0; i < RANDOM_EPOCH_PICKS; i++) {
    const epoch = 1 + pick();
    if (!used.has(epoch)) return epoch;
  }
  const start = pick();
  for (let i = 0; i < EPOCH_LIMIT - 1; i++) {
    const epoch = 1 + ((start + i) % (EPOCH_LIMIT - 1));
    if (!used.has(epoch)) return epoch;
  }
  throw new CgprocfsError('NAMES_EXHAUSTED', `all ${EPOCH_LIMIT - 1} handle epochs are taken by arena files in ${arenaDir} that hold open handles: no server can start until some are released or removed`);
}

/**
 * Deletes the arena files of epochs not in `live` that hold no open handle: their
 * server is gone and the kernel has released everything it handed out. With `all`,
 * every arena not in `live` goes (the connection is gone, so no handle can come back).
 */
export function collectIdleArenas(arenaDir: string, live: ReadonlySet<number>, all = false): number[] {
  const removed: number[] = [];
  for (const epoch of arenaEpochs(arenaDir)) {
    if (live.has(epoch)) continue;
    const path = arenaPath(arenaDir, epoch);
    if (all || !arenaHasLiveRecords(path)) {
      try {
        unlinkSync(path);
        removed.push(epoch);
      } catch (err) {
        // Another collector (a concurrent start on a shared state dir) got there first.
        if (systemErrorCode(err) !== 'ENOENT') throw err;
      }
    }
  }
  return removed;
}

function arenaHasLiveRecords(path: string): boolean {
  const arena = PastArena.open(path);
  if (!arena) return false;
  try {
    return arena.hasLiveRecords();
  } finally {
    arena.close();
  }
}

/** What a READ gets: the bytes asked for, or the word that the reader rewound. */
export interface ReadResult {
  nodeId: bigint;
  /** The requested range of the rendering (empty at or past its end, and on a rewind). */
  bytes: Buffer;
  /**
   * Render anew, replace() and serve the range from the new rendering: a READ at
   * offset 0 after the first one (a rewind); a predecessor's handle at offset 0 (a
   * rewind, or a re-sent first read, and a new rendering serves both), or at any
   * offset when its contents never reached the arena (no reader was served a part).
   */
  rewind: boolean;
  /**
   * A predecessor's handle the store knows nothing of: its arena could not be written
   * (a full state directory) or is gone. Render the requested node anew and serve the
   * range from that rendering; nothing is kept (crash survival was lost for it).
   */
  untracked?: true;
}

/** What READ of a predecessor's handle without a record gets (see ReadResult.untracked). */
const UNTRACKED: ReadResult = { nodeId: 0n, bytes: Buffer.alloc(0), rewind: true, untracked: true };

/** Raised when the store has no slot or no arena room left. */
export class StoreFullError extends Error {}

/** Raised when a container would hold more than its share; says what it holds. */
export class ShareExceededError extends Error {
  constructor(readonly held: Holding, readonly limits: ShareLimits) {
    super(`this container holds ${held.handles} open files (${held.pages} pages of renderings); its share is ${limits.ownerHandles}`);
  }
}

interface Record {
  gen: number;
  /** False when the contents never reached the arena. */
  saved: boolean;
  page: number;
  pages: number;
  length: number;
  nodeId: bigint;
}

function decodeRecord(buf: Buffer, at = 0): Record {
  const word = buf.readUInt32LE(at);
  return {
    gen: word & Number(GEN_MASK),
    saved: (word & RECORD_UNSAVED) === 0,
    page: buf.readUInt32LE(at + 4),
    pages: buf.readUInt32LE(at + 8),
    length: buf.readUInt32LE(at + 12),
    nodeId: buf.readBigUInt64LE(at + 16),
  };
}

/** The record's bytes, in `buf` if given (a store writes its records from one scratch buffer). */
function encodeRecord(record: Record, buf = Buffer.alloc(RECORD)): Buffer {
  buf.writeUInt32LE((record.gen | (record.saved ? 0 : RECORD_UNSAVED)) >>> 0, 0);
  buf.writeUInt32LE(record.page, 4);
  buf.writeUInt32LE(record.pages, 8);
  buf.writeUInt32LE(record.length, 12);
  buf.writeBigUInt64LE(record.nodeId, 16);
  return buf;
}

/** Bytes [offset, offset+size) of a rendering of `length` bytes stored at `at` in `fd`. */
function readRange(fd: number, at: number, length: number, offset: number, size: number): Buffer {
  const count = Math.max(0, Math.min(size, length - offset));
  const buf = Buffer.allocUnsafe(count);
  if (count > 0) readSync(fd, buf, 0, count, at + offset);
  return buf;
}

function decodeFh(fh: bigint): { epoch: number; gen: number; slot: number } {
  return {
    epoch: Number(fh >> (SLOT_BITS + GEN_BITS)),
    gen: Number((fh >> SLOT_BITS) & GEN_MASK),
    slot: Number(fh & SLOT_MASK),
  };
}

/** Runs an arena write; undefined when it met a full or failing state directory, which is outlived. */
function outliveArenaFailure(write: () => void): unknown {
  try {
    write();
    return undefined;
  } catch (err) {
    if (!isArenaWriteError(err)) throw err;
    return err;
  }
}

/** An arena file of a predecessor: read its records, re-render in place, release. */
class PastArena {
  private constructor(private readonly fd: number, private readonly slots: number) {}

  /** Undefined when the file is gone or is not an arena. */
  static open(path: string): PastArena | undefined {
    let fd: number;
    try {
      fd = openSync(path, WRITE_NOFOLLOW);
    } catch (err) {
      // ELOOP: a symlink planted at an arena's name is no arena (issue 18).
      if (systemErrorCode(err) === 'ENOENT' || systemErrorCode(err) === 'ELOOP') return undefined;
      throw err;
    }
    const header = Buffer.alloc(8);
    // A slot count a file handle cannot name is no arena of ours (nor a reason to read gigabytes).
    if (readSync(fd, header, 0, 8, 0) < 8 || header.readUInt32LE(0) !== MAGIC || header.readUInt32LE(4) > Number(SLOT_MASK) + 1) {
      closeSync(fd);
      return undefined;
    }
    return new PastArena(fd, header.readUInt32LE(4));
  }

  record(slot: number, gen: number): Record | undefined {
    if (slot >= this.slots) return undefined;
    const buf = Buffer.alloc(RECORD);
    if (readSync(this.fd, buf, 0, RECORD, recordOffset(slot)) < RECORD) return undefined;
    const record = decodeRecord(buf);
    return record.gen === gen && record.pages > 0 ? record : undefined;
  }

  hasLiveRecords(): boolean {
    const chunk = Buffer.alloc(DIRECTORY_CHUNK_RECORDS * RECORD);
    for (let first = 0; first < this.slots; first += DIRECTORY_CHUNK_RECORDS) {
      const want = Math.min(DIRECTORY_CHUNK_RECORDS, this.slots - first) * RECORD;
      const got = readSync(this.fd, chunk, 0, want, recordOffset(first));
      for (let at = 0; at + RECORD <= got; at += RECORD) {
        if (decodeRecord(chunk, at).pages > 0) return true;
      }
      if (got < want) return false; // the rest of the directory was never written
    }
    return false;
  }

  range(record: Record, offset: number, size: number): Buffer {
    return readRange(this.fd, dataStart(this.slots) + record.page * PAGE, record.length, offset, size);
  }

  /**
   * False when the extent cannot hold `content`. The record says "not saved" while the
   * contents are written: if they cannot be (a full state directory), later READs
   * render anew instead of serving a mix of two renderings.
   */
  rewrite(slot: number, record: Record, content: Buffer): boolean {
    if (content.length > record.pages * PAGE) return false;
    outliveArenaFailure(() => {
      writeSync(this.fd, encodeRecord({ ...record, saved: false, length: content.length }), 0, RECORD, recordOffset(slot));
      writeSync(this.fd, content, 0, content.length, dataStart(this.slots) + record.page * PAGE);
      writeSync(this.fd, encodeRecord({ ...record, saved: true, length: content.length }), 0, RECORD, recordOffset(slot));
    });
    return true;
  }

  /** A record that cannot be written keeps the arena until the connection ends: nothing worse. */
  release(slot: number, record: Record): void {
    outliveArenaFailure(() => writeSync(this.fd, encodeRecord({ ...record, pages: 0 }), 0, RECORD, recordOffset(slot)));
  }

  close(): void {
    closeSync(this.fd);
  }
}

export class HandleStore {
  private readonly table: Int32Array;
  private readonly bitmap: Int32Array;
  private readonly dirty: Int32Array;
  private readonly owners: OwnerTable;
  private readonly slots: number;
  private readonly pages: number;
  private readonly epoch: number;
  /** The arena file; undefined when this epoch has none (memory.noArena). */
  private readonly fd: number | undefined;
  private readonly contentStart: number;
  private readonly contents: Buffer;
  private readonly past = new Map<number, PastArena | undefined>();
  /** Records are written synchronously, one at a time per store (one store per worker). */
  private readonly recordScratch = Buffer.alloc(RECORD);

  /**
   * `onArenaFailure` hears, once per server start (whichever worker meets it first),
   * that the arena could not be written: handles go on being served from memory.
   */
  constructor(private readonly memory: HandleStoreMemory, private readonly onArenaFailure: (reason: string) => void = () => undefined) {
    this.table = new Int32Array(memory.table);
    this.bitmap = new Int32Array(memory.bitmap);
    this.dirty = new Int32Array(memory.dirty);
    this.owners = new OwnerTable(new Int32Array(memory.owners));
    this.slots = (this.table.length - HEADER_WORDS) / ROW;
    this.pages = memory.contents.byteLength / PAGE - 1;
    this.epoch = memory.epoch;
    this.contentStart = dataStart(this.slots);
    this.contents = Buffer.from(memory.contents, memory.contentsOffset, this.pages * PAGE);
    this.fd = memory.noArena === undefined ? openSync(arenaPath(memory.arenaDir, memory.epoch), WRITE_NOFOLLOW) : undefined;
  }

  /**
   * Stores a new rendering of node `nodeId` for the container `owner` and returns its
   * file handle. Throws ShareExceededError when the container would hold more than its
   * share, StoreFullError when the store has no room for it.
   */
  open(nodeId: bigint, content: Buffer, owner: OwnerId = NO_OWNER): bigint {
    const { slot, gen, page, pages } = this.locked(() => {
      const needed = extentPages(content.length);
      this.admit(owner, { handles: 1, pages: needed });
      const slot = this.findFreeSlot();
      const row = this.row(slot);
      const gen = ((this.table[row + Col.GEN]! + 1) & Number(GEN_MASK)) || 1;
      this.table[row + Col.GEN] = gen;
      this.table[row + Col.FLAGS] = 0;
      this.table[row + Col.PAGES] = 0;
      try {
        this.place(row, nodeId, content.length);
      } catch (err) {
        this.table[row + Col.STATE] = FREE;
        throw err;
      }
      this.table[row + Col.STATE] = USED;
      this.table[USED_SLOTS_INDEX]!++;
      for (let i = 0; i < 4; i++) this.table[row + Col.OWNER + i] = owner[i]!;
      this.owners.charge(owner, 1, this.table[row + Col.PAGES]!);
      return { slot, gen, page: this.table[row + Col.PAGE]!, pages: this.table[row + Col.PAGES]! };
    });
    // No one else touches this slot until its handle is returned.
    content.copy(this.contents, page * PAGE);
    try {
      this.writeRecord(slot, { gen, saved: false, page, pages, length: content.length, nodeId });
    } catch (err) {
      this.locked(() => this.free(slot));
      throw err;
    }
    return (BigInt(this.epoch) << (SLOT_BITS + GEN_BITS)) | (BigInt(gen) << SLOT_BITS) | BigInt(slot);
  }

  /** Serves a READ; undefined for a handle nobody issued or that was released. */
  read(fh: bigint, offset: number, size: number): ReadResult | undefined {
    const { epoch, gen, slot } = decodeFh(fh);
    if (epoch !== this.epoch) {
      const arena = this.pastArena(epoch);
      const record = arena?.record(slot, gen);
      // The kernel sends only handles it holds: one without a record is served anew.
      // Epoch 0 is never given out (freshEpoch): such a handle is no server's.
      if (!arena || !record) return epoch === 0 ? undefined : UNTRACKED;
      if (offset === 0 || (!record.saved && offset < record.length)) return { nodeId: record.nodeId, bytes: Buffer.alloc(0), rewind: true };
      return { nodeId: record.nodeId, bytes: arena.range(record, offset, size), rewind: false };
    }
    let unsaved: { record: Record; content: Buffer } | undefined;
    const result = this.locked((): ReadResult | undefined => {
      const row = this.liveRow(fh);
      if (row === undefined) return undefined;
      const nodeId = this.nodeIdAt(row);
      if (offset === 0) {
        if (this.table[row + Col.FLAGS]! & FLAG_SERVED_START) return { nodeId, bytes: Buffer.alloc(0), rewind: true };
        this.table[row + Col.FLAGS]! |= FLAG_SERVED_START;
      }
      const page = this.table[row + Col.PAGE]!;
      const length = this.table[row + Col.LENGTH]!;
      const at = page * PAGE;
      // Only a part served leaves a reader needing this very rendering from a
      // successor: the whole of it from offset 0 does not, nor does a READ at the end.
      const part = offset < length && !(offset === 0 && size >= length);
      if (part && !(this.table[row + Col.FLAGS]! & FLAG_SAVED)) {
        this.table[row + Col.FLAGS]! |= FLAG_SAVED;
        const record = { gen, saved: true, page, pages: this.table[row + Col.PAGES]!, length, nodeId };
        unsaved = { record, content: copyOut(this.contents, at, at + length) };
      }
      // A copy: once the lock is released another worker may reuse these pages. When
      // the whole rendering was just copied for the arena, the range is a view of it.
      const from = Math.min(offset, length);
      const to = Math.min(offset + size, length);
      const bytes = unsaved ? unsaved.content.subarray(from, to) : copyOut(this.contents, at + from, at + to);
      return { nodeId, bytes, rewind: false };
    });
    // Part of the rendering is about to reach a reader: a successor must be able to
    // serve the rest of this very rendering.
    if (unsaved) this.save(slot, unsaved.record, unsaved.content);
    return result;
  }

  /**
   * Replaces the handle's content (a re-rendering on rewind). False if the handle is
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
    const placed = this.locked(() => {
      const row = this.liveRow(fh);
      if (row === undefined) return undefined;
      const nodeId = this.nodeIdAt(row);
      const owner = this.ownerAt(row);
      const before = this.table[row + Col.PAGES]!;
      const after = before > 0 && content.length <= before * PAGE ? before : extentPages(content.length);
      if (after > before) this.admit(owner, { handles: 0, pages: after - before });
      this.place(row, nodeId, content.length);
      this.owners.charge(owner, 0, after - before);
      const page = this.table[row + Col.PAGE]!;
      content.copy(this.contents, page * PAGE);
      this.table[row + Col.FLAGS]! |= FLAG_SAVED;
      return { gen, saved: true, page, pages: this.table[row + Col.PAGES]!, length: content.length, nodeId };
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
      const row = this.liveRow(fh);
      if (row === undefined) return false;
      // Not free yet: the slot's record must be written before another handle may take it.
      this.table[row + Col.STATE] = RELEASING;
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
    const runs = this.locked(() => this.reserveDirtyRuns(this.table[USED_PAGES_INDEX]! + keepPages));
    try {
      for (const [first, count] of runs) {
        discardAligned(native, this.contents.subarray(first * PAGE, (first + count) * PAGE));
        if (this.fd !== undefined) native.punchHole(this.fd, this.contentStart + first * PAGE, count * PAGE);
      }
    } finally {
      this.locked(() => {
        for (const [first, count] of runs) {
          this.setPages(first, count, false);
          for (let p = first; p < first + count; p++) this.dirty[p >> 5]! &= ~(1 << (p & 31));
          if (first < this.table[PAGE_HINT_INDEX]!) this.table[PAGE_HINT_INDEX] = first;
        }
      });
    }
    return runs.reduce((n, [, count]) => n + count, 0);
  }

  /** What the container `owner` holds now. */
  holding(owner: OwnerId): Holding {
    return this.locked(() => this.owners.holding(owner));
  }

  /** Handles currently open in this epoch (for logs and leak checks in tests). */
  openCount(): number {
    return this.locked(() => {
      let n = 0;
      for (let slot = 0; slot < this.slots; slot++) if (this.table[this.row(slot) + Col.STATE] === USED) n++;
      return n;
    });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    for (const arena of this.past.values()) arena?.close();
  }

  private pastArena(epoch: number): PastArena | undefined {
    if (!this.past.has(epoch)) {
      const path = arenaPath(this.memory.arenaDir, epoch);
      this.past.set(epoch, existsSync(path) ? PastArena.open(path) : undefined);
    }
    return this.past.get(epoch);
  }

  private row(slot: number): number {
    return HEADER_WORDS + slot * ROW;
  }

  private liveRow(fh: bigint): number | undefined {
    const { gen, slot } = decodeFh(fh);
    if (slot >= this.slots) return undefined;
    const row = this.row(slot);
    if (this.table[row + Col.STATE] !== USED || this.table[row + Col.GEN] !== gen) return undefined;
    return row;
  }

  private nodeIdAt(row: number): bigint {
    return (BigInt(this.table[row + Col.NODE_HI]! >>> 0) << 32n) | BigInt(this.table[row + Col.NODE_LO]! >>> 0);
  }

  /**
   * Writes a slot's record. A full or failing state directory is outlived: the handle
   * is served from memory, and only a successor would miss the record (issue 18).
   */
  private writeRecord(slot: number, record: Record): void {
    this.toArena((fd) => writeSync(fd, encodeRecord(record, this.recordScratch), 0, RECORD, recordOffset(slot)));
  }

  /** Runs an arena write unless there is no arena; false when it failed (logged once per server). */
  private toArena(write: (fd: number) => void): boolean {
    const fd = this.fd;
    if (fd === undefined) return false;
    const failure = outliveArenaFailure(() => write(fd));
    if (failure === undefined) return true;
    if (Atomics.compareExchange(this.table, ARENA_FAILED_INDEX, 0, 1) === 0) this.onArenaFailure(describeError(failure));
    return false;
  }

  /** The container a live slot's handle was opened for. */
  private ownerAt(row: number): OwnerId {
    const t = this.table;
    return [t[row + Col.OWNER]!, t[row + Col.OWNER + 1]!, t[row + Col.OWNER + 2]!, t[row + Col.OWNER + 3]!];
  }

  /** Throws unless `owner` may take `want` more (see shares.ts). Under the lock. */
  private admit(owner: OwnerId, want: Holding): void {
    const limits = this.memory.shares;
    if (limits === undefined) return;
    const used = { handles: this.table[USED_SLOTS_INDEX]!, pages: this.table[USED_PAGES_INDEX]! };
    const held = this.owners.holding(owner);
    const why = refusal(limits, held, want, used, { slots: this.slots, pages: this.pages });
    if (why === 'share') throw new ShareExceededError(held, limits);
    if (why === 'full') throw new StoreFullError(`the store is full but for the reserve of containers that hold little, and this one holds ${held.handles} files`);
  }

  /**
   * Gives the slot an extent that holds `length` bytes (moving to a larger one if
   * needed) and records node and length. Under the lock.
   */
  private place(row: number, nodeId: bigint, length: number): void {
    // Every live handle owns at least one page, even for an empty rendering: a record
    // with no pages reads as released to a successor (arenaHasLiveRecords, PastArena).
    const pages = this.table[row + Col.PAGES]!;
    if (pages === 0 || length > pages * PAGE) {
      const needed = extentPages(length);
      const page = this.allocatePages(needed);
      this.freePages(this.table[row + Col.PAGE]!, pages);
      this.table[row + Col.PAGE] = page;
      this.table[row + Col.PAGES] = needed;
    }
    this.table[row + Col.NODE_LO] = Number(nodeId & 0xffffffffn) | 0;
    this.table[row + Col.NODE_HI] = Number(nodeId >> 32n) | 0;
    this.table[row + Col.LENGTH] = length;
  }

  /** Writes a rendering to the arena, then the record that says it is there. */
  private save(slot: number, record: Record, content: Buffer): void {
    const saved = this.toArena((fd) => writeSync(fd, content, 0, content.length, this.contentStart + record.page * PAGE));
    // Unsaved, a successor renders anew rather than serve pages that are not this rendering.
    this.writeRecord(slot, saved ? record : { ...record, saved: false });
  }

  /** Frees a slot and its pages, and takes them off its container's holding. Under the lock. */
  private free(slot: number): void {
    const row = this.row(slot);
    const pages = this.table[row + Col.PAGES]!;
    this.freePages(this.table[row + Col.PAGE]!, pages);
    this.owners.charge(this.ownerAt(row), -1, -pages);
    this.table[row + Col.PAGES] = 0;
    this.table[row + Col.STATE] = FREE;
    this.table[USED_SLOTS_INDEX]!--;
    if (slot < this.table[SLOT_HINT_INDEX]!) this.table[SLOT_HINT_INDEX] = slot;
  }

  /**
   * The lowest free slot (no slot below the hint is free): the records in use stay in
   * the first, reserved pages of the arena's directory (issue 18).
   */
  private findFreeSlot(): number {
    for (let slot = this.table[SLOT_HINT_INDEX]!; slot < this.slots; slot++) {
      if (this.table[this.row(slot) + Col.STATE] === FREE) {
        this.table[SLOT_HINT_INDEX] = slot + 1;
        return slot;
      }
    }
    throw new StoreFullError(`all ${this.slots} file handles are in use`);
  }

  /** Runs of free, dirty pages from `from` on, marked used so nobody takes them meanwhile. Under the lock. */
  private reserveDirtyRuns(from: number): [number, number][] {
    const runs: [number, number][] = [];
    for (let word = from >> 5; word < this.dirty.length; word++) {
      const candidates = this.dirty[word]! & ~this.bitmap[word]!;
      if (candidates === 0) continue;
      for (let bit = 0; bit < 32; bit++) {
        const page = word * 32 + bit;
        if ((candidates & (1 << bit)) === 0 || page < from || page >= this.pages) continue;
        const last = runs.at(-1);
        if (last !== undefined && last[0] + last[1] === page) last[1]++;
        else runs.push([page, 1]);
      }
    }
    for (const [first, count] of runs) this.setPages(first, count, true);
    return runs;
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

  /** First fit over the page bitmap from the lowest page that may be free. */
  private allocatePages(count: number): number {
    const start = this.table[PAGE_HINT_INDEX]!;
    let run = 0;
    // A free gap too small for this request stays the place the next search starts.
    let gap: number | undefined;
    for (let i = 0; i < this.pages + count; i++) {
      const page = (start + i) % this.pages;
      if (page === 0) run = 0; // runs do not wrap around the end
      run = this.pageUsed(page) ? 0 : run + 1;
      if (run === count) {
        const first = page - count + 1;
        this.setPages(first, count, true);
        this.table[USED_PAGES_INDEX]! += count;
        for (let p = first; p < first + count; p++) this.dirty[p >> 5]! |= 1 << (p & 31);
        this.table[PAGE_HINT_INDEX] = gap !== undefined && gap < first ? gap : (page + 1) % this.pages;
        return first;
      }
      if (run === 1) gap ??= page;
    }
    throw new StoreFullError(`no room for ${count * PAGE} bytes of rendered content`);
  }

  /**
   * Freed pages are reused first (the next search starts at the lowest free page), so
   * the arena's working set stays as small as the renderings open at once instead of
   * sweeping through the whole sparse file.
   */
  private freePages(first: number, count: number): void {
    if (count === 0) return;
    this.setPages(first, count, false);
    this.table[USED_PAGES_INDEX]! -= count;
    if (first < this.table[PAGE_HINT_INDEX]!) this.table[PAGE_HINT_INDEX] = first;
  }

  private locked<T>(fn: () => T): T {
    return withLock(this.table, LOCK_INDEX, fn);
  }
}

/** Discards the whole pages inside `view` (its ends need not be page aligned). */
function discardAligned(native: PageReleaser, view: Uint8Array): void {
  const address = native.addressOf(view);
  const page = BigInt(PAGE);
  const start = Number(((address + page - 1n) / page) * page - address);
  const end = Number(((address + BigInt(view.byteLength)) / page) * page - address);
  if (end > start) native.discardPages(view.subarray(start, end));
}
