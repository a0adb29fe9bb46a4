// One container whose process has 20,000 threads cannot stall /proc for the others
// (issue 17): its own stat and loadavg answer at once, with approximate task counts
// from the sampler, and a quiet container reads meminfo throughout while four readers
// in the thread-heavy one read stat and loadavg as fast as they can.
import { expect, it } from 'vitest';
import { waitFor, waitForLine } from './harness/exec.js';
import { containerInit, figures, load, readsInContainer, readsInNamespaceOf, usePrograms } from './harness/floods.js';
import { MiB } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const THREADS = 20_000;
const HEAVY_READERS = 4;
const FLOOD_MS = 8_000;
/** Generous sanity bounds: before issue 17 one read took 5 s and a quiet reader waited 96 s for one. */
const ONE_READ_BOUND_MS = 2_000;
const QUIET_READS_AT_LEAST = 100;
/**
 * The median read of stat and loadavg in the thread-heavy container: about 0.4 ms when
 * its tasks are never listed at a rendering, 44 ms when something lists its 20,000
 * threads at each (27 ms for the listing alone on cgroup v1; a regression once).
 */
const HEAVY_MEDIAN_BOUND_MS = 20;

describeE2E(`a container with ${THREADS} threads beside a quiet one`, () => {
  const fx = useFixture();
  const programs = usePrograms();

  it('answers the thread-heavy container at once with its task count, and the quiet container reads throughout', async () => {
    const bin = await programs.build('threads');
    fx.cgroups.make('heavy');
    fx.cgroups.make('quiet', { memoryLimit: 300 * MiB });
    const threads = programs.started(fx.cgroups.spawn('heavy', 'unshare', ['--pid', '--fork', '--kill-child', bin, String(THREADS)]));
    await waitForLine(threads, /^ready/, 30_000);
    const init = await waitFor('the thread-heavy container\'s init', () => containerInit(fx.cgroups, 'heavy'));
    const [stat, loadavg, meminfo] = ['proc/stat', 'proc/loadavg', 'proc/meminfo'].map((file) => fx.daemon.path(file)) as [string, string, string];

    const once = await readsInNamespaceOf(fx.cgroups, 'heavy', init, 0, [stat, loadavg]);
    console.log(`[thread-heavy] one read of stat, then loadavg, in the ${THREADS}-thread container: ${figures(once)} (load ${load()})`);
    expect(once.errors).toEqual({});
    expect(once.maxMs).toBeLessThan(ONE_READ_BOUND_MS);

    const heavy = Array.from({ length: HEAVY_READERS }, () => readsInNamespaceOf(fx.cgroups, 'heavy', init, FLOOD_MS, [stat, loadavg]));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const quiet = await readsInContainer(fx.cgroups, 'quiet', FLOOD_MS - 2_000, [meminfo]);
    const flooders = await Promise.all(heavy);
    console.log(`[thread-heavy] quiet container's meminfo beside ${HEAVY_READERS} readers of stat and loadavg: ${figures(quiet)} (load ${load()})`);
    for (const r of flooders) console.log(`[thread-heavy]   reader in the ${THREADS}-thread container: ${figures(r)}`);
    expect(quiet.errors).toEqual({});
    expect(quiet.reads).toBeGreaterThanOrEqual(QUIET_READS_AT_LEAST);
    for (const r of flooders) expect(r.errors).toEqual({});
    for (const r of flooders) expect(r.p50Ms).toBeLessThan(HEAVY_MEDIAN_BOUND_MS);

    // The sampler counted the container meanwhile: its tasks are all there (and the readers).
    const total = Number(flooders[0]!.last[loadavg]?.split(' ')[3]?.split('/')[1]);
    expect(total).toBeGreaterThanOrEqual(THREADS);
  }, 120_000);
});
