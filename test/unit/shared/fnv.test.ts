import { describe, expect, it } from 'vitest';
import { fnv1a32Hex, fnv1a64, fnv1a64BigInt } from '../../../src/shared/fnv.js';
import { nodeIdOf } from '../../../src/fs/tree.js';

function fnvReference(text: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text)) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash;
}

describe('FNV-1a', () => {
  it.each(['', 'a', 'foobar', '/sys/fs/cgroup/system.slice/docker-a1b2c3.scope'])('is 64-bit FNV-1a (%j)', (text) => {
    expect(fnv1a64BigInt(Buffer.from(text))).toBe(fnvReference(text));
  });

  it('matches the published test vectors', () => {
    expect(fnv1a64(Buffer.from('a'))).toEqual({ hi: 0xaf63dc4c, lo: 0x8601ec8c });
    expect(fnv1a32Hex('a')).toBe('e40c292c');
  });

  // A reloaded server (new code) resolves the node ids its predecessor handed to the
  // kernel: these must never change between versions.
  it.each([
    ['proc', 0x85729b0e3537bc61n],
    ['proc/meminfo', 0x49865b5a0139bf53n],
    ['sys/devices/system/cpu/cpu1/topology/core_id', 0x391d65ed11c1a861n],
  ])('gives %s the node id every earlier version gave it', (path, id) => {
    expect(nodeIdOf(path)).toBe(id);
  });
});
