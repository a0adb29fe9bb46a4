import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import { parseMembership } from '../../../src/cgroup/membership.js';
import { SERVED_FILES } from '../../../src/files/table.js';
import { pressureView } from '../../../src/render/pressure.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, DOCKER_A, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';
import { contextFor, targetOn, type TargetSpec } from '../helpers/render-context.js';

const RESOURCES = ['cpu', 'memory', 'io'] as const;
/** The table's PSI files, each with the view of its resource. */
const pressureViews = Object.fromEntries(
  SERVED_FILES.filter((entry) => entry.path.startsWith('proc/pressure/')).map((entry) => {
    const resource = RESOURCES.find((name) => entry.path === `proc/pressure/${name}`);
    if (resource === undefined) throw new Error(`no PSI resource for ${entry.path}`);
    return [entry.path, pressureView(resource)];
  }),
);
const HOST_PRESSURE = (resource: string, procRoot = PROC_ROOT) => readFileSync(join(procRoot, 'pressure', resource), 'utf8');
const pressure = (resource: string, root: string, target: TargetSpec, procRoot = PROC_ROOT) => {
  const view = pressureViews[`proc/pressure/${resource}`];
  if (view === undefined) throw new Error(`no view for ${resource}`);
  return view(contextFor(root, target, procRoot));
};

describeServedFiles(['proc/pressure/cpu', 'proc/pressure/memory', 'proc/pressure/io'], '/proc/pressure of a view', () => {
  it('serves cpu, memory and io', () => {
    expect(Object.keys(pressureViews)).toEqual(['proc/pressure/cpu', 'proc/pressure/memory', 'proc/pressure/io']);
  });

  it.each(RESOURCES)('copies the cgroup\'s own %s.pressure byte for byte on v2', (resource) => {
    const own = readFileSync(join(CGROUP_V2, DOCKER_A, `${resource}.pressure`), 'utf8');
    expect(pressure(resource, CGROUP_V2, DOCKER_A)).toBe(own);
    expect(own).not.toBe(HOST_PRESSURE(resource));
  });

  it.each(RESOURCES)('reads %s.pressure from unified/ on a hybrid host, the path from the reader\'s 0:: line', (resource) => {
    const membership = parseMembership(readFileSync(join(PROC_ROOT, '3200', 'cgroup'), 'utf8'));
    const own = readFileSync(join(CGROUP_HYBRID, 'unified', 'lxc.payload.b', 'nested', `${resource}.pressure`), 'utf8');
    expect(pressure(resource, CGROUP_HYBRID, targetOn(membership))).toBe(own);
  });

  it.each(RESOURCES)('shows the host\'s /proc/pressure/%s on a pure v1 host (no per-cgroup PSI)', (resource) => {
    expect(pressure(resource, CGROUP_V1, DOCKER_A)).toBe(HOST_PRESSURE(resource));
  });

  it.each([['v2', CGROUP_V2], ['hybrid', CGROUP_HYBRID], ['v1', CGROUP_V1]])(
    'shows the root cgroup the host\'s /proc/pressure on %s',
    (_, root) => {
      for (const resource of RESOURCES) expect(pressure(resource, root, '/')).toBe(HOST_PRESSURE(resource));
    },
  );

  describe('without PSI', () => {
    const copy = useFixtureCopies();

    it('raises SOURCE_UNREADABLE when the kernel has no /proc/pressure (pure v1 host)', () => {
      const procRoot = copy(PROC_ROOT);
      rmSync(join(procRoot, 'pressure'), { recursive: true });
      expect(() => pressure('io', CGROUP_V1, DOCKER_A, procRoot)).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
    });

    it('raises SOURCE_UNREADABLE, not the host\'s numbers, for a cgroup without its pressure file', () => {
      const root = copy(CGROUP_V2);
      rmSync(join(root, DOCKER_A, 'io.pressure'));
      expect(() => pressure('io', root, DOCKER_A)).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
    });

    it('raises SOURCE_UNREADABLE for a cgroup that does not exist', () => {
      expect(() => pressure('cpu', CGROUP_V2, '/gone.scope')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
    });
  });
});
