// Request bytes in, reply bytes out: the INIT handshake, one opcode table, and the
// single place where failures become errno replies. Exactly one reply per request,
// except the ones the protocol answers with silence (FORGET, BATCH_FORGET, INTERRUPT).
// No I/O here: the device loop reads and writes, tests call handle() directly.

import {
  Errno,
  FileType,
  InitFlag,
  KERNEL_VERSION,
  MAX_WRITE,
  MIN_KERNEL_MINOR,
  Opcode,
  OpenOutFlag,
  Size,
  OUR_MINOR,
  opcodeName,
} from './abi.js';
import {
  DecodeError,
  decodeBody,
  decodeHeader,
  encodeAttrOut,
  encodeDirents,
  encodeEntryOut,
  encodeError,
  encodeGetxattrOut,
  encodeInitOut,
  encodeOpenOut,
  encodeReadlinkOut,
  encodeReply,
  encodeStatfsOut,
  ReplyInPlace,
  type DirEntry,
  type FileHandle,
  type InitReply,
  type Request,
  type RequestHeader,
  type Validity,
} from './codec.js';
import { CgprocfsError } from '../errors.js';
import { ErrnoError, type Caller, type RawFilesystem } from './filesystem-api.js';

/** The subset of a pino logger the dispatcher uses. */
export interface DispatchLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  isLevelEnabled(level: string): boolean;
}

/** Entries and attributes never change while mounted; let the kernel cache them. */
const VALIDITY: Validity = { entrySec: 60, attrSec: 60 };
/** Entries only some readers see: a cached lookup would show them to everyone. */
const PER_READER_VALIDITY: Validity = { entrySec: 0, attrSec: 60 };
const NAME_MAX = 255;
const BLOCK_SIZE = 4096;
/** Flags we take when the kernel offers them (reference §4: read-only, per-open content). */
const WANTED_INIT_FLAGS = BigInt(InitFlag.ASYNC_READ | InitFlag.PARALLEL_DIROPS | InitFlag.ABORT_ERROR);
const MAX_BACKGROUND = 16;
const CONGESTION_THRESHOLD = 12;
/** Every file is rendered per open, must bypass the page cache and needs no FLUSH. */
const FILE_OPEN_FLAGS = OpenOutFlag.DIRECT_IO | OpenOutFlag.NOFLUSH;
const DIR_HANDLE = 0n as FileHandle;
const DIRENT_TYPES = { dir: FileType.DT_DIR, file: FileType.DT_REG, link: FileType.DT_LNK } as const;

export class ProtocolVersionError extends Error {}

/** The INIT reply for a kernel's offer, or ProtocolVersionError. Pure. */
export function negotiateInit(major: number, minor: number, maxReadahead: number, offered: bigint): InitReply {
  if (major !== KERNEL_VERSION || minor < MIN_KERNEL_MINOR) {
    throw new ProtocolVersionError(
      `kernel FUSE protocol ${major}.${minor} is not supported (need ${KERNEL_VERSION}.${MIN_KERNEL_MINOR} or newer)`,
    );
  }
  return {
    major: KERNEL_VERSION,
    minor: OUR_MINOR,
    maxReadahead,
    flags: offered & WANTED_INIT_FLAGS,
    maxBackground: MAX_BACKGROUND,
    congestionThreshold: CONGESTION_THRESHOLD,
    maxWrite: MAX_WRITE,
    timeGranNs: 1,
    maxPages: 0,
  };
}

type RequestOf<K extends Request['kind']> = Extract<Request, { kind: K }>;
type HandlerTable = { [K in Request['kind']]?: (r: RequestOf<K>) => Buffer | null };

export class Dispatcher {
  private readonly handlers: HandlerTable;

  constructor(private readonly fs: RawFilesystem, private readonly log: DispatchLogger) {
    this.handlers = {
      init: (r) => this.init(r),
      lookup: (r) => {
        const { id, attr, perReader } = this.fs.lookup(r.header.nodeid, r.name, callerOf(r.header));
        return ok(r, encodeEntryOut(id, attr, perReader ? PER_READER_VALIDITY : VALIDITY));
      },
      forget: () => null,
      batchForget: () => null,
      // Handlers finish synchronously: when an INTERRUPT arrives, its target has been
      // answered or is being answered by another worker. Silence is the right reply.
      interrupt: () => null,
      getattr: (r) => ok(r, encodeAttrOut(this.fs.getattr(r.header.nodeid), VALIDITY.attrSec)),
      readlink: (r) => ok(r, encodeReadlinkOut(this.fs.readlink(r.header.nodeid, callerOf(r.header)))),
      open: (r) => {
        const fh = this.fs.open(r.header.nodeid, r.flags, callerOf(r.header)) as FileHandle;
        return ok(r, encodeOpenOut(fh, FILE_OPEN_FLAGS));
      },
      read: (r) => {
        const reply = new ReplyInPlace(r.header.unique);
        return reply.reply(this.fs.read(r.fh, r.offset, r.size, callerOf(r.header), r.header.nodeid, reply.payload));
      },
      release: (r) => {
        this.fs.release(r.fh);
        return ok(r);
      },
      flush: (r) => ok(r),
      opendir: (r) => {
        this.fs.opendir(r.header.nodeid);
        return ok(r, encodeOpenOut(DIR_HANDLE, 0));
      },
      readdir: (r) => this.readdir(r),
      releasedir: (r) => ok(r),
      statfs: (r) => ok(r, encodeStatfsOut({ blockSize: BLOCK_SIZE, nameMax: NAME_MAX, files: this.fs.nodeCount() })),
      access: (r) => {
        this.fs.access(r.header.nodeid, r.mask);
        return ok(r);
      },
      getxattr: (r) => this.fs.getxattr(r.header.nodeid, r.name),
      listxattr: (r) => this.listxattr(r),
      destroy: (r) => ok(r),
    };
  }

