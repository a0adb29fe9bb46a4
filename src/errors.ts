// The error catalogue: every error cgprocfs raises on purpose has a stable code,
// a process exit code for the CLI, and (where a FUSE caller can see it) an errno.
// Anything thrown that is not a CgprocfsError is a bug: the CLI prints its stack,
// the filesystem answers EIO and logs it.
import type { ErrnoName } from './shared/errno.js';

export const ErrorCodes = {
  /** A command-line argument is invalid. */
  USAGE: { exit: 2, errno: 'EINVAL' },
  /** The daemon needs root (mount(2), /dev/fuse, every pid's /proc files). */
  NOT_ROOT: { exit: 1, errno: 'EPERM' },
  /** /dev/fuse is missing or cannot be opened. */
  NO_FUSE_DEVICE: { exit: 1, errno: 'ENODEV' },
  /** The mountpoint cannot be used (not a directory, busy, already served). */
  MOUNTPOINT: { exit: 1, errno: 'EBUSY' },
  /** mount(8) or umount(8) failed. */
  MOUNT_FAILED: { exit: 1, errno: 'EIO' },
  /** The kernel speaks a FUSE protocol version we do not support. */
  PROTOCOL_VERSION: { exit: 1, errno: 'EPROTO' },
  /** The calling process is gone or not visible from the daemon's pid namespace. */
  CALLER_UNKNOWN: { exit: 1, errno: 'EACCES' },
  /** A cgroup or host file that a view needs cannot be read or parsed. */
  SOURCE_UNREADABLE: { exit: 1, errno: 'EIO' },
  /** The cgroup tree has no layout we understand. */
  CGROUP_LAYOUT: { exit: 1, errno: 'EIO' },
  /** The requested virtual file does not exist. */
  NO_SUCH_FILE: { exit: 2, errno: 'ENOENT' },
  /** `render --cgroup` of a cgroup that exists in no hierarchy. */
  NO_SUCH_CGROUP: { exit: 1, errno: 'ENOENT' },
  /** `render --pid` of a process that does not exist. */
  NO_SUCH_PROCESS: { exit: 1, errno: 'ESRCH' },
  /** No live cgprocfs mount where a command needs one (heal). */
  NOT_SERVING: { exit: 1, errno: 'ENOTCONN' },
  /** Another daemon holds the state directory or the mountpoint, or serves the mount to unmount. */
  ALREADY_RUNNING: { exit: 1, errno: 'EBUSY' },
  /** A container runtime's configuration file cannot be read, understood or safely changed (cgprocfs setup). */
  RUNTIME_CONFIG: { exit: 1, errno: 'EINVAL' },
  /** A bounded name space of the state directory is used up (every handle epoch has an arena file, issue 18). */
  NAMES_EXHAUSTED: { exit: 1, errno: 'ENFILE' },
  /** The state directory is a symlink, not ours, or writable by others (issue 18). */
  STATE_DIR_UNSAFE: { exit: 1, errno: 'EPERM' },
} as const satisfies Record<string, { exit: number; errno: ErrnoName }>;

export type ErrorCode = keyof typeof ErrorCodes;

export class CgprocfsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CgprocfsError';
    this.code = code;
  }

  get exitCode(): number {
    return ErrorCodes[this.code].exit;
  }

  /** What a FUSE reader sees when this error ends its request. */
  get errnoName(): ErrnoName {
    return ErrorCodes[this.code].errno;
  }
}

export function isCgprocfsError(value: unknown): value is CgprocfsError {
  return value instanceof CgprocfsError;
}

/** The exit code of a command that failed with `err`, its one line (a bug: its stack) written to `stderr`. */
export function reportFailure(err: unknown, stderr: (text: string) => void): number {
  if (isCgprocfsError(err)) {
    stderr(`cgprocfs: ${err.message}\n`);
    return err.exitCode;
  }
  stderr(`cgprocfs: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
  return 70;
}

/** The errno name (`ENOENT`, ...) of a Node system error, or undefined. */
export function systemErrorCode(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null && 'code' in value) {
    const code = (value as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
