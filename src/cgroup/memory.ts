// What the memory controller says about one cgroup, in cgroup v2 vocabulary, and
// the file access both drivers share. Byte values as the kernel reports them; the
// hierarchy rules and renderers turn them into a view.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CgprocfsError } from '../errors.js';
import { readOptionalText, readText } from '../host/files.js';
import { parseCount, parseKeyedValues, parseLimit, type Limit } from './values.js';

export interface SwapReading {
  /** The swap limit at the cgroup and each ancestor below the root, nearest first. */
  readonly limitChain: readonly Limit[];
  /** True when those limits count memory plus swap (v1 memory.memsw.*), not swap alone. */
  readonly limitIncludesMemory: boolean;
  /** Swap in use, bytes (memory.swap.current). */
  readonly current: number;
  /** memory.swappiness of the nearest level that has one (v1 only). */
  readonly swappiness: number | undefined;
}

export interface MemoryReading {
  /** memory.max at the cgroup and each ancestor below the root, nearest first. */
  readonly limitChain: readonly Limit[];
  /** memory.current: bytes charged, page cache included. */
  readonly current: number;
  /** memory.stat, hierarchical, v2 key names, bytes. */
  readonly stat: Readonly<Record<string, number>>;
  /** Undefined when the kernel does no swap accounting (the files are absent). */
  readonly swap: SwapReading | undefined;
}

/**
 * Reads the memory controller of one cgroup on one hierarchy. Undefined for the
 * root cgroup, which stands for the whole host: its view is the host's own files.
 */
export type MemoryDriver = (mount: string, path: string) => MemoryReading | undefined;

/** Reads the files of one cgroup directory. */
export class CgroupDir {
  constructor(
    readonly mount: string,
    readonly path: string,
  ) {}

  file(name: string): string {
    return join(this.mount, this.path, name);
  }

  optional(name: string): string | undefined {
    return readOptionalText(this.file(name));
  }

  count(name: string): number {
    return parseCount(readText(this.file(name)), this.file(name));
  }

  keyed(name: string): Record<string, number> {
    return parseKeyedValues(readText(this.file(name)), this.file(name));
  }

  optionalCount(name: string): number | undefined {
    const text = this.optional(name);
    return text === undefined ? undefined : parseCount(text, this.file(name));
  }

  optionalLimit(name: string): Limit | undefined {
    const text = this.optional(name);
    return text === undefined ? undefined : parseLimit(text, this.file(name));
  }

  /** Throws SOURCE_UNREADABLE unless the cgroup exists on this hierarchy. */
  mustExist(): void {
    if (!existsSync(join(this.mount, this.path))) {
      throw new CgprocfsError('SOURCE_UNREADABLE', `no cgroup ${this.path} under ${this.mount}`);
    }
  }
}

/** The `name` limits of `dirs` that have the file, in order. */
export function limitChain(dirs: readonly CgroupDir[], name: string): Limit[] {
  return dirs.map((dir) => dir.optionalLimit(name)).filter((limit) => limit !== undefined);
}
