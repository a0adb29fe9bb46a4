import { describe, expect, it } from 'vitest';
import { mountSource, parseMountinfo, servedMountpoint } from '../../../src/fuse/mount.js';

describe('parseMountinfo', () => {
  it('reads ids, root, mountpoint, type, device, source and options of a line, octal escapes undone', () => {
    const line = '42 27 0:39 /proc/mem\\040info /tmp/a\\040b ro,nosuid,nodev - fuse.cgprocfs cgprocfs:/tmp/a\\040b ro,user_id=0,allow_other\n';
    expect(parseMountinfo(line)).toEqual([
      {
        id: 42,
        parentId: 27,
        root: '/proc/mem info',
        mountpoint: '/tmp/a b',
        fstype: 'fuse.cgprocfs',
        device: '0:39',
        source: 'cgprocfs:/tmp/a b',
        options: 'ro,nosuid,nodev,ro,user_id=0,allow_other',
      },
    ]);
  });

  it('finds the separator after optional fields and skips lines without one', () => {
    const text = '1 0 8:1 / / rw shared:1 master:2 - ext4 /dev/vda rw\ngarbage\n';
    expect(parseMountinfo(text).map((m) => [m.mountpoint, m.fstype, m.source])).toEqual([['/', 'ext4', '/dev/vda']]);
  });
});

describe('the mount source', () => {
  it('names the mountpoint, so a bind of a dead connection tells where it was served (issue 16)', () => {
    expect(mountSource('/var/lib/cgprocfs')).toBe('cgprocfs:/var/lib/cgprocfs');
    expect(servedMountpoint(mountSource('/tmp/a b'))).toBe('/tmp/a b');
    expect(servedMountpoint(parseMountinfo('42 27 0:39 / /m ro - fuse.cgprocfs cgprocfs:/m\\040x ro\n')[0]!.source)).toBe('/m x');
  });

  it('names no mountpoint for a mount made before it did', () => {
    expect(servedMountpoint('cgprocfs')).toBeUndefined();
  });
});
