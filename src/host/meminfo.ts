// Parser and formatter of the host's /proc/meminfo. Each line keeps the column
// widths the kernel printed it with, so a line re-rendered with a new value looks
// like the kernel wrote it, and an unchanged value reproduces the host line exactly.
import { CgprocfsError } from '../errors.js';
import { lines } from './files.js';

/**
 * fs/proc/meminfo.c prints values with seq_put_decimal_ull_width(..., 8) after a
 * label padded to 16 columns ("MemTotal:       "); wider values push the line out.
 */
const KERNEL_VALUE_WIDTH = 8;
const LINE_PATTERN = /^([^:]+):( *)(\d+)(.*)$/;

export interface MeminfoLine {
  /** The name before the colon: `MemTotal`, `Active(anon)`, `HugePages_Total`. */
  readonly key: string;
  /** The number as printed: kB for lines with a ` kB` suffix, a count otherwise. */
  readonly value: number;
  /** Columns taken by `key:` and its padding. */
  readonly labelWidth: number;
  /** Columns the value is right-aligned in; a wider value pushes the rest of the line out. */
  readonly valueWidth: number;
  /** What follows the number: ` kB` or nothing. */
  readonly suffix: string;
}

function parseLine(line: string, source: string): MeminfoLine {
  const match = LINE_PATTERN.exec(line);
  if (match === null) {
    throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: unexpected line ${JSON.stringify(line)}`);
  }
  const [, key = '', padding = '', digits = '', suffix = ''] = match;
  const valueEnd = key.length + 1 + padding.length + digits.length;
  const labelWidth = Math.max(key.length + 1, valueEnd - Math.max(digits.length, KERNEL_VALUE_WIDTH));
  const valueWidth = Math.min(KERNEL_VALUE_WIDTH, valueEnd - labelWidth);
  return { key, value: Number(digits), labelWidth, valueWidth, suffix };
}

export function parseMeminfo(text: string, source = 'meminfo'): MeminfoLine[] {
  const parsed = lines(text).map((line) => parseLine(line, source));
  if (parsed.length === 0) throw new CgprocfsError('SOURCE_UNREADABLE', `${source} is empty`);
  return parsed;
}

/** The line as the kernel would print it with `value` (values are never negative). */
export function formatMeminfoLine(line: MeminfoLine, value: number = line.value): string {
  const digits = String(Math.max(0, Math.floor(value)));
  return `${line.key}:`.padEnd(line.labelWidth) + digits.padStart(line.valueWidth) + line.suffix;
}

/** The value of `key`; a line the host kernel does not print is a SOURCE_UNREADABLE error. */
export function meminfoValue(meminfo: readonly MeminfoLine[], key: string): number {
  const line = meminfo.find((candidate) => candidate.key === key);
  if (line === undefined) throw new CgprocfsError('SOURCE_UNREADABLE', `meminfo has no ${key} line`);
  return line.value;
}
