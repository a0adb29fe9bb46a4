// Linux errno numbers by name (asm-generic/errno-base.h, errno.h; the same on x86_64 and
// every other Linux ABI we run on): the one errno vocabulary, from the error catalogue
// (errors.ts) through the filesystem to the FUSE reply. A name missing here is a type
// error wherever an errno is named, never a silent EIO.
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  EROFS: 30,
  ERANGE: 34,
  ENOSYS: 38,
  ENODATA: 61,
  EPROTO: 71,
  EOPNOTSUPP: 95,
  ENOTCONN: 107,
} as const;

export type ErrnoName = keyof typeof Errno;
