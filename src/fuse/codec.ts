// The FUSE wire codec: pure functions from request bytes to typed requests and from
// typed replies to bytes. No I/O, no clock, no logger. Layouts are the kernel's
// (reference/fuse-protocol.md §2-§3); all u64 fields stay bigint.

import { Opcode, Size } from './abi.js';

export type NodeId = bigint & { readonly __brand: 'NodeId' };
export type FileHandle = bigint & { readonly __brand: 'FileHandle' };

/** Raised when request bytes are shorter or longer than their opcode requires. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** A cursor over a Buffer that throws DecodeError instead of reading past the end. */
export class Reader {
  private offset: number;

  /** Reads `buf[start, end)` (a request's body without copying it); offsets in errors count from `start`. */
  constructor(private readonly buf: Buffer, private readonly end = buf.length, private readonly start = 0) {
    this.offset = start;
  }

  private take(n: number): number {
    const at = this.offset;
    if (at + n > this.end) {
      throw new DecodeError(`short body: need ${n} bytes at offset ${at - this.start}, have ${this.end - at}`);
    }
    this.offset += n;
    return at;
  }

  u16(): number {
    return this.buf.readUInt16LE(this.take(2));
  }

  u32(): number {
    return this.buf.readUInt32LE(this.take(4));
  }

  u64(): bigint {
    return this.buf.readBigUInt64LE(this.take(8));
  }

  skip(n: number): void {
    this.take(n);
  }

  /** A NUL-terminated string; the NUL must be inside the body. */
  cstring(): string {
    const nul = this.buf.indexOf(0, this.offset);
    if (nul < 0 || nul >= this.end) throw new DecodeError('string without NUL terminator');
    const value = this.buf.toString('utf8', this.offset, nul);
    this.offset = nul + 1;
    return value;
  }

  remaining(): number {
    return this.end - this.offset;
  }
}

export interface RequestHeader {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: NodeId;
  uid: number;
  gid: number;
  /** The calling thread's id in the daemon's pid namespace (0 if invisible there). */
  pid: number;
}

/** One union member per kind (distributes over a union of kinds). */
type Kinds<K extends string, Body = object> = K extends string ? { kind: K; header: RequestHeader } & Body : never;

export type Request =
  | Kinds<'init', { major: number; minor: number; maxReadahead: number; flags: bigint }>
  | Kinds<'lookup', { name: string }>
  | Kinds<'forget', { nlookup: bigint }>
  | Kinds<'batchForget', { forgets: { nodeid: NodeId; nlookup: bigint }[] }>
  | Kinds<'getattr', { getattrFlags: number; fh: FileHandle }>
  | Kinds<'open' | 'opendir', { flags: number }>
  | Kinds<'read' | 'readdir', { fh: FileHandle; offset: bigint; size: number }>
  | Kinds<'release' | 'releasedir', { fh: FileHandle; flags: number }>
  | Kinds<'flush', { fh: FileHandle }>
  | Kinds<'access', { mask: number }>
  | Kinds<'getxattr', { size: number; name: string }>
  | Kinds<'listxattr', { size: number }>
  | Kinds<'interrupt', { target: bigint }>
  | Kinds<'readlink' | 'statfs' | 'destroy' | 'other'>;

/** Offset of the requester's thread id in the header. */
const HEADER_PID_OFFSET = 32;

/** The requester's thread id (0 when the kernel has none to give), without decoding the rest; 0 for a short request. */
export function requestPid(buf: Buffer): number {
  return buf.length < Size.IN_HEADER ? 0 : buf.readUInt32LE(HEADER_PID_OFFSET);
}

/** Decodes the 40-byte header (enough to answer even a request whose body is bad). */
export function decodeHeader(buf: Buffer): RequestHeader {
  if (buf.length < Size.IN_HEADER) {
    throw new DecodeError(`request of ${buf.length} bytes is shorter than the ${Size.IN_HEADER}-byte header`);
  }
  const r = new Reader(buf);
  const header: RequestHeader = {
    len: r.u32(),
    opcode: r.u32(),
    unique: r.u64(),
    nodeid: r.u64() as NodeId,
    uid: r.u32(),
    gid: r.u32(),
    pid: r.u32(),
  };
  return header;
}

