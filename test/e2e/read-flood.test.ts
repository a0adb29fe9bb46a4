// A container reading the mount as fast as it can with 32 processes cannot stall a
// quiet container's reads (issue 17): requests are served in turns by requester
// (fuse/request-queue.ts). Prints the quiet container's latency alone and beside the
// flood; the only bounds are sanity bounds (the targets live in the bench's noisy
// neighbour row: timings on a shared machine are no assertion).
import { expect, it } from 'vitest';
import { waitForLine } from './harness/exec.js';
import { figures, load, readsInContainer, usePrograms } from './harness/floods.js';
import { MiB } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const FLOODERS = 32;
const WINDOW_MS = 4_000;
/**
 * Sanity bound: the quiet container keeps at least a quarter of the reads it makes
 * alone (before issue 17 it kept about a twentieth: 2,876 -> 153 reads/s in the bench).
 */
const QUIET_SHARE_AT_LEAST = 1 / 4;

describeE2E(`a quiet container beside one flooding the mount with ${FLOODERS} readers`, () => {
  const fx = useFixture();
  const programs = usePrograms();

  it('reads without a failure, and its latency beside the flood is printed', async () => {
    const bin = await programs.build('flood');
    fx.cgroups.make('quiet', { memoryLimit: 300 * MiB });
    fx.cgroups.make('flood');
    const meminfo = fx.daemon.path('proc/meminfo');
    const alone = await readsInContainer(fx.cgroups, 'quiet', WINDOW_MS, [meminfo]);
    const loadAlone = load();
    const flood = programs.started(fx.cgroups.spawn('flood', 'unshare', ['--pid', '--fork', '--kill-child', bin, String(FLOODERS), meminfo]));
    await waitForLine(flood, /^flooding/, 30_000);
    const beside = await readsInContainer(fx.cgroups, 'quiet', WINDOW_MS, [meminfo]);
    console.log(`[read flood] quiet container's meminfo alone: ${figures(alone)} (load ${loadAlone})`);
    console.log(`[read flood] beside ${FLOODERS} flooding readers: ${figures(beside)} (load ${load()})`);
    console.log(`[read flood] p99 beside / alone: ${((beside.p99Ms ?? 0) / (alone.p99Ms ?? 1)).toFixed(2)}`);
    expect(alone.errors).toEqual({});
    expect(beside.errors).toEqual({});
    expect(beside.reads).toBeGreaterThanOrEqual(alone.reads * QUIET_SHARE_AT_LEAST);
    // The flood closes every file it opens: served in turns, its RELEASEs keep up, so it
    // never comes near its share of open files (regression: they waited their turn
    // behind every container's reads, and a flood of reads ended in EMFILE).
    expect(fx.daemon.logs()).not.toContain('--max-open-per-container');
  }, 120_000);
});
