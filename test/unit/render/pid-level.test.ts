import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ViewTarget } from '../../../src/caller/target.js';
import { PidLevels, type PidLevel } from '../../../src/render/pid-level.js';
import { PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';
import { testTarget } from '../helpers/render-context.js';

/** One service's pid levels per proc root, as a view service holds them. */
const services = new Map<string, PidLevels>();
function pidLevel(procRoot: string, target: ViewTarget): PidLevel {
  let levels = services.get(procRoot);
  if (levels === undefined) services.set(procRoot, (levels = new PidLevels(procRoot)));
  return levels.of(target);
}

const target = (pid: number | undefined, containerInit: boolean): ViewTarget => testTarget({ pid, containerInit, key: `t ${pid}` });

describe('the pid level a view shows pids at', () => {
  const copy = useFixtureCopies();

  it.each([
    ['a container\'s init (NSpid 2100 1)', 2100, true, 1],
    ['a process resolved to itself in a namespace below the daemon\'s (NSpid 2150 7)', 2150, false, 1],
    ['a host process', 2000, false, 'host'],
    ['an explicit cgroup', undefined, false, 'host'],
  ] as const)('is right for %s', (_, pid, containerInit, level) => {
    expect(pidLevel(PROC_ROOT, target(pid, containerInit))).toBe(level);
  });

  it('says gone for a container whose init has exited', () => {
    const procRoot = copy(PROC_ROOT);
    rmSync(join(procRoot, '2100'), { recursive: true });
    expect(pidLevel(procRoot, target(2100, true))).toBe('gone');
  });

  it('reads a target\'s status once: a task never changes pid namespace (regression: two status reads per open of stat)', () => {
    const procRoot = copy(PROC_ROOT);
    const reader = target(2150, false);
    expect(pidLevel(procRoot, reader)).toBe(1);
    // The memo answers now; a status that claimed another namespace would only show
    // up for a new target (a new task, or a new resolution of this one).
    const status = join(procRoot, '2150', 'status');
    writeFileSync(status, readFileSync(status, 'utf8').replace(/NSpid:.*\n/, 'NSpid:\t2150\n'));
    expect(pidLevel(procRoot, reader)).toBe(1);
    expect(pidLevel(procRoot, target(2150, false))).toBe('host');
  });
});
