import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyStateDir } from '../../../src/daemon/state-dir.js';
import { ensurePrivateDir, writeNewFile } from '../../../src/shared/private-files.js';

const NOBODY = 65534;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-unit-state-'));
  dirs.push(dir);
  return dir;
}

const unsafe = (why: RegExp) => expect.objectContaining({ code: 'STATE_DIR_UNSAFE', message: expect.stringMatching(why) as unknown });

describe('verifyStateDir (issue 18)', () => {
  it('makes a missing state directory, mode 0700, and accepts it', () => {
    const dir = join(scratch(), 'state');
    verifyStateDir(dir);
    expect(statSync(dir).mode & 0o7777).toBe(0o700);
  });

  it.each([
    ['a symlink', (base: string) => (mkdirSync(join(base, 'real'), { mode: 0o700 }), symlinkSync(join(base, 'real'), join(base, 's')), join(base, 's')), /is a symlink/],
    ['a regular file', (base: string) => (writeFileSync(join(base, 'f'), ''), join(base, 'f')), /is not a directory/],
    ['writable by others', (base: string) => (mkdirSync(join(base, 'o')), chmodSync(join(base, 'o'), 0o757), join(base, 'o')), /writable by others \(mode 757\)/],
    ['writable by its group', (base: string) => (mkdirSync(join(base, 'g')), chmodSync(join(base, 'g'), 0o770), join(base, 'g')), /writable by its group/],
    ['owned by nobody', (base: string) => (mkdirSync(join(base, 'n'), { mode: 0o700 }), chownSync(join(base, 'n'), NOBODY, NOBODY), join(base, 'n')), /owned by uid 65534/],
    ['inside a directory others may write, without the sticky bit', (base: string) => (mkdirSync(join(base, 'p')), chmodSync(join(base, 'p'), 0o777), join(base, 'p', 'state')), /inside .*\/p, which is writable by others/],
  ])('refuses %s with STATE_DIR_UNSAFE', (_, make, why) => {
    const dir = make(scratch());
    expect(() => verifyStateDir(dir)).toThrow(unsafe(why));
  });

  it('accepts a state directory inside a sticky world-writable one (/tmp/cgprocfs)', () => {
    const base = scratch();
    chmodSync(base, 0o1777);
    expect(() => verifyStateDir(join(base, 'state'))).not.toThrow();
  });
});

describe('files of the state directory', () => {
  it('ensurePrivateDir refuses a symlink planted at a subdirectory\'s name', () => {
    const base = scratch();
    mkdirSync(join(base, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(base, 'elsewhere'), join(base, 'cpu'));
    expect(() => ensurePrivateDir(join(base, 'cpu'))).toThrow(unsafe(/is a symlink/));
  });

  it('writeNewFile never writes through a symlink planted at its name', () => {
    const base = scratch();
    writeFileSync(join(base, 'secret'), 'root only\n', { mode: 0o600 });
    symlinkSync(join(base, 'secret'), join(base, 'record.tmp'));
    expect(() => writeNewFile(join(base, 'record.tmp'), 'forged')).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(statSync(join(base, 'secret')).size).toBe('root only\n'.length);
  });
});
