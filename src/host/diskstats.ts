// The host's /proc/diskstats: one line per block device and partition, in the
// kernel's layout (block/genhd.c diskstats_show: "%4d %7d %pg " then the counters,
// one space apart). Counters stay bigint: they are u64 and sector counts of a
// long-lived host can pass 2^53. Parsing and formatting round-trip exactly.
import { CgprocfsError } from '../errors.js';
import { lines } from './files.js';

export interface DiskstatsLine {
  readonly major: number;
  readonly minor: number;
  readonly name: string;
  /** As many as the kernel prints: 11 before 4.18, 15 before 5.5, 17 since. */
  readonly counters: readonly bigint[];
}

export interface HostDiskstats {
  readonly text: string;
  readonly lines: readonly DiskstatsLine[];
}

/** Counter positions after the name (Documentation/admin-guide/iostats.rst, fields 1-17). */
export const DISKSTATS_COUNTER = {
  readsCompleted: 0,
  sectorsRead: 2,
  writesCompleted: 4,
  sectorsWritten: 6,
  discardsCompleted: 11,
  sectorsDiscarded: 13,
} as const;

/** The kernel counts sectors of 512 bytes whatever the device's block size. */
export const SECTOR_BYTES = 512n;

/** The counters every kernel since 2.6 prints (up to "weighted ms doing I/O"). */
const MIN_COUNTERS = 11;
const MAJOR_WIDTH = 4;
const MINOR_WIDTH = 7;
const INTEGER = /^\d+$/;

function parseLine(line: string, source: string): DiskstatsLine {
  const [major = '', minor = '', name = '', ...counters] = line.trim().split(/\s+/);
  const numeric = [major, minor, ...counters].every((token) => INTEGER.test(token));
  if (!numeric || name === '' || counters.length < MIN_COUNTERS) {
    throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: cannot parse ${JSON.stringify(line)}`);
  }
  return { major: Number(major), minor: Number(minor), name, counters: counters.map((value) => BigInt(value)) };
}

export function parseDiskstats(text: string, source: string): DiskstatsLine[] {
  return lines(text).map((line) => parseLine(line, source));
}

/** The `MAJ:MIN` a device has in cgroup files (blkio.*, io.stat). */
export function deviceNumber(line: DiskstatsLine): string {
  return `${line.major}:${line.minor}`;
}

/** One line with its newline, exactly as the kernel prints it. */
export function formatDiskstatsLine(line: DiskstatsLine): string {
  const major = String(line.major).padStart(MAJOR_WIDTH);
  const minor = String(line.minor).padStart(MINOR_WIDTH);
  return `${major} ${minor} ${line.name} ${line.counters.join(' ')}\n`;
}
