// The kernel FUSE ABI: opcodes, flags, errno values and struct sizes, as named in
// /usr/include/linux/fuse.h (7.38) and libfuse's fuse_kernel.h (7.45). Every number
// of the wire protocol lives here, and the POSIX constants the filesystem checks (open
// flags, access bits, file modes): fs sits above fuse and reads them from here.

export const KERNEL_VERSION = 7;
/** The protocol minor we speak (Linux 6.18). We answer INIT with it whatever the kernel offers. */
export const OUR_MINOR = 45;
/** The oldest kernel minor we accept (Linux 5.4); older kernels lack fields we rely on. */
export const MIN_KERNEL_MINOR = 31;

export const Opcode = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  SETXATTR: 21,
  GETXATTR: 22,
  LISTXATTR: 23,
  REMOVEXATTR: 24,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  GETLK: 31,
  SETLK: 32,
  SETLKW: 33,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  BMAP: 37,
  DESTROY: 38,
  IOCTL: 39,
  POLL: 40,
  NOTIFY_REPLY: 41,
  BATCH_FORGET: 42,
  FALLOCATE: 43,
  READDIRPLUS: 44,
  RENAME2: 45,
  LSEEK: 46,
  COPY_FILE_RANGE: 47,
  SETUPMAPPING: 48,
  REMOVEMAPPING: 49,
  SYNCFS: 50,
  TMPFILE: 51,
  STATX: 52,
  COPY_FILE_RANGE_64: 53,
} as const;
export type OpcodeNumber = (typeof Opcode)[keyof typeof Opcode];

const opcodeNames = new Map<number, string>(Object.entries(Opcode).map(([name, n]) => [n, name]));
/** The opcode's name for logs and traces (`OPCODE_99` for numbers we do not know). */
export function opcodeName(opcode: number): string {
  return opcodeNames.get(opcode) ?? `OPCODE_${opcode}`;
}

/** INIT flags (fuse_init_in.flags / fuse_init_out.flags; bits 32+ travel in flags2). */
export const InitFlag = {
  ASYNC_READ: 1 << 0,
  ATOMIC_O_TRUNC: 1 << 3,
  BIG_WRITES: 1 << 5,
  DO_READDIRPLUS: 1 << 13,
  READDIRPLUS_AUTO: 1 << 14,
  PARALLEL_DIROPS: 1 << 18,
  ABORT_ERROR: 1 << 21,
  MAX_PAGES: 1 << 22,
  INIT_EXT: 1 << 30,
} as const;

/** fuse_open_out.open_flags */
export const OpenOutFlag = {
  DIRECT_IO: 1 << 0,
  KEEP_CACHE: 1 << 1,
  NONSEEKABLE: 1 << 2,
  CACHE_DIR: 1 << 3,
  NOFLUSH: 1 << 5,
} as const;

/** fuse_getattr_in.getattr_flags */
export const GETATTR_FH = 1 << 0;

/** Notification codes, written as fuse_out_header.error with unique 0. */
export const NotifyCode = {
  INVAL_INODE: 2,
  INVAL_ENTRY: 3,
  RESEND: 7,
} as const;

/** Bit 63 of `unique` marks a request the kernel re-sent after FUSE_NOTIFY_RESEND. */
export const UNIQUE_RESEND = 1n << 63n;

/** Linux errno values: the one vocabulary, shared with the error catalogue. */
export { Errno, type ErrnoName } from '../shared/errno.js';

/** open(2) flags the filesystem must look at. */
export const OpenFlag = {
  ACCMODE: 0o3,
  RDONLY: 0o0,
  TRUNC: 0o1000,
} as const;

/** access(2) mask bits (fuse_access_in.mask). */
export const AccessMask = { X_OK: 1, W_OK: 2, R_OK: 4 } as const;

/** File type bits of st_mode and the d_type values of directory entries. */
export const FileType = {
  S_IFDIR: 0o040000,
  S_IFREG: 0o100000,
  S_IFLNK: 0o120000,
  DT_DIR: 4,
  DT_REG: 8,
  DT_LNK: 10,
} as const;

/** Struct sizes in bytes; test/unit/fuse checks them against the header's layout. */
export const Size = {
  IN_HEADER: 40,
  OUT_HEADER: 16,
  INIT_IN: 64,
  INIT_OUT: 64,
  ATTR: 88,
  ENTRY_OUT: 128,
  ATTR_OUT: 104,
  GETATTR_IN: 16,
  OPEN_IN: 8,
  OPEN_OUT: 16,
  READ_IN: 40,
  RELEASE_IN: 24,
  FLUSH_IN: 24,
  FORGET_IN: 8,
  BATCH_FORGET_IN: 8,
  FORGET_ONE: 16,
  INTERRUPT_IN: 8,
  ACCESS_IN: 8,
  GETXATTR_IN: 8,
  GETXATTR_OUT: 8,
  STATFS_OUT: 80,
  DIRENT_HEADER: 24,
} as const;

/**
 * max_write we announce. A read-only server never receives WRITE, but the kernel
 * derives the minimum read buffer from it: max(8192, 80 + max_write) (reference §4).
 */
export const MAX_WRITE = 4096;
/** Our read buffer: room for any request the kernel may queue with MAX_WRITE (names, xattrs). */
export const REQUEST_BUFFER_SIZE = 64 * 1024;
