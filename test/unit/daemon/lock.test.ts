// One daemon per state directory and mountpoint (issue 16): a second lock is refused
// with who holds it; a holder that is killed leaves nothing behind.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockHolder, lockMountpoint, lockStateDir } from '../../../src/daemon/lock.js';
import { childModule } from '../../support/child-module.js';

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-lock-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('the state directory lock', () => {
  it('refuses a second holder with one line naming the first, and frees the lock when the first closes it', () => {
    const stateDir = join(freshDir(), 'state');
    const fd = lockStateDir(stateDir, { pid: 4242, mountpoint: '/var/lib/cgprocfs', systemdUnit: 'cgprocfs.service' });
    expect(lockHolder(stateDir)).toEqual({ pid: 4242, mountpoint: '/var/lib/cgprocfs', systemdUnit: 'cgprocfs.service' });
    expect(() => lockStateDir(stateDir, { pid: 1, mountpoint: '/x' })).toThrow(
      expect.objectContaining({
        code: 'ALREADY_RUNNING',
        message: `the cgprocfs daemon pid 4242 (serving /var/lib/cgprocfs, cgprocfs.service) holds the state directory ${stateDir}: stop it first, or give this one another --state-dir`,
      }),
    );
    closeSync(fd);
    expect(lockHolder(stateDir)).toBeUndefined();
    closeSync(lockStateDir(stateDir, { pid: 1, mountpoint: '/x' }));
  });

  it('is free again the moment its holder is SIGKILLed: no stale pid file to clean up', async () => {
    const stateDir = freshDir();
    const script = `
      import { lockStateDir } from ${JSON.stringify(childModule('src/daemon/lock.ts'))};
      lockStateDir(${JSON.stringify(stateDir)}, { pid: process.pid, mountpoint: '/m' });
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(lockHolder(stateDir)?.pid).toBe(child.pid);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(lockHolder(stateDir)).toBeUndefined();
    closeSync(lockStateDir(stateDir, { pid: process.pid, mountpoint: '/m' }));
  });

  it('says no daemon holds a state directory that has no lock file', () => {
    expect(lockHolder(join(freshDir(), 'never-used'))).toBeUndefined();
  });
});

describe('the mountpoint lock', () => {
  it('refuses a second start on the same bare mountpoint directory', () => {
    const mountpoint = join(freshDir(), 'mnt');
    mkdirSync(mountpoint);
    lockMountpoint(mountpoint);
    expect(() => lockMountpoint(mountpoint)).toThrow(/another cgprocfs is starting on .*mnt: stop it first, or choose another --mountpoint/);
  });
});
