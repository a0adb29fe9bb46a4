// Parsers of cgroup interface files (Documentation/admin-guide/cgroup-v2.rst,
// "Interface Files"): single values, `max`-able limits and flat keyed files such
// as memory.stat. Keys are matched exactly: lxcfs's prefix matching made `file`
// swallow `file_mapped` and `total_rss` swallow `total_rss_huge`.
import { unparsable } from '../host/files.js';

/** Bytes, or Infinity for a limit that is not set. */
export type Limit = number;

const UNSET_LIMIT = 'max';
const INTEGER = /^\d+$/;

/** A single unsigned integer such as memory.current. */
export function parseCount(text: string, source: string): number {
  const value = text.trim();
  if (!INTEGER.test(value)) throw unparsable(source, text);
  return Number(value);
}

/**
 * A limit such as memory.max: `max` or a number of bytes. Numbers above 2^53 (v1's
 * "unlimited" 9223372036854771712) lose precision, harmlessly: every limit above
 * host RAM means host RAM.
 */
export function parseLimit(text: string, source: string): Limit {
  return text.trim() === UNSET_LIMIT ? Infinity : parseCount(text, source);
}

/**
 * A flat keyed file (`key value` per line) as an exact key -> number map. memory.stat
 * has 40-60 lines and is parsed at every rendering of meminfo: one split, no
 * per-line arrays.
 */
export function parseKeyedValues(text: string, source: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const space = line.indexOf(' ');
    const value = line.slice(space + 1);
    if (space <= 0 || !INTEGER.test(value)) throw unparsable(source, line);
    values[line.slice(0, space)] = Number(value);
  }
  return values;
}
