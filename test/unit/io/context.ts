// A view context for one explicit cgroup path on a fixture tree, like
// `cgprocfs render --cgroup PATH`.
import { detectLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths, type CgroupPaths } from '../../../src/cgroup/membership.js';
import { createViewSources } from '../../../src/render/view-sources.js';
import type { RenderOptions, ViewContext } from '../../../src/render/sources.js';
import { PROC_ROOT } from '../helpers/fixtures.js';

export const DOCKER_A = '/system.slice/docker-a1b2c3.scope';

export function contextFor(cgroupRoot: string, path: string | CgroupPaths, procRoot = PROC_ROOT): ViewContext {
  const layout = detectLayout(cgroupRoot);
  const paths = typeof path === 'string' ? uniformPaths(path) : path;
  return {
    sources: createViewSources({ procRoot, layout }),
    target: { paths, pid: undefined, containerInit: false, key: 'test' },
    options: { swap: true } as RenderOptions,
  };
}
