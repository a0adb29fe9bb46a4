// The few system calls Node has no API for (setns, unshare, open_tree, move_mount,
// fchdir, chroot, flock, execve, ioctl, fcntl's FD_CLOEXEC, madvise, fallocate, poll,
// glibc's malloc_trim),
// called through koffi: its npm package carries prebuilt binaries for each platform, so
// installing cgprocfs needs no compiler.
// libc is taken from the running process (dlopen(NULL)): glibc or musl, whichever
// node was linked against. Loaded on first use, so commands that need none of these
// calls never load the native module.

import koffi, { type LibraryHandle } from 'koffi';
import { constants } from 'node:os';

/** Kernel constants (linux/mount.h, linux/sched.h, fcntl.h); the same on every architecture. */
export const Native = {
  AT_FDCWD: -100,
  O_CLOEXEC: 0o2000000,
  CLONE_FS: 0x200,
  CLONE_NEWNS: 0x20000,
  OPEN_TREE_CLONE: 1,
  /** OPEN_TREE_CLOEXEC is O_CLOEXEC. */
  OPEN_TREE_CLOEXEC: 0o2000000,
  MOVE_MOUNT_F_EMPTY_PATH: 0x4,
  /** Linux >= 6.5: mount beneath the top mount at the target instead of on top of it. */
  MOVE_MOUNT_BENEATH: 0x200,
  MNT_DETACH: 0x2,
  LOCK_SH: 1,
  LOCK_EX: 2,
  LOCK_NB: 4,
  F_GETFD: 1,
  F_SETFD: 2,
  SIGPIPE: 13,
  SIGXFSZ: 25,
  MADV_DONTNEED: 4,
  FALLOC_FL_KEEP_SIZE: 0x1,
  FALLOC_FL_PUNCH_HOLE: 0x2,
  POLLIN: 0x1,
} as const;

/**
 * open_tree and move_mount (Linux 5.2) have the same numbers on every architecture
 * that uses the generic syscall table, x86_64 included; glibc < 2.36 and musl have no
 * wrappers for them, so they go through syscall(2).
 */
const SYS_OPEN_TREE = 428;
const SYS_MOVE_MOUNT = 429;

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, number]) => [number, name]));

/** A failed system call: `code` is the errno name (EINVAL, ...), as in Node's own errors. */
export class SyscallError extends Error {
  readonly code: string;

  constructor(
    readonly syscall: string,
    readonly errno: number,
  ) {
    const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
    super(`${syscall}: ${code}`);
    this.name = 'SyscallError';
    this.code = code;
  }
}

type NativeFunction = ReturnType<LibraryHandle['func']>;

interface Bindings {
  syscall: NativeFunction;
  setns: NativeFunction;
  unshare: NativeFunction;
  umount2: NativeFunction;
  close: NativeFunction;
  fchdir: NativeFunction;
  chroot: NativeFunction;
  flock: NativeFunction;
  execve: NativeFunction;
  fcntl: NativeFunction;
  ioctl: NativeFunction;
  signal: NativeFunction;
  madvise: NativeFunction;
  madviseRange: NativeFunction;
  fallocate: NativeFunction;
  poll: NativeFunction;
  /** glibc's; undefined where libc has none (musl). */
  mallocTrim: NativeFunction | undefined;
}

let bindings: Bindings | undefined;

