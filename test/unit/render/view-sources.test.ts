// The sources every view of a worker shares: the host's online CPUs are read once per
// clock tick (counterCacheMs), not at every rendering that needs them (issue 22).
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { createViewSources } from '../../../src/render/view-sources.js';
import { CGROUP_V2, PROC_ROOT } from '../helpers/fixtures.js';
import { useTempDirs } from '../helpers/render-context.js';

const tempDir = useTempDirs('cgprocfs-sources-');

/** A copy of the fixture proc root (CPUs 0-3 online) whose `stat` the test rewrites. */
function procCopy(): string {
  const dir = tempDir();
  cpSync(PROC_ROOT, dir, { recursive: true });
  return dir;
}

/** The host takes CPU 3 offline: its line leaves /proc/stat. */
function takeCpu3Offline(procRoot: string): void {
  const path = join(procRoot, 'stat');
  writeFileSync(path, readFileSync(path, 'utf8').replace(/^cpu3 .*\n/m, ''));
}

describe('the host online CPUs of a worker', () => {
  it('are read once per tick: within counterCacheMs every view gets the same list', () => {
    const procRoot = procCopy();
    let now = 1000;
    const sources = createViewSources({ procRoot, layout: detectLayout(CGROUP_V2), counterCacheMs: 10, clockMs: () => now });
    expect(sources.hostOnlineCpus()).toEqual([0, 1, 2, 3]);
    takeCpu3Offline(procRoot);
    now += 9;
    expect(sources.hostOnlineCpus()).toEqual([0, 1, 2, 3]);
    now += 1;
    expect(sources.hostOnlineCpus()).toEqual([0, 1, 2]);
  });

  it('are read at every use without a tick (cgprocfs render)', () => {
    const procRoot = procCopy();
    const sources = createViewSources({ procRoot, layout: detectLayout(CGROUP_V2), clockMs: () => 5 });
    expect(sources.hostOnlineCpus()).toEqual([0, 1, 2, 3]);
    takeCpu3Offline(procRoot);
    expect(sources.hostOnlineCpus()).toEqual([0, 1, 2]);
  });
});
