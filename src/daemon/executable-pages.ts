// Gives back the pages of the node executable a daemon process touched while it started
// (issue 22). Node's binary is about 100 MB; starting a process and its isolates maps
// about 40 MB of it (bootstrap code, the startup snapshot, ICU data), most of which
// serving never touches again, and a host with no other node process pays all of it.
// Dropping the mappings' page table entries leaves the pages in the page cache: what
// serving still uses comes back with a minor fault, and resident stays the working set
// (about 20 MB for a server, measured on Node 20).

import { readFileSync, readlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import { dropMappedPages } from '../native/libc.js';

/** How often the pages are dropped again: the resident part stays what was used lately. */
export const EXECUTABLE_DROP_INTERVAL_MS = 10 * 60 * 1000;

export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  rssKb: number;
  /** Pages of the mapping the process has its own copy of (written: relocations, data). */
  anonymousKb: number;
}

const MAPPING = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/;

/** The mappings of a /proc/<pid>/smaps text. */
export function parseSmaps(text: string): Mapping[] {
  const mappings: Mapping[] = [];
  for (const line of text.split('\n')) {
    const mapping = MAPPING.exec(line);
    if (mapping) {
      mappings.push({ start: BigInt(`0x${mapping[1]}`), end: BigInt(`0x${mapping[2]}`), perms: mapping[3]!, path: mapping[4]!, rssKb: 0, anonymousKb: 0 });
      continue;
    }
    const field = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    const last = mappings.at(-1);
    if (field && last) last[field[1] === 'Rss' ? 'rssKb' : 'anonymousKb'] = Number(field[2]);
  }
  return mappings;
}

/**
 * The mappings of `executable` whose pages can be dropped: never writable and with no
 * page of the process's own. A RELRO segment is read-only now but was written
 * (relocated) at load: dropping it would bring back the unrelocated file.
 */
export function droppableMappings(mappings: readonly Mapping[], executable: string): Mapping[] {
  return mappings.filter((m) => m.path === executable && !m.perms.includes('w') && m.anonymousKb === 0);
}

/** Drops the resident pages of this process's executable; returns the bytes of the mappings advised. */
export function dropExecutablePages(drop: (start: bigint, length: number) => void): number {
  const mappings = droppableMappings(parseSmaps(readFileSync('/proc/self/smaps', 'utf8')), readlinkSync('/proc/self/exe'));
  let bytes = 0;
  for (const m of mappings) {
    drop(m.start, Number(m.end - m.start));
    bytes += Number(m.end - m.start);
  }
  return bytes;
}

/**
 * Drops them `firstAfterMs` from now (once start-up is over: the isolates are built),
 * then every EXECUTABLE_DROP_INTERVAL_MS; timers that keep no process alive. A failure
 * is logged once and ends the drops: the process serves as before, with more memory.
 */
export function scheduleExecutableDrops(log: Pick<Logger, 'debug' | 'warn'>, firstAfterMs: number): void {
  let repeat: NodeJS.Timeout | undefined;
  const run = (): void => {
    try {
      const bytes = dropExecutablePages(dropMappedPages);
      log.debug({ mappedMb: Math.round(bytes / 1048576) }, 'dropped the node executable\'s resident pages');
    } catch (err) {
      clearInterval(repeat);
      log.warn({ err }, 'could not drop the node executable\'s resident pages; serving on with them');
    }
  };
  setTimeout(() => {
    run();
    repeat = setInterval(run, EXECUTABLE_DROP_INTERVAL_MS).unref();
  }, firstAfterMs).unref();
}
