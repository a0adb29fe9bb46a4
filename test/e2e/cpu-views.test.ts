// Containers (unshare, in real cgroups, our cpuinfo/stat/uptime/loadavg/meminfo and sysfs `online` bound in)
// see one set of CPU ids under a cpuset or a quota, and their own CPU usage in /proc/stat and top (issue 3).
import { beforeAll, expect, it } from 'vitest';
import { CPU_VIEW_BINDS, runInContainer } from './harness/container.js';
import { busyTicks, statCpuLines, TICKS_PER_SECOND, topCpuFrames } from './harness/cpu-files.js';
import { describeRun } from './harness/exec.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

/** The largest v1 cpu.shares (v2: cpu.weight 10000): this shared 2-CPU host runs other work, which would otherwise take CPU from our loops. */
const MAX_SHARES = 262_144;
const PERIOD_US = 100_000;
const BUSY_LOOP = `sh -c 'while :; do :; done' &`;
/** A plain C locale and no toprc, so top prints its default summary lines with '.' decimals. */
const TOOL_ENV = { ...process.env, LC_ALL: 'C', HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' };
const SECTION = '@@\n';

describeE2E('containers see their own CPUs and CPU time', () => {
  const fx = useFixture();
  let containers = 0;

  beforeAll(() => {
    const cpus = fx.cgroups.effectiveCpus();
    if (cpus !== '0-1') throw new Error(`these tests are written for a host whose cpuset is 0-1, not ${cpus}`);
    // The weight applies among siblings at each level: the suite's top cgroup and each container's.
    fx.cgroups.setCpuShares('', MAX_SHARES);
  });

  /** A fresh cgroup per container: CPU counters and load averages are kept per cgroup. */
  const makeCgroup = (setup: (rel: string) => void = () => undefined): string => {
    const rel = `c${containers++}`;
    fx.cgroups.make(rel);
    fx.cgroups.setCpuShares(rel, MAX_SHARES);
    setup(rel);
    return rel;
  };
  const oneCpuQuota = (rel: string) => fx.cgroups.setCpuQuota(rel, PERIOD_US, PERIOD_US);

  const inContainer = async (rel: string, script: string): Promise<string> => {
    const argv = ['sh', '-c', script];
    const opts = { timeoutMs: 30_000, env: TOOL_ENV };
    const r = await runInContainer(fx.cgroups, rel, fx.daemon.mountpoint, argv, opts, CPU_VIEW_BINDS);
    if (r.code !== 0) throw new Error(describeRun(argv, r));
    return r.stdout;
  };

  /** The container in `rel` sees CPU `id` alone, the same in every CPU view it reads. */
  const expectOneCpu = async (rel: string, id: string): Promise<void> => {
    const out = await inContainer(rel, [
      'grep ^processor /proc/cpuinfo', 'echo @@', 'cat /proc/stat', 'echo @@',
      'cat /sys/devices/system/cpu/online', 'echo @@', 'getconf _NPROCESSORS_ONLN',
    ].join('; '));
    const [cpuinfo = '', stat = '', online, nprocs] = out.split(SECTION);
    expect(cpuinfo.split('\n').filter(Boolean).map((line) => line.replace(/\s+/g, ' '))).toEqual([`processor : ${id}`]);
    expect([...statCpuLines(stat).keys()]).toEqual(['cpu', `cpu${id}`]);
    expect(online).toBe(`${id}\n`);
    expect(nprocs).toBe('1\n');
  };

  it.each([
    { limit: 'a cpuset of CPU 1 alone', cpus: '1', quotaUs: undefined, id: '1' },
    { limit: 'a 0.5-CPU quota on the 2-CPU cpuset', cpus: '0-1', quotaUs: 50_000, id: '0' },
  ])('$limit: cpuinfo has only processor $id, /proc/stat only cpu$id, online reads $id, getconf counts 1', async ({ cpus, quotaUs, id }) => {
    const rel = makeCgroup((r) => {
      fx.cgroups.setCpus(r, cpus);
      if (quotaUs !== undefined) fx.cgroups.setCpuQuota(r, quotaUs, PERIOD_US);
    });
    await expectOneCpu(rel, id);
  });

  it('a cpuset of CPU 1 and a 1-CPU quota set on the parent alone: the child\'s effective cpuset and the ancestors\' quota rule its views', async () => {
    const parent = makeCgroup((r) => {
      fx.cgroups.setCpus(r, '1');
      oneCpuQuota(r);
    });
    fx.cgroups.make(`${parent}/child`);
    fx.cgroups.setCpuShares(`${parent}/child`, MAX_SHARES);
    expect(fx.cgroups.effectiveCpus(`${parent}/child`)).toBe('1');
    await expectOneCpu(`${parent}/child`, '1');
  });

  it('a busy loop in a 1-CPU container makes top -bn2 -d1 show >= 85% us+sy and <= 15% id on its second frame', { retry: 2 }, async () => {
    const out = await inContainer(makeCgroup(oneCpuQuota), `${BUSY_LOOP} top -bn2 -d1`);
    const frames = topCpuFrames(out);
    console.log(`[cpu-views] busy 1-CPU container, top frames: ${JSON.stringify(frames)}`);
    expect(frames).toHaveLength(2);
    const second = frames[1]!;
    expect(second['us']! + second['sy']!).toBeGreaterThanOrEqual(85);
    expect(second['id']).toBeLessThanOrEqual(15);
    // A loaded host can starve the loop for top's second; a wrong figure fails every attempt.
  });

  it('an idle 1-CPU container makes top -bn2 -d1 show >= 85% id on its second frame', async () => {
    const frames = topCpuFrames(await inContainer(makeCgroup(oneCpuQuota), 'top -bn2 -d1'));
    console.log(`[cpu-views] idle 1-CPU container, top frames: ${JSON.stringify(frames)}`);
    expect(frames).toHaveLength(2);
    expect(frames[1]!['id']).toBeGreaterThanOrEqual(85);
  });

  it('a busy 1-CPU container gains 80-100 user+system ticks a second of /proc/stat, and no counter ever decreases', async () => {
    // Five reads about 0.5 s apart, each between two clock readings (ns), so the ticks are judged
    // against the time that really passed between the reads, however slow the machine.
    const read = 'echo "t $(date +%s%N)"; cat /proc/stat; echo "t $(date +%s%N)"; echo @@';
    const script = `${BUSY_LOOP} sleep 0.5; for i in 1 2 3 4 5; do ${read}; [ $i = 5 ] || sleep 0.5; done`;
    const sections = (await inContainer(makeCgroup(oneCpuQuota), script)).split(SECTION).filter(Boolean);
    expect(sections).toHaveLength(5);
    const clock = sections.map((text) => [...text.matchAll(/^t (\d+)$/gm)].map((m) => Number(m[1]) / 1e9));
    const reads = sections.map((text) => text.replace(/^t \d+\n/gm, ''));
    const busy = reads.map(busyTicks);
    const [firstStart = 0, firstEnd = 0] = clock[0] ?? [];
    const [lastStart = 0, lastEnd = 0] = clock[4] ?? [];
    console.log(`[cpu-views] busy 1-CPU container, user+system ticks per read: ${busy.join(' ')} over ${(lastStart - firstEnd).toFixed(2)}-${(lastEnd - firstStart).toFixed(2)} s`);
    // One tick of rounding at each end.
    expect(busy[4]! - busy[0]!).toBeGreaterThanOrEqual(Math.floor(0.8 * TICKS_PER_SECOND * (lastStart - firstEnd)) - 2);
    expect(busy[4]! - busy[0]!).toBeLessThanOrEqual(Math.ceil(TICKS_PER_SECOND * (lastEnd - firstStart)) + 2);
    const lines = reads.map(statCpuLines);
    for (const [i, now] of lines.entries()) {
      expect([...now.keys()]).toEqual(['cpu', 'cpu0']);
      const before = lines[i - 1];
      if (!before) continue;
      for (const [label, fields] of now) {
        fields.forEach((value, f) => expect(value, `${label} field ${f + 1}, read ${i + 1}`).toBeGreaterThanOrEqual(before.get(label)![f]!));
      }
    }
  });
});
