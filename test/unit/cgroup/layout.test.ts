import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeLayout, detectLayout, hierarchyOf } from '../../../src/cgroup/layout.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2 } from '../helpers/fixtures.js';

describe('cgroup layout detection', () => {
  it.each([
    ['a cgroup2 tree', CGROUP_V2, 'v2', { version: 2, mount: CGROUP_V2 }],
    ['v1 controller directories', CGROUP_V1, 'v1', { version: 1, mount: join(CGROUP_V1, 'memory') }],
    ['v1 plus a cgroup2 at unified that owns memory', CGROUP_HYBRID, 'hybrid', { version: 2, mount: join(CGROUP_HYBRID, 'unified') }],
  ])('detects %s and where memory lives', (_, root, kind, memory) => {
    const layout = detectLayout(root);
    expect(layout.kind).toBe(kind);
    expect(hierarchyOf(layout, 'memory')).toEqual(memory);
  });

  it('serves cpu and cpuacct from their own links into the combined cpu,cpuacct hierarchy', () => {
    const layout = detectLayout(CGROUP_V1);
    expect(hierarchyOf(layout, 'cpu').mount).toBe(join(CGROUP_V1, 'cpu'));
    expect(hierarchyOf(layout, 'cpuacct').mount).toBe(join(CGROUP_V1, 'cpuacct'));
  });

  it('keeps a controller that has a v1 directory on v1 in a hybrid layout', () => {
    expect(hierarchyOf(detectLayout(CGROUP_HYBRID), 'cpuset')).toEqual({ version: 1, mount: join(CGROUP_HYBRID, 'cpuset') });
  });

  it('describes the layout for the startup log', () => {
    expect(describeLayout(detectLayout(CGROUP_HYBRID))).toEqual({
      kind: 'hybrid',
      cgroupRoot: CGROUP_HYBRID,
      controllers: { cpu: 'v1', cpuacct: 'v1', cpuset: 'v1', memory: 'v2', pids: 'v1', systemd: 'v1' },
    });
  });

  it('raises CGROUP_LAYOUT for a directory with no cgroup hierarchy', () => {
    const empty = mkdtempSync(join(tmpdir(), 'cgprocfs-layout-'));
    try {
      expect(() => detectLayout(empty)).toThrow(expect.objectContaining({ code: 'CGROUP_LAYOUT' }));
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it('raises CGROUP_LAYOUT for a missing root and for a controller the layout lacks', () => {
    expect(() => detectLayout('/nonexistent/cgroup')).toThrow(expect.objectContaining({ code: 'CGROUP_LAYOUT' }));
    expect(() => hierarchyOf(detectLayout(CGROUP_V1), 'rdma')).toThrow(expect.objectContaining({ code: 'CGROUP_LAYOUT' }));
  });
});
