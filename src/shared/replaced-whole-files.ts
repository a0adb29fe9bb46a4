// Files that are only ever replaced whole, read again only when they were replaced.
import { closeSync, fstatSync, openSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { LruMap } from './lru.js';
import { READ_NOFOLLOW } from './private-files.js';

const TMPFS_MAGIC = 0x01021994;

/** Files whose contents one instance remembers, most recently read first. */
const DEFAULT_CAPACITY = 4096;

/**
 * For files written whole to a temporary name and then linked or renamed into place,
 * never written in place (the CPU counter records): on tmpfs (the default state
 * directory, /run) a file's inode number then names its contents, as tmpfs never
 * hands out a number again soon, so a stat(2) tells whether the parsed contents
 * remembered are still the file's, instead of an open, a read and a parse. Other
 * filesystems reuse a freed inode number at once (ext4 alternates two across
 * replacements), so there every read reads the file.
 */
export class ReplacedWholeFiles<T> {
  private readonly known: LruMap<string, { ino: number; value: T }>;
  /** Per directory: whether an inode number names contents there (it is on tmpfs). */
  private readonly trusted = new Map<string, boolean>();

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
    const trusted = this.inodesNameContents(dirname(path));
    const known = trusted ? this.known.get(path) : undefined;
    if (known?.ino === ino) return known.value;
    let fd: number;
    try {
      // Never through a symlink planted at a record's name (issue 18).
      fd = openSync(path, READ_NOFOLLOW);
    } catch {
      return this.parse(undefined);
    }
    try {
      // The inode of what is read, which a rename may have made newer than the one above.
      const read = { ino: fstatSync(fd).ino, value: this.parse(readFileSync(fd, 'utf8')) };
      if (trusted) this.known.set(path, read);
      return read.value;
    } catch {
      return this.parse(undefined);
    } finally {
      closeSync(fd);
    }
  }

  private inodesNameContents(dir: string): boolean {
    let trusted = this.trusted.get(dir);
    if (trusted === undefined) {
      try {
        trusted = statfsSync(dir).type === TMPFS_MAGIC;
      } catch {
        return false; // asked again next time
      }
      this.trusted.set(dir, trusted);
    }
    return trusted;
  }
}