function body(buf: Buffer): Reader {
  return new Reader(buf, buf.length, Size.IN_HEADER);
}

type BodyDecoder = (header: RequestHeader, r: Reader) => Request;

const decodeRead = (kind: 'read' | 'readdir'): BodyDecoder => (header, r) => {
  const fh = r.u64() as FileHandle;
  const offset = r.u64();
  const size = r.u32();
  return { kind, header, fh, offset, size };
};

const decodeOpen = (kind: 'open' | 'opendir'): BodyDecoder => (header, r) => ({ kind, header, flags: r.u32() });

const decodeRelease = (kind: 'release' | 'releasedir'): BodyDecoder => (header, r) => {
  const fh = r.u64() as FileHandle;
  return { kind, header, fh, flags: r.u32() };
};

function decodeInit(header: RequestHeader, r: Reader): Request {
  const major = r.u32();
  const minor = r.u32();
  const maxReadahead = r.u32();
  const low = r.u32();
  // flags2 exists from 7.36 on; older kernels send a shorter body.
  const high = r.remaining() >= 4 ? r.u32() : 0;
  return { kind: 'init', header, major, minor, maxReadahead, flags: (BigInt(high) << 32n) | BigInt(low) };
}

function decodeBatchForget(header: RequestHeader, r: Reader): Request {
  const count = r.u32();
  r.skip(4);
  if (count * Size.FORGET_ONE > r.remaining()) {
    throw new DecodeError(`BATCH_FORGET claims ${count} entries, body holds ${r.remaining()} bytes`);
  }
  const forgets: { nodeid: NodeId; nlookup: bigint }[] = [];
  for (let i = 0; i < count; i++) forgets.push({ nodeid: r.u64() as NodeId, nlookup: r.u64() });
  return { kind: 'batchForget', header, forgets };
}

/** One table: opcode -> body decoder. Opcodes not listed decode as 'other'. */
const bodyDecoders = new Map<number, BodyDecoder>([
  [Opcode.INIT, decodeInit],
  [Opcode.LOOKUP, (header, r) => ({ kind: 'lookup', header, name: r.cstring() })],
  [Opcode.FORGET, (header, r) => ({ kind: 'forget', header, nlookup: r.u64() })],
  [Opcode.BATCH_FORGET, decodeBatchForget],
  [Opcode.GETATTR, (header, r) => {
    const getattrFlags = r.u32();
    r.skip(4);
    return { kind: 'getattr', header, getattrFlags, fh: r.u64() as FileHandle };
  }],
  [Opcode.OPEN, decodeOpen('open')],
  [Opcode.OPENDIR, decodeOpen('opendir')],
  [Opcode.READ, decodeRead('read')],
  [Opcode.READDIR, decodeRead('readdir')],
  [Opcode.RELEASE, decodeRelease('release')],
  [Opcode.RELEASEDIR, decodeRelease('releasedir')],
  [Opcode.FLUSH, (header, r) => ({ kind: 'flush', header, fh: r.u64() as FileHandle })],
  [Opcode.ACCESS, (header, r) => ({ kind: 'access', header, mask: r.u32() })],
  [Opcode.GETXATTR, (header, r) => {
    const size = r.u32();
    r.skip(4);
    return { kind: 'getxattr', header, size, name: r.cstring() };
  }],
  [Opcode.LISTXATTR, (header, r) => ({ kind: 'listxattr', header, size: r.u32() })],
  [Opcode.INTERRUPT, (header, r) => ({ kind: 'interrupt', header, target: r.u64() })],
  [Opcode.READLINK, (header) => ({ kind: 'readlink', header })],
  [Opcode.STATFS, (header) => ({ kind: 'statfs', header })],
  [Opcode.DESTROY, (header) => ({ kind: 'destroy', header })],
]);

/** Decodes the body of a request whose header is already known to be valid. */
export function decodeBody(header: RequestHeader, buf: Buffer): Request {
  if (header.len !== buf.length) {
    throw new DecodeError(`header says ${header.len} bytes, request has ${buf.length}`);
  }
  const decoder = bodyDecoders.get(header.opcode);
  return decoder ? decoder(header, body(buf)) : { kind: 'other', header };
}

