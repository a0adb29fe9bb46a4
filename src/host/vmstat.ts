// The host's /proc/vmstat (mm/vmstat.c vmstat_show: `%s %lu` per line, in the kernel's
// order) as name/value pairs, and the machine's page size, which its `nr_*` gauges count in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, readText, unparsable } from './files.js';

export interface VmstatLine {
  readonly key: string;
  readonly value: bigint;
}

const LINE = /^(\S+) (\d+)$/;

export function parseVmstat(text: string, source: string): VmstatLine[] {
  return lines(text).map((line) => {
    const match = LINE.exec(line);
    if (match === null) throw unparsable(source, line);
    return { key: match[1]!, value: BigInt(match[2]!) };
  });
}

export function readHostVmstat(procRoot: string): VmstatLine[] {
  const path = join(procRoot, 'vmstat');
  return parseVmstat(readText(path), path);
}

const DEFAULT_PAGE_BYTES = 4096;

/**
 * The base page size (this process's first mapping's `KernelPageSize`, as the kernel
 * reports it in /proc/self/smaps: 4 kB on x86_64, 4, 16 or 64 kB on arm64); 4096 when
 * it cannot be read. It never changes while the machine runs: the view sources read it
 * once (render/view-sources.ts).
 */
export function readPageSize(): number {
  let kb: number | undefined;
  try {
    kb = Number(/^KernelPageSize:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/smaps', 'utf8'))?.[1]);
  } catch {
    kb = undefined;
  }
  return kb !== undefined && Number.isSafeInteger(kb) && kb > 0 ? kb * 1024 : DEFAULT_PAGE_BYTES;
}
