// MemTotal and MemFree for a reader in a memory cgroup (v1 or v2): limit, ancestors, host cap, real usage.
import { expect, it } from 'vitest';
import { waitForLine } from './harness/exec.js';
import { field, hostMemTotalKb, memTotalLine, MiB } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

describeE2E('meminfo follows the reader\'s memory cgroup', () => {
  const fx = useFixture();
  const meminfo = (rel: string) => fx.readIn(rel, fx.daemon.path('proc/meminfo'));

  it('reports a 300 MiB limit as "MemTotal:         307200 kB"', async () => {
    fx.cgroups.make('limited', { memoryLimit: 300 * MiB });
    expect(memTotalLine(await meminfo('limited'))).toBe('MemTotal:         307200 kB');
  });

  it('reports the minimum limit over the cgroup and its ancestors', async () => {
    fx.cgroups.make('outer', { memoryLimit: 300 * MiB });
    fx.cgroups.make('outer/inner', { memoryLimit: 400 * MiB });
    expect(field(await meminfo('outer/inner'), 'MemTotal')).toBe(307200);
  });

  it.each([
    ['no limit', undefined],
    ['a limit above host RAM', 64 * 1024 * 1024 * MiB],
  ])('caps MemTotal at host RAM for %s', async (_, limit) => {
    const rel = limit === undefined ? 'unlimited' : 'huge';
    fx.cgroups.make(rel, limit === undefined ? {} : { memoryLimit: limit });
    expect(field(await meminfo(rel), 'MemTotal')).toBe(hostMemTotalKb());
  });

  it('MemFree is the limit minus memory.current (v1 memory.usage_in_bytes)', async () => {
    fx.cgroups.make('usage', { memoryLimit: 300 * MiB });
    const before = fx.cgroups.memoryCurrent('usage');
    const text = await meminfo('usage');
    const after = fx.cgroups.memoryCurrent('usage');
    // usage moves while cat runs (its own pages, per-cpu charge batches): allow a few MiB.
    const slackKb = 8 * 1024;
    expect(field(text, 'MemFree')).toBeGreaterThanOrEqual((300 * MiB - Math.max(before, after)) / 1024 - slackKb);
    expect(field(text, 'MemFree')).toBeLessThanOrEqual((300 * MiB - Math.min(before, after)) / 1024 + slackKb);
  });

  it('MemFree drops by at least 40 MiB while a process in the cgroup holds 50 MiB; MemTotal stays', async () => {
    fx.cgroups.make('alloc', { memoryLimit: 300 * MiB });
    const before = await meminfo('alloc');
    // Buffer.alloc with a fill value touches every page, so all 50 MiB are charged.
    const holder = fx.cgroups.spawn('alloc', process.execPath, [
      '-e', 'const b = Buffer.alloc(50 * 2 ** 20, 1); console.log("ready"); setInterval(() => b.length, 1e6);',
    ]);
    try {
      await waitForLine(holder, /^ready$/);
      // Past the 250 ms within which the README promises a changed usage shows.
      await new Promise((resolve) => setTimeout(resolve, 250));
      const after = await meminfo('alloc');
      expect(field(before, 'MemFree') - field(after, 'MemFree')).toBeGreaterThanOrEqual(40 * 1024);
      expect([field(before, 'MemTotal'), field(after, 'MemTotal')]).toEqual([307200, 307200]);
      expect(field(after, 'MemFree')).toBeLessThanOrEqual(307200);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
