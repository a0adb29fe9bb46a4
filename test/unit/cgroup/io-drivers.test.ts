import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIo, type DeviceIo } from '../../../src/cgroup/io.js';
import { parseRwStat } from '../../../src/cgroup/io-v1.js';
import { parseIoStat } from '../../../src/cgroup/io-v2.js';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths } from '../../../src/cgroup/membership.js';
import { cgroupViewOf, type CgroupView } from '../../../src/cgroup/view.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, DOCKER_A, useFixtureCopies } from '../helpers/fixtures.js';

const viewOn = (path: string): CgroupView => cgroupViewOf(uniformPaths(path));

const io = (fields: Partial<DeviceIo>): DeviceIo => ({ rbytes: 0n, wbytes: 0n, rios: 0n, wios: 0n, dbytes: 0n, dios: 0n, ...fields });
const read = (root: string, path: string) => readIo(detectLayout(root), viewOn(path));

/** Container A in every fixture tree that has an I/O controller. */
const DOCKER_A_IO = new Map([
  ['8:0', io({ rbytes: 18743296n, wbytes: 52428800n, rios: 1204n, wios: 3310n })],
  ['259:0', io({ rbytes: 7340032n, wbytes: 104857600n, rios: 512n, wios: 2048n, dbytes: 1073741824n, dios: 16n })],
  ['8:16', io({})],
  ['8:32', io({ rbytes: 4096n, rios: 1n })],
]);

function withoutRecursiveFiles(root: string): void {
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('_recursive')) rmSync(join(dir, entry.name));
    }
  };
  walk(join(root, 'blkio'));
}

describe('I/O readings in io.stat vocabulary', () => {
  it.each([['v1 blkio.throttle.*_recursive', CGROUP_V1], ['v2 io.stat', CGROUP_V2]])(
    'reads bytes and operations per device from %s',
    (_, root) => {
      expect(read(root, DOCKER_A)).toEqual(DOCKER_A_IO);
    },
  );

  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]])('counts descendants in a parent cgroup on %s', (_, root) => {
    expect(read(root, '/lxc.payload.b')?.get('259:0')).toEqual(io({ rbytes: 13631488n, wbytes: 22544384n, rios: 416n, wios: 688n }));
  });

  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]])('answers undefined (the host) for the root cgroup on %s', (_, root) => {
    expect(read(root, '/')).toBeUndefined();
  });

  it('reads nothing where the layout has no I/O controller (hybrid fixture without blkio)', () => {
    expect(read(CGROUP_HYBRID, DOCKER_A)).toEqual(new Map());
  });

  it('reads nothing of its own for a v2 cgroup whose parent does not enable io', () => {
    expect(read(CGROUP_V2, '/user.slice/user-1000.slice/session-3.scope')).toEqual(new Map());
  });

  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]])('raises SOURCE_UNREADABLE for a cgroup that does not exist on %s', (_, root) => {
    expect(() => read(root, '/gone.scope')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  describe('on a kernel without the *_recursive files (v1)', () => {
    const copy = useFixtureCopies();

    it.each([DOCKER_A, '/lxc.payload.b'])('sums the per-cgroup files over the subtree of %s', (path) => {
      const root = copy(CGROUP_V1);
      withoutRecursiveFiles(root);
      expect(read(root, path)).toEqual(read(CGROUP_V1, path));
    });

    it('reads nothing when blk-throttle is not built in (no throttle files at all)', () => {
      const root = copy(CGROUP_V1);
      for (const name of readdirSync(join(root, 'blkio', DOCKER_A)).filter((file) => file.startsWith('blkio.'))) {
        rmSync(join(root, 'blkio', DOCKER_A, name));
      }
      expect(read(root, DOCKER_A)).toEqual(new Map());
    });
  });
});

describe('the io.stat parser', () => {
  it.each([
    ['a device without I/O (bare name and space)', '8:16 \n', io({})],
    ['iolatency debug keys after the counters', '8:0 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=0 dios=0 depth=max avg_lat=412 win=100\n', io({ rbytes: 512n, rios: 1n })],
    ['a pre-discard kernel (four keys)', '8:0 rbytes=1024 wbytes=2048 rios=2 wios=4\n', io({ rbytes: 1024n, wbytes: 2048n, rios: 2n, wios: 4n })],
    ['counters above 2^53', '8:0 rbytes=18446744073709551615 wbytes=0 rios=0 wios=0 dbytes=0 dios=0\n', io({ rbytes: 18446744073709551615n })],
  ])('reads %s', (_, text, expected) => {
    expect([...parseIoStat(text, 'test').values()]).toEqual([expected]);
  });

  it.each([['a device that is not MAJ:MIN', 'sda rbytes=1\n'], ['a non-numeric counter', '8:0 rbytes=x\n']])(
    'raises SOURCE_UNREADABLE for %s',
    (_, text) => {
      expect(() => parseIoStat(text, 'test')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
    },
  );
});

describe('the v1 rwstat parser', () => {
  it('keeps Read, Write and Discard per device and skips Sync, Async and the totals', () => {
    const text = '8:0 Read 3\n8:0 Write 4\n8:0 Sync 5\n8:0 Async 2\n8:0 Discard 1\n8:0 Total 8\nTotal 8\n';
    expect(parseRwStat(text, 'test')).toEqual(new Map([['8:0', { Read: 3n, Write: 4n, Discard: 1n }]]));
  });

  it('reads an empty file (no device ever used) as no devices', () => {
    expect(parseRwStat('Total 0\n', 'test')).toEqual(new Map());
  });

  it.each([['a device that is not MAJ:MIN', 'sda Read 1\n'], ['a non-numeric count', '8:0 Read x\n'], ['an extra field', '8:0 Read 1 2\n']])(
    'raises SOURCE_UNREADABLE for %s',
    (_, text) => {
      expect(() => parseRwStat(text, 'test')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
    },
  );
});
