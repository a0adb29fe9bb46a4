// The mounted tree: its entries, attributes and mount options, and meminfo's shape for a host reader.
import { readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { cgprocfsMountsAt } from './harness/daemon.js';
import { runOk } from './harness/exec.js';
import { hostMeminfoKeys, parseMeminfo } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

describeE2E('the mounted tree', () => {
  const fx = useFixture();
  const ls = async (rel: string) => (await runOk('ls', ['-A', fx.daemon.path(rel)], { timeoutMs: 10_000 })).split('\n').filter(Boolean);

  it('is one fuse.cgprocfs mount with ro,nosuid,nodev,allow_other,default_permissions', () => {
    const mounts = cgprocfsMountsAt(fx.daemon.mountpoint);
    expect(mounts).toHaveLength(1);
    const options = mounts[0]!.options.split(',');
    expect(options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'allow_other', 'default_permissions']));
  });

  it.each([
    ['', ['proc', 'sys']],
    ['proc', ['cpuinfo', 'diskstats', 'loadavg', 'meminfo', 'pressure', 'stat', 'swaps', 'uptime', 'vmstat']],
    ['proc/pressure', ['cpu', 'io', 'memory']],
  ])('lists exactly the expected entries in "%s"', async (rel, entries) => {
    expect((await ls(rel)).sort()).toEqual(entries);
  });

  it('lists in sys/devices/system/cpu the CPU lists, kernel_max and a cpuN per host CPU (a host reader sees all)', async () => {
    const hostCpus = readdirSync('/sys/devices/system/cpu').filter((name) => /^cpu\d+$/.test(name));
    expect(await ls('sys/devices/system/cpu')).toEqual(
      expect.arrayContaining(['offline', 'online', 'possible', 'present', 'kernel_max', ...hostCpus]),
    );
  });

  it.each([
    ['', 'directory', '555'],
    ['proc', 'directory', '555'],
    ['sys', 'directory', '555'],
    ['sys/devices/system/cpu', 'directory', '555'],
    ['proc/meminfo', 'regular empty file', '444'],
    ['proc/swaps', 'regular empty file', '444'],
  ])('stat of "%s" shows a root-owned %s with mode %s', async (rel, type, mode) => {
    const out = await runOk('stat', ['-c', '%F|%a|%u|%g|%s', fx.daemon.path(rel)], { timeoutMs: 10_000 });
    const [gotType, gotMode, uid, gid, size] = out.trim().split('|');
    expect({ type: gotType, mode: gotMode, uid, gid }).toEqual({ type, mode, uid: '0', gid: '0' });
    if (type !== 'directory') expect(size).toBe('0');
  });

  it('meminfo read from the host namespace has the host keys in the host order', async () => {
    const text = await runOk('cat', [fx.daemon.path('proc/meminfo')], { timeoutMs: 10_000 });
    expect([...parseMeminfo(text).keys()]).toEqual(hostMeminfoKeys());
  });
});