  /** Handles one request read from /dev/fuse; returns the reply, or null for none. */
  handle(buf: Buffer): Buffer | null {
    let header: RequestHeader;
    try {
      header = decodeHeader(buf);
    } catch (err) {
      // Without a trustworthy header there is no unique to answer: the kernel never
      // sends such bytes, so log and drop.
      this.log.error({ err, bytes: buf.length }, 'undecodable request header');
      return null;
    }
    try {
      const request = decodeBody(header, buf);
      if (this.log.isLevelEnabled('debug')) this.trace(request);
      const handler = this.handlers[request.kind] as ((r: Request) => Buffer | null) | undefined;
      return handler ? handler(request) : this.refuse(header);
    } catch (err) {
      return this.fail(header, err);
    }
  }

  /** A reply the kernel refused: an OPEN's handle was never seen by anyone, release it. */
  replyDropped(request: Buffer, reply: Buffer): void {
    if (request.length < Size.IN_HEADER || request.readUInt32LE(4) !== Opcode.OPEN) return;
    if (reply.readInt32LE(4) !== 0 || reply.length < Size.OUT_HEADER + Size.OPEN_OUT) return;
    this.fs.release(reply.readBigUInt64LE(Size.OUT_HEADER));
  }

  private trace(request: Request): void {
    const { header } = request;
    this.log.debug(
      { op: opcodeName(header.opcode), unique: header.unique.toString(), node: header.nodeid.toString(), tid: header.pid, uid: header.uid },
      'request',
    );
  }

  /** Unknown and unimplemented opcodes: EROFS for every write path, ENOSYS otherwise. */
  private refuse(header: RequestHeader): Buffer {
    return encodeError(header.unique, WRITE_OPCODES.has(header.opcode) ? Errno.EROFS : Errno.ENOSYS);
  }

  private fail(header: RequestHeader, err: unknown): Buffer {
    // The filesystem's refusals and the domain's catalogue errors carry the errno the reader sees.
    if (err instanceof ErrnoError || err instanceof CgprocfsError) {
      const errno = err instanceof ErrnoError ? err.errno : err.errnoName;
      // A handle nobody knows means a bug in handle hand-over between servers: say so.
      if (errno === 'EBADF' || errno === 'EIO') this.log.warn({ op: opcodeName(header.opcode), unique: header.unique.toString(16), reason: err.message }, 'request refused');
      return encodeError(header.unique, Errno[errno]);
    }
    if (err instanceof DecodeError) {
      this.log.warn({ op: opcodeName(header.opcode), reason: err.message }, 'malformed request');
      return encodeError(header.unique, Errno.EINVAL);
    }
    this.log.error({ err, op: opcodeName(header.opcode), node: header.nodeid.toString(), tid: header.pid }, 'request failed');
    return encodeError(header.unique, Errno.EIO);
  }

  private init(r: RequestOf<'init'>): Buffer {
    let reply: InitReply;
    try {
      reply = negotiateInit(r.major, r.minor, r.maxReadahead, r.flags);
    } catch (err) {
      if (err instanceof ProtocolVersionError) {
        this.log.error({ major: r.major, minor: r.minor }, err.message);
        return encodeError(r.header.unique, Errno.EPROTO);
      }
      throw err;
    }
    return ok(r, encodeInitOut(reply));
  }

  /** READDIRPLUS is never negotiated (per-reader entries must not be cached with attributes). */
  private readdir(r: RequestOf<'readdir'>): Buffer {
    const entries: DirEntry[] = this.fs.readdir(r.header.nodeid, callerOf(r.header)).map((e) => ({
      ino: e.ino,
      name: e.name,
      type: DIRENT_TYPES[e.kind],
    }));
    const start = r.offset > BigInt(entries.length) ? entries.length : Number(r.offset);
    return ok(r, encodeDirents(entries, start, r.size));
  }

  private listxattr(r: RequestOf<'listxattr'>): Buffer {
    const names = Buffer.from(this.fs.listxattr(r.header.nodeid).map((n) => `${n}\0`).join(''));
    if (r.size === 0) return ok(r, encodeGetxattrOut(names.length));
    if (names.length > r.size) return encodeError(r.header.unique, Errno.ERANGE);
    return ok(r, names);
  }
}

function ok(r: Request, payload?: Buffer): Buffer {
  return encodeReply(r.header.unique, payload);
}

function callerOf(header: RequestHeader): Caller {
  return { uid: header.uid, gid: header.gid, pid: header.pid };
}

/** Opcodes that would change something: always EROFS (reference §2). */
const WRITE_OPCODES: ReadonlySet<number> = new Set([
  Opcode.SETATTR, Opcode.SYMLINK, Opcode.MKNOD, Opcode.MKDIR, Opcode.UNLINK, Opcode.RMDIR,
  Opcode.RENAME, Opcode.LINK, Opcode.WRITE, Opcode.SETXATTR, Opcode.REMOVEXATTR, Opcode.CREATE,
  Opcode.FALLOCATE, Opcode.RENAME2, Opcode.COPY_FILE_RANGE, Opcode.TMPFILE, Opcode.COPY_FILE_RANGE_64,
]);
