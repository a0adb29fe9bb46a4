// The arena files of the state directory (issue 18): creating one per server start
// (O_EXCL, its working set reserved), this server's writes to it, a predecessor's
// arena read and re-rendered in place, free epochs, and collecting idle arenas.
// A full or failing state directory is outlived: a write that meets it says so.

import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { CgprocfsError, systemErrorCode } from '../errors.js';
import { CREATE_NEW, WRITE_NOFOLLOW } from '../shared/private-files.js';
import {
  arenaEpochOf,
  arenaPath,
  dataStart,
  decodeHeader,
  decodeRecord,
  DIRECTORY_CHUNK_RECORDS,
  encodeHeader,
  encodeRecord,
  EPOCH_LIMIT,
  HEADER_BYTES,
  PAGE,
  RECORD,
  recordOffset,
  type ArenaRecord,
} from './arena-format.js';
import type { PageReleaser } from './pages.js';

/**
 * Errors of writing the arena that a server outlives by serving from memory (issue 18):
 * a full or failing state directory. Anything else (EEXIST: an epoch collision) is not.
 */
const ARENA_WRITE_ERRORS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG', 'EROFS', 'ENOMEM']);

export function isArenaWriteError(err: unknown): boolean {
  return ARENA_WRITE_ERRORS.has(systemErrorCode(err) ?? '');
}

/** Runs an arena write; undefined when done, else the full or failing state directory's error, which is outlived. */
export function outliveArenaFailure(write: () => void): unknown {
  try {
    write();
    return undefined;
  } catch (err) {
    if (!isArenaWriteError(err)) throw err;
    return err;
  }
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Space taken at once in a new arena file, so that the usual working set never meets
 * a full state directory: the header, the first directory pages (slots are taken
 * lowest first) and the first content pages (reused lowest first too).
 */
export const RESERVED_DIRECTORY_PAGES = 4;
export const RESERVED_CONTENT_PAGES = 64;

/** Writes a new arena file; undefined when done, else why it could not be (the file is then removed). */
export function createArenaFile(arenaDir: string, epoch: number, slots: number, pages: number, native?: Pick<PageReleaser, 'reserve'>): string | undefined {
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
    const header = encodeHeader(slots);
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

/** The epochs that have an arena file in `arenaDir`. */
export function arenaEpochs(arenaDir: string): number[] {
  try {
    return readdirSync(arenaDir)
      .map(arenaEpochOf)
      .filter((epoch) => epoch !== undefined);
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

/** Bytes [offset, offset+size) of a rendering of `length` bytes stored at `at` in `fd`. */
function readRange(fd: number, at: number, length: number, offset: number, size: number, into: (length: number) => Buffer): Buffer {
  const count = Math.max(0, Math.min(size, length - offset));
  const buf = into(count);
  if (count > 0) readSync(fd, buf, 0, count, at + offset);
  return buf;
}

/**
 * This server's own arena file, written only for a successor: records and contents.
 * Its writes throw; the store outlives those of a full state directory.
 */
export class LiveArena {
  /** Records are written synchronously, one at a time per store (one store per worker). */
  private readonly recordScratch = Buffer.alloc(RECORD);
  private readonly contentStart: number;

  constructor(private readonly fd: number, slots: number) {
    this.contentStart = dataStart(slots);
  }

  static open(arenaDir: string, epoch: number, slots: number): LiveArena {
    return new LiveArena(openSync(arenaPath(arenaDir, epoch), WRITE_NOFOLLOW), slots);
  }

  writeRecord(slot: number, record: ArenaRecord): void {
    writeSync(this.fd, encodeRecord(record, this.recordScratch), 0, RECORD, recordOffset(slot));
  }

  writeContents(page: number, content: Buffer): void {
    writeSync(this.fd, content, 0, content.length, this.contentStart + page * PAGE);
  }

  /** Gives back the arena space of `count` pages from `first`. */
  punchPages(native: Pick<PageReleaser, 'punchHole'>, first: number, count: number): void {
    native.punchHole(this.fd, this.contentStart + first * PAGE, count * PAGE);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** An arena file of a predecessor: read its records, re-render in place, release. */
export class PastArena {
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
    const slots = readSync(fd, header, 0, 8, 0) < 8 ? undefined : decodeHeader(header);
    if (slots === undefined) {
      closeSync(fd);
      return undefined;
    }
    return new PastArena(fd, slots);
  }

  record(slot: number, gen: number): ArenaRecord | undefined {
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

  /** Bytes [offset, offset+size) of the record's rendering, read into `into(length)`. */
  range(record: ArenaRecord, offset: number, size: number, into: (length: number) => Buffer = Buffer.allocUnsafe): Buffer {
    return readRange(this.fd, dataStart(this.slots) + record.page * PAGE, record.length, offset, size, into);
  }

  /**
   * False when the extent cannot hold `content`. The record says "not saved" while the
   * contents are written: if they cannot be (a full state directory), later READs
   * render anew instead of serving a mix of two renderings.
   */
  rewrite(slot: number, record: ArenaRecord, content: Buffer): boolean {
    if (content.length > record.pages * PAGE) return false;
    outliveArenaFailure(() => {
      writeSync(this.fd, encodeRecord({ ...record, saved: false, length: content.length }), 0, RECORD, recordOffset(slot));
      writeSync(this.fd, content, 0, content.length, dataStart(this.slots) + record.page * PAGE);
      writeSync(this.fd, encodeRecord({ ...record, saved: true, length: content.length }), 0, RECORD, recordOffset(slot));
    });
    return true;
  }

  /** A record that cannot be written keeps the arena until the connection ends: nothing worse. */
  release(slot: number, record: ArenaRecord): void {
    outliveArenaFailure(() => writeSync(this.fd, encodeRecord({ ...record, pages: 0 }), 0, RECORD, recordOffset(slot)));
  }

  close(): void {
    closeSync(this.fd);
  }
}
