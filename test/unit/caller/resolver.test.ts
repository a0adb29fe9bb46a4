import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCallerResolver, type ResolvePolicy } from '../../../src/caller/resolver.js';
import { PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';

function memoryPath(policy: ResolvePolicy, tid: number, procRoot = PROC_ROOT): string | undefined {
  return createCallerResolver(procRoot, policy).targetFor(tid).cgroups.memory[1].raw;
}

describe('whose view a reader gets', () => {
  it.each([
    ['init', 'a host process: its own cgroup', 1200, '/user.slice/user-1000.slice/session-3.scope'],
    ['init', 'the host init: its own cgroup, /init.scope kept', 1, '/init.scope'],
    ['init', 'a container child: the container init\'s cgroup', 2150, '/system.slice/docker-a1b2c3.scope'],
    ['init', 'an exec\'d process: the container init\'s cgroup', 2300, '/system.slice/docker-a1b2c3.scope'],
    ['init', 'a service of a systemd container: its init\'s cgroup without /init.scope', 3150, '/lxc.payload.b'],
    ['init', 'the systemd container\'s init itself: without /init.scope', 3100, '/lxc.payload.b'],
    ['init', 'a process of a nested namespace: the nested init\'s cgroup', 3201, '/lxc.payload.b/nested'],
    ['caller', 'a service of a systemd container: its own cgroup', 3150, '/lxc.payload.b/system.slice/nginx.service'],
    ['caller', 'the systemd container\'s init: its own cgroup, /init.scope kept', 3100, '/lxc.payload.b/init.scope'],
  ] as const)('policy %s gives %s', (policy, _, tid, expected) => {
    expect(memoryPath(policy, tid)).toBe(expected);
  });

  it.each([
    ['init', 0],
    ['caller', 0],
    ['init', 99999],
    ['caller', 99999],
    ['init', -1],
  ] as const)('policy %s raises CALLER_UNKNOWN for tid %d (pid 0 or gone)', (policy, tid) => {
    expect(() => memoryPath(policy, tid)).toThrow(expect.objectContaining({ code: 'CALLER_UNKNOWN' }));
  });

  it.each([
    ['init', 2150, 2100, true],
    ['init', 1200, 1200, false],
    ['caller', 2150, 2150, false],
  ] as const)('policy %s names the process whose view tid %d gets (%d, container init %s)', (policy, tid, pid, containerInit) => {
    expect(createCallerResolver(PROC_ROOT, policy).targetFor(tid)).toMatchObject({ pid, containerInit });
  });

  describe('membership is never cached', () => {
    const copy = useFixtureCopies();

    it.each(['init', 'caller'] as const)('policy %s sees a moved process in its new cgroup at the next call', (policy) => {
      const root = copy(PROC_ROOT);
      const resolver = createCallerResolver(root, policy);
      const pid = policy === 'init' ? 2100 : 2150;
      expect(resolver.targetFor(2150).cgroups.memory[1].raw).toBe('/system.slice/docker-a1b2c3.scope');
      writeFileSync(join(root, String(pid), 'cgroup'), '3:memory:/system.slice/moved.scope\n0::/system.slice/moved.scope\n');
      expect(resolver.targetFor(2150).cgroups.memory[1].raw).toBe('/system.slice/moved.scope');
    });
  });
});
