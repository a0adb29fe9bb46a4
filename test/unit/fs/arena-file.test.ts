// Free epochs for a new server start (issue 18): never one an arena file or a server
// without one uses, found in bounded time, and NAMES_EXHAUSTED when there is none.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createArenaFile, freshEpoch } from '../../../src/fs/arena-file.js';
import { EPOCH_LIMIT } from '../../../src/fs/arena-format.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function arenaDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-unit-epochs-'));
  dirs.push(dir);
  return dir;
}

describe('freshEpoch', () => {
  it('never picks an epoch an arena file already uses', () => {
    const dir = arenaDir();
    createArenaFile(dir, 5, 8, 64);
    const picks = [4 / 65535, 4 / 65535, 9 / 65535];
    expect(freshEpoch(dir, [], () => picks.shift()!)).toBe(10);
    expect(readdirSync(dir)).toEqual(['handles-5.arena']);
  });

  it('never picks the epoch of a server serving without an arena file', () => {
    const picks = [4 / 65535, 6 / 65535];
    expect(freshEpoch(arenaDir(), [5], () => picks.shift()!)).toBe(7);
  });

  it('finds the one free epoch by a bounded scan when random picks keep hitting taken ones', () => {
    const dir = arenaDir();
    const taken = Array.from({ length: EPOCH_LIMIT - 3 }, (_, i) => i + 3);
    expect(freshEpoch(dir, [1, ...taken], () => 0)).toBe(2);
  });

  it('throws NAMES_EXHAUSTED, never loops, when every epoch is taken (regression: freshEpoch spun forever)', () => {
    const dir = arenaDir();
    const every = Array.from({ length: EPOCH_LIMIT - 1 }, (_, i) => i + 1);
    let picks = 0;
    expect(() => freshEpoch(dir, every, () => (picks++, 0.5))).toThrow(expect.objectContaining({ code: 'NAMES_EXHAUSTED' }));
    expect(picks).toBeLessThan(100);
  });
});