/** Decodes one request read from /dev/fuse. Throws DecodeError on malformed bytes. */
export function decodeRequest(buf: Buffer): Request {
  return decodeBody(decodeHeader(buf), buf);
}

// ---------------------------------------------------------------- replies

/** fuse_out_header + payload in one Buffer, ready for a single write(2). */
export function encodeReply(unique: bigint, payload?: Buffer): Buffer {
  // Every byte is written below: no need to zero it first.
  const out = Buffer.allocUnsafe(Size.OUT_HEADER + (payload?.length ?? 0));
  payload?.copy(out, Size.OUT_HEADER);
  return withOkHeader(out, unique);
}

/** Writes a success header for the whole of `out` into its first bytes. */
function withOkHeader(out: Buffer, unique: bigint): Buffer {
  out.writeUInt32LE(out.length, 0);
  out.writeInt32LE(0, 4);
  out.writeBigUInt64LE(unique, 8);
  return out;
}

/**
 * A reply whose payload is written once, after room for its header (issue 20): a READ's
 * bytes are copied out of the handle store straight into the reply, not into a buffer
 * encodeReply would copy again. `payload(length)` hands out the place; `reply(bytes)`
 * frames it in place when `bytes` is that place, and copies anything else.
 */
export class ReplyInPlace {
  private out: Buffer | undefined;

  constructor(private readonly unique: bigint) {}

  readonly payload = (length: number): Buffer => {
    this.out = Buffer.allocUnsafe(Size.OUT_HEADER + length);
    return this.out.subarray(Size.OUT_HEADER);
  };

  reply(bytes: Buffer): Buffer {
    const out = this.out;
    const inPlace = out !== undefined && bytes.buffer === out.buffer && bytes.byteOffset === out.byteOffset + Size.OUT_HEADER;
    return inPlace ? withOkHeader(out.subarray(0, Size.OUT_HEADER + bytes.length), this.unique) : encodeReply(this.unique, bytes);
  }
}

/** An error reply is the header alone, with the errno negated (reference §2). */
export function encodeError(unique: bigint, errno: number): Buffer {
  const out = Buffer.alloc(Size.OUT_HEADER);
  out.writeUInt32LE(Size.OUT_HEADER, 0);
  out.writeInt32LE(-errno, 4);
  out.writeBigUInt64LE(unique, 8);
  return out;
}

/** A server-to-kernel notification: unique 0, the code in the error field. */
export function encodeNotify(code: number, payload?: Buffer): Buffer {
  const out = encodeReply(0n, payload);
  out.writeInt32LE(code, 4);
  return out;
}

export interface InitReply {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: bigint;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  timeGranNs: number;
  maxPages: number;
}

export function encodeInitOut(init: InitReply): Buffer {
  const out = Buffer.alloc(Size.INIT_OUT);
  out.writeUInt32LE(init.major, 0);
  out.writeUInt32LE(init.minor, 4);
  out.writeUInt32LE(init.maxReadahead, 8);
  out.writeUInt32LE(Number(init.flags & 0xffffffffn), 12);
  out.writeUInt16LE(init.maxBackground, 16);
  out.writeUInt16LE(init.congestionThreshold, 18);
  out.writeUInt32LE(init.maxWrite, 20);
  out.writeUInt32LE(init.timeGranNs, 24);
  out.writeUInt16LE(init.maxPages, 28);
  out.writeUInt32LE(Number(init.flags >> 32n), 32);
  return out;
}

export interface Attr {
  ino: bigint;
  size: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, used for atime, mtime and ctime alike. */
  timeSec: number;
  blksize: number;
}

