// Two serving workers behind one rendering cache (issue 22 review): the kernel hands a
// reader's requests to either worker, so nothing a worker keeps of its own may show a
// reader less than the other worker already showed it. A one-bucket cache stands in for
// a hash collision among the daemon's buckets (or a rendering too large for one), which
// leaves each worker to its own sources.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createViewService, type ViewService } from '../../../src/render/views.js';
import { allocateRenderingCache } from '../../../src/shared/rendering-cache.js';
import { CGROUP_V2, DOCKER_A, PROC_ROOT } from '../helpers/fixtures.js';
import { useTempDirs, VIEW_DEFAULTS } from '../helpers/render-context.js';

const tempDir = useTempDirs('cgprocfs-two-workers-');

interface Host {
  readonly now: () => number;
  tick(ms: number): void;
  /** Rewrites the host's /proc/stat through `edit`, from the fixture's text. */
  stat(edit: (text: string) => string): void;
  readonly workers: readonly [ViewService, ViewService];
}

function twoWorkers(): Host {
  const procRoot = tempDir();
  cpSync(PROC_ROOT, procRoot, { recursive: true });
  const statPath = join(procRoot, 'stat');
  const original = readFileSync(statPath, 'utf8');
  let now = 1000;
  const options = {
    ...VIEW_DEFAULTS,
    stateDir: tempDir(),
    cgroupRoot: CGROUP_V2,
    procRoot,
    counterCacheMs: 10,
    cacheClockMs: () => now,
    renderingCache: allocateRenderingCache(1),
  };
  return {
    now: () => now,
    tick: (ms) => void (now += ms),
    stat: (edit) => writeFileSync(statPath, edit(original)),
    workers: [createViewService(options), createViewService(options)],
  };
}

const field = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1]);

describe('two workers serving one reader', () => {
  it("never show the host's /proc/stat going back", () => {
    const host = twoWorkers();
    const [a, b] = host.workers;
    const idle = (worker: ViewService) => field(worker.renderForCgroup('proc/stat', '/').toString(), /^cpu {2}\d+ \d+ \d+ (\d+)/m);
    const withIdle = (value: number) => host.stat((text) => text.replace(/^cpu {2}(\d+) (\d+) (\d+) \d+/m, `cpu  $1 $2 $3 ${value}`));
    withIdle(100);
    a.renderForCgroup('proc/uptime', '/'); // a reads the host's /proc/stat now
    withIdle(200);
    host.tick(1);
    const first = idle(b);
    host.tick(1);
    a.renderForCgroup('proc/uptime', '/'); // another key takes the one bucket
    host.tick(1);
    expect(first).toBe(200);
    expect(idle(a)).toBeGreaterThanOrEqual(first);
  });

  it("never show a container's interrupts going back", () => {
    const host = twoWorkers();
    const [a, b] = host.workers;
    const intr = (worker: ViewService) => field(worker.renderForCgroup('proc/stat', DOCKER_A).toString(), /^intr (\d+)/m);
    const withInterrupts = (total: number) => host.stat((text) => text.replace(/^intr \d+/m, `intr ${total}`));
    const shown: number[] = [];
    withInterrupts(2_000_000);
    shown.push(intr(b));
    host.tick(10);
    withInterrupts(3_000_000);
    shown.push(intr(b));
    host.tick(6);
    withInterrupts(3_500_000);
    a.renderForCgroup('proc/stat', '/'); // a reads the host's /proc/stat at 3.5 M
    host.tick(4);
    withInterrupts(4_000_000);
    shown.push(intr(b));
    host.tick(1);
    a.renderForCgroup('proc/uptime', '/'); // another key takes the one bucket
    host.tick(1);
    shown.push(intr(a));
    for (let i = 1; i < shown.length; i++) expect(shown[i]).toBeGreaterThanOrEqual(shown[i - 1]!);
  });
});
