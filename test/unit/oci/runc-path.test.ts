// Which runc cgprocfs-runc execs: --runc or CGPROCFS_RUNC if given, else runc on PATH, and
// never the wrapper itself, however it is reached (a PATH entry or a symlink named runc).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRunc, RuncNotFoundError } from '../../../src/oci/runc-path.js';

let dir = '';
const at = (...parts: string[]) => join(dir, ...parts);

function executable(path: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cgprocfs-runc-path-'));
  executable(at('wrapper', 'cgprocfs-runc.js'));
  executable(at('sbin', 'runc'));
  executable(at('opt', 'crun'));
  mkdirSync(at('local'));
  symlinkSync(at('wrapper', 'cgprocfs-runc.js'), at('local', 'runc'));
  mkdirSync(at('notexec'));
  writeFileSync(at('notexec', 'runc'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const self = () => at('wrapper', 'cgprocfs-runc.js');

describe('the real runc', () => {
  it('is the first runc on PATH', () => {
    expect(resolveRunc({ requested: undefined, path: `${at('sbin')}:${at('opt')}`, self: self() })).toBe(at('sbin', 'runc'));
  });

  it('skips a runc on PATH that is the wrapper itself (a symlink to it) and one that is not executable', () => {
    expect(resolveRunc({ requested: undefined, path: `${at('local')}:${at('notexec')}:${at('sbin')}`, self: self() })).toBe(at('sbin', 'runc'));
  });

  it('is the path given with --runc or CGPROCFS_RUNC', () => {
    expect(resolveRunc({ requested: at('opt', 'crun'), path: at('sbin'), self: self() })).toBe(at('opt', 'crun'));
  });

  it('looks a bare name given with --runc up on PATH', () => {
    expect(resolveRunc({ requested: 'crun', path: `${at('sbin')}:${at('opt')}`, self: self() })).toBe(at('opt', 'crun'));
  });

  // Paths relative to the test directory, made absolute once it exists.
  it.each([
    ['no runc on PATH', undefined, ['opt'], /no runc on PATH/],
    ['only the wrapper on PATH', undefined, ['local'], /other than cgprocfs-runc itself/],
    ['a given path that is the wrapper', 'local/runc', ['sbin'], /is cgprocfs-runc itself/],
    ['a given path that does not exist', 'nope/runc', ['sbin'], /is not an executable file/],
    ['an empty PATH', undefined, [], /no runc on PATH/],
  ])('throws RuncNotFoundError, saying why, for %s', (_, requested, dirs, message) => {
    const path = dirs.length > 0 ? dirs.map((d) => at(d)).join(':') : undefined;
    const attempt = () => resolveRunc({ requested: requested && at(requested), path, self: self() });
    expect(attempt).toThrow(RuncNotFoundError);
    expect(attempt).toThrow(message);
  });
});
