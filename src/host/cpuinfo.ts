// The host's /proc/cpuinfo as blocks: one per processor (lines up to a blank line),
// plus any block without a `processor` field (headers or trailers on some
// architectures), which is kept as it is.
import { join } from 'node:path';
import { readText } from './files.js';

export interface CpuinfoBlock {
  readonly lines: readonly string[];
  /** The `processor` field: the kernel's CPU id; undefined for a block without one. */
  readonly processor: number | undefined;
}

/** `key\t\t: value` -> `key`. */
export function cpuinfoKey(line: string): string {
  const colon = line.indexOf(':');
  return (colon < 0 ? line : line.slice(0, colon)).trim();
}

function fieldIn(lines: readonly string[], key: string): string | undefined {
  const line = lines.find((candidate) => cpuinfoKey(candidate) === key);
  return line === undefined ? undefined : line.slice(line.indexOf(':') + 1).trim();
}

/** The value of `key` in a block, or undefined. */
export function cpuinfoField(block: CpuinfoBlock, key: string): string | undefined {
  return fieldIn(block.lines, key);
}

/** The line with its value replaced, keeping the kernel's `key\t: ` layout. */
export function withCpuinfoValue(line: string, value: string | number): string {
  return `${line.slice(0, line.indexOf(':') + 1)} ${value}`;
}

function processorOf(lines: readonly string[]): number | undefined {
  const value = fieldIn(lines, 'processor');
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

export function parseCpuinfo(text: string): CpuinfoBlock[] {
  const groups: string[][] = [[]];
  for (const line of text.split('\n')) {
    if (line !== '') groups.at(-1)!.push(line);
    else if (groups.at(-1)!.length > 0) groups.push([]);
  }
  return groups.filter((lines) => lines.length > 0).map((lines) => ({ lines, processor: processorOf(lines) }));
}

/** Blocks in the kernel's layout: each followed by a blank line. */
export function formatCpuinfo(blocks: readonly CpuinfoBlock[]): string {
  return blocks.map((block) => `${block.lines.join('\n')}\n\n`).join('');
}

export function readHostCpuinfo(procRoot: string): string {
  return readText(join(procRoot, 'cpuinfo'));
}
