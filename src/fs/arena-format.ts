// The arena file's layout, which a successor server reads (reference §7): sizes, the
// header, the 24-byte record of each slot, where contents start, and the file handle's
// bits (epoch | generation | slot). Pure: no file is touched here.
//
//   [header page][directory: one 24-byte record per slot][pages of 4 KiB of contents]

import { join } from 'node:path';

export const PAGE = 4096;
export const RECORD = 24;
/** First 4 KiB of an arena file: magic and slot count, so a successor can read it with any limits. */
export const MAGIC = 0x43475046; // "CGPF"
export const HEADER_BYTES = PAGE;
/**
 * In a record's generation word, above the 24 generation bits: the contents are not in
 * the arena. Records of earlier versions never set it: theirs always are.
 */
const RECORD_UNSAVED = 1 << 24;

// fh = epoch (16 bits) | generation (24 bits) | slot (24 bits)
const SLOT_BITS = 24n;
const GEN_BITS = 24n;
export const SLOT_MASK = (1n << SLOT_BITS) - 1n;
export const GEN_MASK = (1n << GEN_BITS) - 1n;
export const EPOCH_LIMIT = 0x10000;

/**
 * A snapshot gets room to grow: after a restart the successor can only re-render an
 * old handle in place (the old server's allocator is gone). Unwritten pages of the
 * sparse arena file cost nothing.
 */
const HEADROOM_BYTES = 16 * 1024;

/** The pages a rendering of `length` bytes is given: room to grow to twice its size, or by HEADROOM_BYTES. */
export function extentPages(length: number): number {
  return Math.ceil(Math.max(2 * length, length + HEADROOM_BYTES) / PAGE);
}

export function arenaPath(arenaDir: string, epoch: number): string {
  return join(arenaDir, `handles-${epoch}.arena`);
}

/** The epoch an arena file's name says; undefined for any other name. */
export function arenaEpochOf(name: string): number | undefined {
  const epoch = /^handles-(\d+)\.arena$/.exec(name)?.[1];
  return epoch === undefined ? undefined : Number(epoch);
}

/** Where contents start: after the header page and the directory, page aligned. */
export function dataStart(slots: number): number {
  return HEADER_BYTES + Math.ceil((slots * RECORD) / PAGE) * PAGE;
}

export const recordOffset = (slot: number): number => HEADER_BYTES + slot * RECORD;
/** Records read at a time when a whole directory is searched (64 KiB). */
export const DIRECTORY_CHUNK_RECORDS = 2730;

/** The header's first 8 bytes: magic and slot count. */
export function encodeHeader(slots: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(slots, 4);
  return header;
}

/** The slot count of an arena's header; undefined when it is none of ours (or names more slots than a handle can). */
export function decodeHeader(header: Buffer): number | undefined {
  if (header.length < 8 || header.readUInt32LE(0) !== MAGIC || header.readUInt32LE(4) > Number(SLOT_MASK) + 1) return undefined;
  return header.readUInt32LE(4);
}

/** A slot's record in the arena's directory. */
export interface ArenaRecord {
  gen: number;
  /** False when the contents never reached the arena. */
  saved: boolean;
  page: number;
  /** 0: released (no live handle has an empty extent). */
  pages: number;
  length: number;
  nodeId: bigint;
}

export function decodeRecord(buf: Buffer, at = 0): ArenaRecord {
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
export function encodeRecord(record: ArenaRecord, buf = Buffer.alloc(RECORD)): Buffer {
  buf.writeUInt32LE((record.gen | (record.saved ? 0 : RECORD_UNSAVED)) >>> 0, 0);
  buf.writeUInt32LE(record.page, 4);
  buf.writeUInt32LE(record.pages, 8);
  buf.writeUInt32LE(record.length, 12);
  buf.writeBigUInt64LE(record.nodeId, 16);
  return buf;
}

export interface HandleParts {
  epoch: number;
  gen: number;
  slot: number;
}

export function decodeFh(fh: bigint): HandleParts {
  return {
    epoch: Number(fh >> (SLOT_BITS + GEN_BITS)),
    gen: Number((fh >> SLOT_BITS) & GEN_MASK),
    slot: Number(fh & SLOT_MASK),
  };
}

export function encodeFh({ epoch, gen, slot }: HandleParts): bigint {
  return (BigInt(epoch) << (SLOT_BITS + GEN_BITS)) | (BigInt(gen) << SLOT_BITS) | BigInt(slot);
}
