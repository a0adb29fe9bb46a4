// /proc/meminfo as text: parse it, the host's keys, and the kernel's line format.
import { readFileSync } from 'node:fs';

export const MiB = 1024 * 1024;

/** Keys and kB values in file order. Throws on any line the kernel would not print. */
export function parseMeminfo(text: string): Map<string, number> {
  if (!text.endsWith('\n')) throw new Error(`meminfo does not end with a newline: ${JSON.stringify(text.slice(-40))}`);
  const fields = new Map<string, number>();
  for (const line of text.slice(0, -1).split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)( kB)?$/.exec(line);
    if (!m?.[1] || m[2] === undefined) throw new Error(`malformed meminfo line: ${JSON.stringify(line)}`);
    if (fields.has(m[1])) throw new Error(`duplicate meminfo key ${m[1]}`);
    fields.set(m[1], Number(m[2]));
  }
  return fields;
}

export function field(text: string, key: string): number {
  const value = parseMeminfo(text).get(key);
  if (value === undefined) throw new Error(`meminfo has no ${key}:\n${text}`);
  return value;
}

export function hostMeminfoKeys(): string[] {
  return [...parseMeminfo(readFileSync('/proc/meminfo', 'utf8')).keys()];
}

export function hostMemTotalKb(): number {
  return field(readFileSync('/proc/meminfo', 'utf8'), 'MemTotal');
}

export function memTotalLine(text: string): string | undefined {
  return text.split('\n').find((line) => line.startsWith('MemTotal:'));
}
