// No stale views: a cgroup move shows at the next open, and a rewind after EOF re-renders (top's lseek(0)+read).
import { afterEach, expect, it } from 'vitest';
import { subtreeTasks } from '../../src/cgroup/tasks.js';
import { waitFor } from './harness/exec.js';
import { field, MiB } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { FileSession } from './harness/session.js';
import { useFixture } from './harness/suite.js';

/** The bound the README states for a changed limit or usage to show. */
const FRESHNESS_BOUND_MS = 250;

describeE2E('views are never stale', () => {
  const fx = useFixture();
  let session: FileSession | undefined;
  afterEach(() => session?.end());

  it('a process moved to another cgroup sees the new limit at its next open', async () => {
    fx.cgroups.make('from', { memoryLimit: 300 * MiB });
    fx.cgroups.make('to', { memoryLimit: 400 * MiB });
    session = FileSession.inCgroup(fx.cgroups, 'from');
    const meminfo = fx.daemon.path('proc/meminfo');
    expect(field(await session.readFile(meminfo), 'MemTotal')).toBe(300 * 1024);
    fx.cgroups.move(session.pid, 'to');
    expect(field(await session.readFile(meminfo), 'MemTotal')).toBe(400 * 1024);
    fx.cgroups.move(session.pid, 'from');
    expect(field(await session.readFile(meminfo), 'MemTotal')).toBe(300 * 1024);
  });

  // The daemon keeps descriptors open on the cgroup files it reads: those of a removed
  // cgroup must not stand in for the new cgroup of the same name.
  it('a cgroup removed and made again under the same name shows the new one at the next open', async () => {
    fx.cgroups.make('again', { memoryLimit: 300 * MiB });
    fx.cgroups.make('parking', { memoryLimit: 500 * MiB });
    session = FileSession.inCgroup(fx.cgroups, 'again');
    const meminfo = fx.daemon.path('proc/meminfo');
    expect(field(await session.readFile(meminfo), 'MemTotal')).toBe(300 * 1024);
    fx.cgroups.move(session.pid, 'parking');
    fx.cgroups.remove('again');
    fx.cgroups.make('again', { memoryLimit: 400 * MiB });
    fx.cgroups.move(session.pid, 'again');
    // Past the rendering cache's reuse time: this view must be rendered from the files.
    await new Promise((resolve) => setTimeout(resolve, FRESHNESS_BOUND_MS));
    expect(field(await session.readFile(meminfo), 'MemTotal')).toBe(400 * 1024);
  });

  // Reads go through descriptors held open, but a cgroup v1 task list read twice through
  // one descriptor within a second repeats the first read's list: the census must not
  // use one. Each census here follows the one before by far less than a second (on
  // cgroup v2 the list is cgroup.threads).
  it('the task census sees tasks started a moment ago, read after read', async () => {
    fx.cgroups.make('census');
    const dir = fx.cgroups.dir('census');
    const census = () => sorted(subtreeTasks(dir, fx.cgroups.threadList) ?? []);
    const startJoined = async (count: number): Promise<number[]> => {
      const pids = Array.from({ length: count }, () => fx.cgroups.spawn('census', 'sleep', ['60']).pid!);
      // Asked of each task, not of the cgroup's task list: an open of that list makes
      // the kernel rebuild the list it shares with every reader, hiding a stale one.
      const census = fx.cgroups.cgroupPath('census');
      await waitFor('the tasks to join their cgroup', () => pids.every((pid) => fx.cgroups.cgroupOf(pid) === census));
      return pids;
    };
    const first = await startJoined(2);
    expect(census()).toEqual(sorted(first));
    const more = await startJoined(3);
    expect(census()).toEqual(sorted([...first, ...more]));
  });

  // The daemon may reuse a rendering for up to RENDERING_CACHE_MS; the README promises
  // a changed limit shows within 250 ms.
  it('a rewind to offset 0 after reaching EOF shows a limit changed in between, within the documented 250 ms', async () => {
    fx.cgroups.make('rewind', { memoryLimit: 300 * MiB });
    session = FileSession.inCgroup(fx.cgroups, 'rewind');
    await session.open(fx.daemon.path('proc/meminfo'));
    const first = await session.bytes(-1);
    expect(first.eof).toBe(true);
    expect(field(first.data, 'MemTotal')).toBe(300 * 1024);
    fx.cgroups.setMemoryLimit('rewind', 400 * MiB);
    await new Promise((resolve) => setTimeout(resolve, FRESHNESS_BOUND_MS));
    const [again = ''] = await session.pread([[0, 64 * 1024]]);
    expect(field(again, 'MemTotal')).toBe(400 * 1024);
    await session.close();
  });
});

const sorted = (pids: number[]): number[] => [...pids].sort((a, b) => a - b);
