// Files that are only ever replaced whole, read again only when they were replaced.
import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { LruMap } from './lru.js';

/** Files whose contents one instance remembers, most recently read first. */
const DEFAULT_CAPACITY = 4096;

/**
 * For files written whole to a temporary name and then linked or renamed into place,
 * never written in place (the CPU counter records): a file's inode then names its
 * contents, so a stat(2) tells whether the parsed contents remembered are still the
 * file's, instead of an open, a read and a parse.
 */
export class ReplacedWholeFiles<T> {
  private readonly known: LruMap<string, { ino: number; value: T }>;

  /** `parse` gets undefined for a file that is missing or cannot be read. */
  constructor(private readonly parse: (text: string | undefined) => T, capacity = DEFAULT_CAPACITY) {
    this.known = new LruMap(capacity);
  }

  read(path: string): T {
    let ino: number | undefined;
    try {
      // A missing file is usual (nothing shown yet): no exception made for it.
      ino = statSync(path, { throwIfNoEntry: false })?.ino;
    } catch {
      ino = undefined;
    }
    if (ino === undefined) return this.parse(undefined);
    const known = this.known.get(path);
    if (known?.ino === ino) return known.value;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return this.parse(undefined);
    }
    try {
      // The inode of what is read, which a rename may have made newer than the one above.
      const read = { ino: fstatSync(fd).ino, value: this.parse(readFileSync(fd, 'utf8')) };
      this.known.set(path, read);
      return read.value;
    } catch {
      return this.parse(undefined);
    } finally {
      closeSync(fd);
    }
  }
}
