import { mkdtempSync, renameSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReplacedWholeFiles } from '../../../src/shared/replaced-whole-files.js';

const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-replaced-'));
/** tmpfs, where inode numbers name contents (the default state directory is on tmpfs too). */
const tmpfsDir = mkdtempSync('/dev/shm/cgprocfs-replaced-');
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(tmpfsDir, { recursive: true, force: true });
});

/** Writes `text` to a temporary name and renames it into place, as the counter store does. */
function commit(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

describe('files replaced whole', () => {
  it('parses a file on tmpfs once while it stays the same file', () => {
    expect(statfsSync(tmpfsDir).type).toBe(0x01021994);
    const path = join(tmpfsDir, 'steady');
    commit(path, '1');
    const parsed: (string | undefined)[] = [];
    const files = new ReplacedWholeFiles((text) => (parsed.push(text), Number(text)));
    expect([files.read(path), files.read(path), files.read(path)]).toEqual([1, 1, 1]);
    expect(parsed).toEqual(['1']);
  });

  it('reads a file again once another writer renamed a new one into place', () => {
    const path = join(dir, 'replaced');
    commit(path, 'first');
    const files = new ReplacedWholeFiles((text) => text);
    expect(files.read(path)).toBe('first');
    commit(path, 'second');
    expect(files.read(path)).toBe('second');
  });

  it.each([['tmpfs', tmpfsDir], ['the temporary directory', dir]])(
    'reads the newest file on %s when several replacements came between two reads',
    (_, where) => {
      // ext4 hands the inode number of the file a rename freed to the next new file:
      // after two replacements the number is the one remembered, the contents are not.
      const path = join(where, 'often');
      const files = new ReplacedWholeFiles((text) => text);
      commit(path, 'v1');
      expect(files.read(path)).toBe('v1');
      for (let version = 2; version <= 9; version++) {
        commit(path, `v${version}`);
        commit(path, `v${version}b`);
        expect(files.read(path)).toBe(`v${version}b`);
      }
    },
  );

  it('parses a missing file as undefined, and one that appears later', () => {
    const path = join(dir, 'coming');
    const files = new ReplacedWholeFiles((text) => text ?? 'none');
    expect(files.read(path)).toBe('none');
    commit(path, 'here');
    expect(files.read(path)).toBe('here');
    unlinkSync(path);
    expect(files.read(path)).toBe('none');
  });

  it('parses what cannot be read as undefined', () => {
    const files = new ReplacedWholeFiles((text) => text ?? 'unreadable');
    expect(files.read(dir)).toBe('unreadable');
  });
});
