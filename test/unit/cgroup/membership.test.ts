import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMembership, uniformPaths, withoutInitScope } from '../../../src/cgroup/membership.js';
import { PROC_ROOT } from '../helpers/fixtures.js';

const HYBRID_HOST = `9:name=systemd:/
4:memory:/process_api/3d64
1:cpu,cpuacct:/system.slice/a:b.scope
0::/unified/path
`;

describe('cgroup membership', () => {
  it.each([
    ['memory', 1, '/process_api/3d64'],
    ['cpu', 1, '/system.slice/a:b.scope'],
    ['cpuacct', 1, '/system.slice/a:b.scope'],
    ['memory', 2, '/unified/path'],
    ['pids', 1, undefined],
  ] as const)('finds the %s path on a v%d hierarchy', (controller, version, expected) => {
    expect(parseMembership(HYBRID_HOST)(controller, version)).toBe(expected);
  });

  it('reads a pure v2 membership', () => {
    expect(parseMembership('0::/system.slice/docker-1.scope\n')('memory', 2)).toBe('/system.slice/docker-1.scope');
  });

  it('reads the fixture proc root', () => {
    const paths = parseMembership(readFileSync(join(PROC_ROOT, '3100', 'cgroup'), 'utf8'));
    expect(paths('memory', 1)).toBe('/lxc.payload.b/init.scope');
  });

  it('passes over a v1 hierarchy line without controllers (a tool\'s bare mount), rather than fail every reader', () => {
    const paths = parseMembership(`10::/\n${HYBRID_HOST}`);
    expect(paths('memory', 1)).toBe('/process_api/3d64');
    expect(paths('', 1)).toBeUndefined();
  });

  it('rejects a malformed line as SOURCE_UNREADABLE', () => {
    expect(() => parseMembership('memory=/x\n')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it.each([
    ['/lxc.payload.b/init.scope', '/lxc.payload.b'],
    ['/init.scope', '/'],
    ['/lxc.payload.b/init.scope/sub', '/lxc.payload.b/init.scope/sub'],
    ['/my-init.scope', '/my-init.scope'],
  ])('strips a trailing /init.scope: %s -> %s', (path, expected) => {
    expect(withoutInitScope(uniformPaths(path))('memory', 2)).toBe(expected);
  });
});
