import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../../src/fuse/mount.js';

describe('parseMountinfo', () => {
  it('reads mountpoint, type, device, source and options of a line, octal escapes undone', () => {
    const line = '42 27 0:39 / /tmp/a\\040b ro,nosuid,nodev - fuse.cgprocfs cgprocfs ro,user_id=0,allow_other\n';
    expect(parseMountinfo(line)).toEqual([
      { mountpoint: '/tmp/a b', fstype: 'fuse.cgprocfs', device: '0:39', source: 'cgprocfs', options: 'ro,nosuid,nodev,ro,user_id=0,allow_other' },
    ]);
  });

  it('finds the separator after optional fields and skips lines without one', () => {
    const text = '1 0 8:1 / / rw shared:1 master:2 - ext4 /dev/vda rw\ngarbage\n';
    expect(parseMountinfo(text).map((m) => [m.mountpoint, m.fstype, m.source])).toEqual([['/', 'ext4', '/dev/vda']]);
  });
});