function libc(): Bindings {
  if (bindings) return bindings;
  const lib = koffi.load(null);
  bindings = {
    syscall: lib.func('long syscall(long number, ...)'),
    setns: lib.func('int setns(int fd, int nstype)'),
    unshare: lib.func('int unshare(int flags)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    close: lib.func('int close(int fd)'),
    fchdir: lib.func('int fchdir(int fd)'),
    chroot: lib.func('int chroot(const char *path)'),
    flock: lib.func('int flock(int fd, int operation)'),
    execve: lib.func('int execve(const char *path, const char **argv, const char **envp)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, ...)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
    signal: lib.func('void *signal(int signum, void *handler)'),
    madvise: lib.func('int madvise(void *addr, size_t length, int advice)'),
    // The same call for a range given by address (a mapping listed in /proc/self/maps).
    madviseRange: lib.func('madvise', 'int', ['uintptr_t', 'size_t', 'int']),
    fallocate: lib.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)'),
    poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
    mallocTrim: optionalFunction(() => lib.func('int malloc_trim(size_t pad)')),
  };
  return bindings;
}

/** A function this libc may lack: undefined instead of koffi's error for a missing symbol. */
function optionalFunction(bind: () => NativeFunction): NativeFunction | undefined {
  try {
    return bind();
  } catch {
    return undefined;
  }
}

/** The result of a call that returns -1 and sets errno on failure. */
function checked(name: string, result: number | bigint): number {
  const value = Number(result);
  if (value === -1) throw new SyscallError(name, koffi.errno());
  return value;
}

/**
 * A detached copy of the mount at `path` (OPEN_TREE_CLONE), as a descriptor: it can be
 * attached in another mount namespace with moveMount. Close-on-exec.
 */
export function openTreeClone(path: string): number {
  const flags = Native.OPEN_TREE_CLONE | Native.OPEN_TREE_CLOEXEC;
  return checked('open_tree', libc().syscall(SYS_OPEN_TREE, 'int', Native.AT_FDCWD, 'str', path, 'uint', flags));
}

/** Attaches the detached tree `treeFd` at `target` in the calling thread's mount namespace. */
export function moveMount(treeFd: number, target: string, flags = 0): void {
  const all = Native.MOVE_MOUNT_F_EMPTY_PATH | flags;
  checked('move_mount', libc().syscall(SYS_MOVE_MOUNT, 'int', treeFd, 'str', '', 'int', Native.AT_FDCWD, 'str', target, 'uint', all));
}

/** setns(2). A mount namespace needs a thread that does not share its fs_struct: see unshare. */
export function setns(fd: number, nstype: number): void {
  checked('setns', libc().setns(fd, nstype));
}

/**
 * unshare(2). unshare(CLONE_FS) gives the calling thread a root and working directory of
 * its own, after which setns(CLONE_NEWNS) works in it although the process has other
 * threads (the kernel refuses a mount namespace change to a shared fs_struct). That
 * thread must then end: it no longer sees the host's files.
 */
export function unshare(flags: number): void {
  checked('unshare', libc().unshare(flags));
}

/** umount2(2) on a path. */
export function umount2(target: string, flags: number): void {
  checked('umount2', libc().umount2(target, flags));
}

/** close(2) of a descriptor a call here returned (Node warns when its own close is used on those). */
export function closeNative(fd: number): void {
  checked('close', libc().close(fd));
}

/** fchdir(2): the calling thread's working directory, once unshare(CLONE_FS) made it its own. */
export function fchdir(fd: number): void {
  checked('fchdir', libc().fchdir(fd));
}

/** chroot(2); like fchdir, for the calling thread alone after unshare(CLONE_FS). */
export function chroot(path: string): void {
  checked('chroot', libc().chroot(path));
}

/**
 * flock(2) on an open file. The kernel drops the lock when the last descriptor of that
 * open file is closed, so a holder that crashed never leaves it behind.
 */
export function flock(fd: number, operation: number): void {
  checked('flock', libc().flock(fd, operation));
}

/** ioctl(2) with an in/out u32 argument, returned after the call (FUSE_DEV_IOC_CLONE's shape). */
export function ioctlU32(fd: number, request: number, value: number): number {
  const arg = new Uint32Array([value]);
  checked('ioctl', libc().ioctl(fd, request, 'uint32_t *', arg));
  return arg[0] ?? 0;
}

/**
 * Replaces this process with `path` (execve(2)); returns only by throwing. Node opens
 * fds 0-2 close-on-exec (and any it inherited: systemd's LISTEN_FDS too) and ignores
 * SIGPIPE and SIGXFSZ, and both would be inherited: the standard descriptors and
 * `inherit` are made inheritable and those signals given back their default action
 * first, so the new program starts as if a shell had started it.
 */
export function execve(path: string, argv: readonly string[], env: NodeJS.ProcessEnv, inherit: readonly number[] = []): never {
  const c = libc();
  for (const fd of [0, 1, 2, ...inherit]) c.fcntl(fd, Native.F_SETFD, 'int', 0);
  for (const signum of [Native.SIGPIPE, Native.SIGXFSZ]) c.signal(signum, null);
  const envp = Object.entries(env).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
  c.execve(path, [...argv, null], [...envp, null]);
  throw new SyscallError('execve', koffi.errno());
}

/** Where a buffer's bytes are in this process's memory (the same in every thread: a SharedArrayBuffer's too). */
export function addressOf(buffer: Uint8Array): bigint {
  libc();
  return koffi.address(buffer);
}

/**
 * Gives the pages of `buffer` back to the kernel (madvise MADV_DONTNEED): they read as
 * zeros afterwards and take no memory until written again. `buffer` must start and end
 * on page boundaries.
 */
export function discardPages(buffer: Uint8Array): void {
  checked('madvise', libc().madvise(buffer, buffer.byteLength, Native.MADV_DONTNEED));
}

/**
 * Drops this process's page table entries for [start, start+length) (madvise
 * MADV_DONTNEED): a private file mapping's pages read from the file again when next
 * touched, out of the page cache. Only for mappings no page of which was written: a
 * written page of a private mapping is the process's own copy, and would be lost.
 */
export function dropMappedPages(start: bigint, length: number): void {
  checked('madvise', libc().madviseRange(start, length, Native.MADV_DONTNEED));
}

/**
 * Gives the free memory inside every malloc arena back to the kernel (glibc
 * malloc_trim(0): MADV_DONTNEED on each free page, not only at an arena's top). A worker
 * thread's arena keeps the pages its freed buffers held, which plain free() returns only
 * from the top. False where libc has no malloc_trim (musl, which returns memory itself).
 */
export function trimMalloc(): boolean {
  const trim = libc().mallocTrim;
  if (trim === undefined) return false;
  trim(0);
  return true;
}

/** Frees the blocks of `fd` in [offset, offset+length) (a hole reads as zeros); the size stays. */
export function punchHole(fd: number, offset: number, length: number): void {
  checked('fallocate', libc().fallocate(fd, Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE, offset, length));
}

/** Allocates the blocks of `fd` in [offset, offset+length) now (fallocate mode 0): later writes there need no space. */
export function reserve(fd: number, offset: number, length: number): void {
  checked('fallocate', libc().fallocate(fd, 0, offset, length));
}

/** One struct pollfd (int fd, short events, short revents), reused: a thread polls one descriptor at a time. */
const pollFd = Buffer.alloc(8);

/** Whether `fd` can be read without blocking, waiting at most `timeoutMs` (0: just look); EINTR counts as no. */
export function readable(fd: number, timeoutMs = 0): boolean {
  pollFd.writeInt32LE(fd, 0);
  pollFd.writeInt16LE(Native.POLLIN, 4);
  pollFd.writeInt16LE(0, 6);
  const ready = libc().poll(pollFd, 1, timeoutMs) as number;
  if (ready < 0 && koffi.errno() !== EINTR) throw new SyscallError('poll', koffi.errno());
  return ready > 0 && (pollFd.readInt16LE(6) & Native.POLLIN) !== 0;
}

const EINTR = constants.errno.EINTR;
