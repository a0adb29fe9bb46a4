// The sources every view of a worker shares: the host's /proc/stat is read once per
// clock tick (counterCacheMs), not once per rendering (issue 22).
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { createViewSources } from '../../../src/render/view-sources.js';
import { CGROUP_V2, PROC_ROOT } from '../helpers/fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the fixture proc root whose `stat` the test rewrites. */
function procCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-sources-'));
  dirs.push(dir);
  cpSync(PROC_ROOT, dir, { recursive: true });
  return dir;
}

/** The fixture's /proc/stat with the interrupt total set to `total`. */
function withInterrupts(procRoot: string, total: number): void {
  const path = join(procRoot, 'stat');
  writeFileSync(path, readFileSync(path, 'utf8').replace(/^intr \d+/m, `intr ${total}`));
}

const interrupts = (text: string): string | undefined => /^intr (\d+)/m.exec(text)?.[1];

describe('the host /proc/stat of a worker', () => {
  it('is read once per tick: within counterCacheMs every view gets the same reading', () => {
    const procRoot = procCopy();
    let now = 1000;
    const sources = createViewSources({ procRoot, layout: detectLayout(CGROUP_V2), counterCacheMs: 10, clockMs: () => now });
    withInterrupts(procRoot, 111);
    const first = sources.hostStat();
    withInterrupts(procRoot, 222);
    now += 9;
    expect(sources.hostStat()).toBe(first);
    now += 1;
    expect(interrupts(sources.hostStat().text)).toBe('222');
  });

  it('is read at every use without a tick (cgprocfs render)', () => {
    const procRoot = procCopy();
    const sources = createViewSources({ procRoot, layout: detectLayout(CGROUP_V2), clockMs: () => 5 });
    withInterrupts(procRoot, 111);
    expect(interrupts(sources.hostStat().text)).toBe('111');
    withInterrupts(procRoot, 222);
    expect(interrupts(sources.hostStat().text)).toBe('222');
  });
});
