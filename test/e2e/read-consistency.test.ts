// One open = one rendering: 1-byte reads and preads at any offset never mix two renderings, even when values change.
import { afterEach, expect, it } from 'vitest';
import { field, hostMeminfoKeys, MiB, parseMeminfo } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { FileSession } from './harness/session.js';
import { useFixture } from './harness/suite.js';

/** A fixed-seed shuffle, so a failure replays with the same offsets. */
function shuffled<T>(items: T[], seed = 0x2545f491): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describeE2E('reads of one open file', () => {
  const fx = useFixture();
  let session: FileSession | undefined;
  afterEach(() => session?.end());

  it('sequential 1-byte reads to EOF return one whole rendering although the limit changes mid-read', async () => {
    fx.cgroups.make('bytes', { memoryLimit: 300 * MiB });
    session = FileSession.inCgroup(fx.cgroups, 'bytes');
    await session.open(fx.daemon.path('proc/meminfo'));
    const head = await session.bytes(5);
    // A server that re-rendered per READ would now show 400 MiB in the rest of the file.
    fx.cgroups.setMemoryLimit('bytes', 400 * MiB);
    const rest = await session.bytes(-1);
    expect(rest.eof).toBe(true);
    const text = head.data + rest.data;
    expect([...parseMeminfo(text).keys()]).toEqual(hostMeminfoKeys());
    expect(field(text, 'MemTotal')).toBe(300 * 1024);
    expect(field(text, 'MemFree')).toBeLessThanOrEqual(300 * 1024);
    await session.close();
  });

  it('pread at every offset > 0 after a read at 0 returns bytes of that same rendering', async () => {
    fx.cgroups.make('pread', { memoryLimit: 300 * MiB });
    session = FileSession.inCgroup(fx.cgroups, 'pread');
    await session.open(fx.daemon.path('proc/meminfo'));
    const [whole = ''] = await session.pread([[0, 64 * 1024]]);
    expect([...parseMeminfo(whole).keys()]).toEqual(hostMeminfoKeys());
    expect(field(whole, 'MemTotal')).toBe(300 * 1024);
    fx.cgroups.setMemoryLimit('pread', 400 * MiB);
    // Every offset, in shuffled order, with lengths that cross line ends and the end of file.
    const at = shuffled([...Array(whole.length + 1).keys()].slice(1)).map((off, i) => [off, 1 + ((i * 37) % 97)] as const);
    const got = await session.pread(at);
    const wrong = at.flatMap(([off, len], i) => {
      const want = whole.slice(off, off + len);
      return got[i] === want ? [] : [{ off, len, got: got[i], want }];
    });
    expect(wrong).toEqual([]);
    await session.close();
  });
});