function writeAttr(out: Buffer, at: number, attr: Attr): void {
  out.writeBigUInt64LE(attr.ino, at);
  out.writeBigUInt64LE(BigInt(attr.size), at + 8);
  out.writeBigUInt64LE(BigInt(Math.ceil(attr.size / 512)), at + 16);
  const time = BigInt(attr.timeSec);
  out.writeBigUInt64LE(time, at + 24);
  out.writeBigUInt64LE(time, at + 32);
  out.writeBigUInt64LE(time, at + 40);
  out.writeUInt32LE(attr.mode, at + 60);
  out.writeUInt32LE(attr.nlink, at + 64);
  out.writeUInt32LE(attr.uid, at + 68);
  out.writeUInt32LE(attr.gid, at + 72);
  out.writeUInt32LE(attr.blksize, at + 80);
}

/** Validity of kernel caches, whole seconds (entries and attributes never change here). */
export interface Validity {
  entrySec: number;
  attrSec: number;
}

/** fuse_entry_out; nodeid 0 is a negative entry the kernel may cache. */
export function encodeEntryOut(nodeid: bigint, attr: Attr | null, validity: Validity): Buffer {
  const out = Buffer.alloc(Size.ENTRY_OUT);
  writeEntryOut(out, 0, nodeid, attr, validity);
  return out;
}

function writeEntryOut(out: Buffer, at: number, nodeid: bigint, attr: Attr | null, validity: Validity): void {
  out.writeBigUInt64LE(nodeid, at);
  out.writeBigUInt64LE(BigInt(validity.entrySec), at + 16);
  out.writeBigUInt64LE(BigInt(validity.attrSec), at + 24);
  if (attr) writeAttr(out, at + 40, attr);
}

export function encodeAttrOut(attr: Attr, attrValidSec: number): Buffer {
  const out = Buffer.alloc(Size.ATTR_OUT);
  out.writeBigUInt64LE(BigInt(attrValidSec), 0);
  writeAttr(out, 16, attr);
  return out;
}

export function encodeOpenOut(fh: FileHandle, openFlags: number): Buffer {
  const out = Buffer.alloc(Size.OPEN_OUT);
  out.writeBigUInt64LE(fh, 0);
  out.writeUInt32LE(openFlags, 8);
  return out;
}

export interface StatfsReply {
  blockSize: number;
  nameMax: number;
  files: number;
}

export function encodeStatfsOut(statfs: StatfsReply): Buffer {
  const out = Buffer.alloc(Size.STATFS_OUT);
  out.writeBigUInt64LE(BigInt(statfs.files), 24);
  out.writeUInt32LE(statfs.blockSize, 40);
  out.writeUInt32LE(statfs.nameMax, 44);
  out.writeUInt32LE(statfs.blockSize, 48);
  return out;
}

/** READLINK's reply is the target's bytes alone, without a NUL (fs/fuse/dir.c fuse_readlink_folio). */
export function encodeReadlinkOut(target: string): Buffer {
  return Buffer.from(target, 'utf8');
}

export function encodeGetxattrOut(size: number): Buffer {
  const out = Buffer.alloc(Size.GETXATTR_OUT);
  out.writeUInt32LE(size, 0);
  return out;
}

export interface DirEntry {
  ino: bigint;
  name: string;
  /** DT_* type. */
  type: number;
}

const DIRENT_ALIGN = 8;
const align = (n: number): number => Math.ceil(n / DIRENT_ALIGN) * DIRENT_ALIGN;

/**
 * Packs directory entries from index `start` into at most `maxBytes`, as fuse_dirent
 * records. Each record's `off` is the cookie of the next entry (index + 1), which the
 * kernel sends back as the next READDIR offset.
 */
export function encodeDirents(entries: readonly DirEntry[], start: number, maxBytes: number): Buffer {
  const records: Buffer[] = [];
  let used = 0;
  for (let i = start; i < entries.length; i++) {
    const entry = entries[i]!;
    const name = Buffer.from(entry.name);
    const size = align(Size.DIRENT_HEADER + name.length);
    if (used + size > maxBytes) break;
    const rec = Buffer.alloc(size);
    rec.writeBigUInt64LE(entry.ino, 0);
    rec.writeBigUInt64LE(BigInt(i + 1), 8);
    rec.writeUInt32LE(name.length, 16);
    rec.writeUInt32LE(entry.type, 20);
    name.copy(rec, Size.DIRENT_HEADER);
    records.push(rec);
    used += size;
  }
  return Buffer.concat(records, used);
}
