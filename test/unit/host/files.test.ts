import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOptionalLink, readOptionalText, readText } from '../../../src/host/files.js';

const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pseudo-file reads', () => {
  it('reads a missing file or link as absent', () => {
    expect(readOptionalText(join(dir, 'missing'))).toBeUndefined();
    expect(readOptionalText(join(dir, 'missing', 'below'))).toBeUndefined();
    expect(readOptionalLink(join(dir, 'missing'))).toBeUndefined();
  });

  it('raises SOURCE_UNREADABLE for a required file that is missing', () => {
    expect(() => readText(join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it('raises SOURCE_UNREADABLE, not absence, for a failure other than "does not exist"', () => {
    // Reading a directory fails with EISDIR: something is there, but it is not what we need.
    expect(() => readOptionalText(dir)).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it('reads an existing file', () => {
    const path = join(dir, 'value');
    writeFileSync(path, '42\n');
    chmodSync(path, 0o444);
    expect(readText(path)).toBe('42\n');
  });
});
