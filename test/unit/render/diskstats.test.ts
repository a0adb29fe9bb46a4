import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import { parseDiskstats } from '../../../src/host/diskstats.js';
import { diskstatsView } from '../../../src/render/diskstats.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, DOCKER_A, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';
import { contextFor } from '../helpers/render-context.js';

const HOST = readFileSync(join(PROC_ROOT, 'diskstats'), 'utf8');
const diskstats = (root: string, path: string, procRoot = PROC_ROOT) => diskstatsView(contextFor(root, path, procRoot));

/** Counters the I/O controller keeps: reads, sectors read, writes, sectors written, discards, sectors discarded. */
const CGROUP_COUNTERS = new Set([0, 2, 4, 6, 11, 13]);

describeServedFiles(['proc/diskstats'], '/proc/diskstats of a view', () => {
  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]])(
    'shows container A only the disks it did I/O on, with its operations and bytes/512 as sectors, on %s',
    (_, root) => {
      expect(diskstats(root, DOCKER_A)).toBe(
        '   8       0 sda 1204 0 36608 0 3310 0 102400 0 0 0 0 0 0 0 0 0 0\n' +
          ' 259       0 nvme0n1 512 0 14336 0 2048 0 204800 0 0 0 0 16 0 2097152 0 0 0\n',
      );
    },
  );

  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]])('shows a parent cgroup the I/O of its descendants on %s', (_, root) => {
    expect(diskstats(root, '/lxc.payload.b')).toBe(' 259       0 nvme0n1 416 0 26624 0 688 0 44032 0 0 0 0 0 0 0 0 0 0\n');
  });

  it.each([
    ['v1', CGROUP_V1, '/system.slice'],
    ['v2', CGROUP_V2, '/lxc.payload.b/nested'],
  ])('copies no host counter into any line (%s, %s)', (_, root, path) => {
    const lines = parseDiskstats(diskstats(root, path), 'view');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.counters.filter((value, index) => !CGROUP_COUNTERS.has(index) && value !== 0n)).toEqual([]);
    }
  });

  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]])('shows the root cgroup the host file unchanged on %s', (_, root) => {
    expect(diskstats(root, '/')).toBe(HOST);
  });

  it.each([
    ['the layout has no I/O controller (hybrid fixture)', CGROUP_HYBRID, DOCKER_A],
    ['the layout has no I/O controller, even for the root cgroup', CGROUP_HYBRID, '/'],
    ['the v2 parent does not enable io', CGROUP_V2, '/user.slice/user-1000.slice/session-3.scope'],
  ])('is empty, not the host\'s, when %s', (_, root, path) => {
    expect(diskstats(root, path)).toBe('');
  });

  describe('against other host kernels', () => {
    const copy = useFixtureCopies();

    it('keeps the host kernel\'s counter count (15 before 5.5) and leaves out what it lacks', () => {
      const procRoot = copy(PROC_ROOT);
      const shortened = HOST.split('\n').map((line) => line.split(' ').slice(0, -2).join(' ')).join('\n');
      writeFileSync(join(procRoot, 'diskstats'), shortened);
      expect(diskstats(CGROUP_V2, DOCKER_A, procRoot)).toBe(
        '   8       0 sda 1204 0 36608 0 3310 0 102400 0 0 0 0 0 0 0 0\n' +
          ' 259       0 nvme0n1 512 0 14336 0 2048 0 204800 0 0 0 0 16 0 2097152 0\n',
      );
    });

    it.each([
      ['missing', (path: string) => rmSync(path)],
      ['unparsable', (path: string) => writeFileSync(path, 'garbage\n')],
    ])('raises SOURCE_UNREADABLE when the host /proc/diskstats is %s', (_, spoil) => {
      const procRoot = copy(PROC_ROOT);
      spoil(join(procRoot, 'diskstats'));
      expect(() => diskstats(CGROUP_V2, DOCKER_A, procRoot)).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
    });
  });
});
