// An OPEN resolves its reader once (issue 20): whether a per-reader file (a cpuN entry)
// is visible and what it renders come from one view, not from two resolutions of the
// same thread; an OPEN refused before rendering resolves nobody.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadOnlyFilesystem, type ContentSource, type ReaderView } from '../../../src/fs/filesystem.js';
import { createHandleStore, HandleStore } from '../../../src/fs/handles.js';
import { nodeIdOf, Tree } from '../../../src/fs/tree.js';

const CPU1 = 'sys/devices/system/cpu/cpu1/online';
const CPU2 = 'sys/devices/system/cpu/cpu2/online';
const READER = { uid: 0, gid: 0, pid: 4242 };
const arenas = mkdtempSync(join(tmpdir(), 'cgprocfs-open-'));
afterAll(() => rmSync(arenas, { recursive: true, force: true }));

/** A content source that sees CPU 1 only and counts how often it resolves the reader. */
function countingSource(): ContentSource & { resolutions: number } {
  const source = {
    resolutions: 0,
    renderForReader: () => Buffer.from('1\n'),
    readerView(): ReaderView {
      source.resolutions++;
      return { container: { id: [1, 2, 3, 4], name: '/c' }, render: () => Buffer.from('1\n'), visible: (path) => path.includes('/cpu1/') };
    },
    isPerReader: (path: string) => /\/cpu\d+\//.test(path),
    visibleFor(): (path: string) => boolean {
      source.resolutions++;
      return (path) => path.includes('/cpu1/');
    },
  };
  return source;
}

describe('an OPEN', () => {
  let epoch = 1;
  const filesystem = (content: ContentSource) =>
    new ReadOnlyFilesystem({
      tree: new Tree(['proc/meminfo', CPU1, CPU2]),
      handles: new HandleStore(createHandleStore(arenas, epoch++, { slots: 8, arenaBytes: 16 * 4096 })),
      content,
      mountedAtSec: 0,
    });

  it('of a per-reader file the reader sees resolves the reader once and serves its rendering', () => {
    const content = countingSource();
    const fs = filesystem(content);
    const fh = fs.open(nodeIdOf(CPU1), 0, READER);
    expect(fs.read(fh, 0n, 4096, READER).toString()).toBe('1\n');
    expect(content.resolutions).toBe(1);
  });

  it('of a per-reader file the reader does not see is ENOENT, after one resolution', () => {
    const content = countingSource();
    expect(() => filesystem(content).open(nodeIdOf(CPU2), 0, READER)).toThrow(expect.objectContaining({ errno: 'ENOENT' }));
    expect(content.resolutions).toBe(1);
  });

  it('refused for writing resolves nobody', () => {
    const content = countingSource();
    expect(() => filesystem(content).open(nodeIdOf('proc/meminfo'), 1, READER)).toThrow(expect.objectContaining({ errno: 'EROFS' }));
    expect(content.resolutions).toBe(0);
  });
});
