// The LXC mount hook of `cgprocfs setup lxc` (issue 15 §2-3): a privileged LXC 5.0
// container made offline (the procps image's tree, a hand-written config with no network)
// that includes the snippet setup wrote sees its own memory, CPUs and pressure: LXC mounts
// /proc itself, so pressure/* is bound too, which runc refuses. lxc.environment =
// CGPROCFS_ENABLE=0 opts out; with nothing mounted the container still starts, with the
// host's files, and the hook's reason is in LXC's log.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMountpoint, removeMountpoint } from '../harness/daemon.js';
import { describeRun, run, runOk } from '../harness/exec.js';
import { teardown } from '../harness/suite.js';
import { figure, freeTotalMiB } from '../../runtime/checks.js';
import { removeEmptyCgroupTrees } from '../../runtime/containers.js';
import { STATE_DIR } from '../../runtime/engine.js';
import { describeRuntime, prepareRuntime } from '../../runtime/runtime.js';
import { setupOk } from '../../runtime/wrapper.js';
import { ALL_TARGETS } from '../../../src/files/binds.js';

const prepared = await prepareRuntime({ images: ['procps'], lxc: true });

const REPORT = [
  'free -m',
  'grep -c ^processor /proc/cpuinfo',
  'echo "online=$(cat /sys/devices/system/cpu/online)"',
  'echo "binds=$(grep -c " - fuse.cgprocfs " /proc/self/mountinfo)"',
  'echo "pressure_bound=$(grep -c " /proc/pressure/cpu .* - fuse.cgprocfs " /proc/self/mountinfo)"',
].join('; ');
const someTotal = (psi: string) => Number(/^some .*total=(\d+)$/m.exec(psi)?.[1]);

interface Report {
  free: number;
  processors: number;
  online: string;
  binds: number;
  pressureBound: number;
}

function parse(out: string): Report {
  return {
    free: freeTotalMiB(out),
    processors: Number(/^(\d+)$/m.exec(out)?.[1]),
    online: /^online=(.*)$/m.exec(out)?.[1] ?? '',
    binds: Number(/^binds=(\d+)$/m.exec(out)?.[1]),
    pressureBound: Number(/^pressure_bound=(\d+)$/m.exec(out)?.[1]),
  };
}

describeRuntime('the LXC mount hook of cgprocfs setup lxc', prepared, (fx) => {
  let dir = '';
  let rootfs = '';
  let snippet = '';
  let deadSnippet = '';
  let emptyMountpoint = '';
  const names: string[] = [];

  /** A new container (a name of ours) whose config has `extra` lines. */
  function container(extra: readonly string[]): string {
    const name = `cgprocfs-test-${process.pid}-${names.length + 1}`;
    names.push(name);
    mkdirSync(join(dir, 'lxc', name), { recursive: true });
    writeFileSync(join(dir, 'lxc', name, 'config'), [
      `lxc.uts.name = ${name}`,
      `lxc.rootfs.path = dir:${rootfs}`,
      'lxc.net.0.type = empty',
      'lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed',
      'lxc.apparmor.profile = unconfined',
      'lxc.cgroup.memory.limit_in_bytes = 268435456',
      'lxc.cgroup.cpu.cfs_period_us = 100000',
      'lxc.cgroup.cpu.cfs_quota_us = 50000',
      ...extra,
      '',
    ].join('\n'));
    return name;
  }

  /** lxc-execute of REPORT in a new container whose config has `extra` lines; its output and LXC's log (DEBUG has the hook's output). */
  async function execute(extra: readonly string[]): Promise<{ out: string; log: string }> {
    const name = container(extra);
    const log = join(dir, `${name}.log`);
    const args = ['-P', join(dir, 'lxc'), '-n', name, '-o', log, '-l', 'DEBUG', '--', 'sh', '-c', REPORT];
    const r = await run('lxc-execute', args, { timeoutMs: 60_000 });
    const logText = readFileSync(log, 'utf8');
    if (r.code !== 0) throw new Error(`${describeRun(['lxc-execute', ...args], r)}\n--- ${log}\n${logText.split('\n').slice(-20).join('\n')}`);
    return { out: r.stdout, log: logText };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(STATE_DIR, 'lxc-hook-'));
    rootfs = await fx.rootfs();
    snippet = join(dir, '50-cgprocfs.conf');
    await setupOk(['lxc', '--write', '--hook-file', join(dir, 'lxc-mount-hook'), '--config-file', snippet, '--mountpoint', fx.daemon.mountpoint]);
    emptyMountpoint = makeMountpoint();
    deadSnippet = join(dir, '50-cgprocfs-nothing-mounted.conf');
    await setupOk(['lxc', '--write', '--hook-file', join(dir, 'lxc-mount-hook-nothing-mounted'), '--config-file', deadSnippet, '--mountpoint', emptyMountpoint]);
  }, 120_000);

  afterAll(() =>
    teardown(
      async () => {
        for (const name of names) await run('lxc-stop', ['-P', join(dir, 'lxc'), '-n', name, '--kill'], { timeoutMs: 30_000 });
      },
      async () => {
        // LXC's own cgroups, and lxc.pivot, which it makes for its monitors and leaves behind.
        for (const name of names) for (const top of [`lxc.payload.${name}`, `lxc.monitor.${name}`]) removeEmptyCgroupTrees(top);
        removeEmptyCgroupTrees('lxc.pivot');
      },
      async () => emptyMountpoint && removeMountpoint(emptyMountpoint),
      async () => dir && rmSync(dir, { recursive: true, force: true }),
    ),
  );

  it('a 256 MiB, 0.5 CPU container sees free 256, 1 processor, online 0, with every file bound', async () => {
    const report = parse((await execute([`lxc.include = ${snippet}`])).out);
    figure('lxc-execute with the hook: free / processors / online / cgprocfs binds / pressure/cpu bound', report);
    expect(report).toEqual({ free: 256, processors: 1, online: '0', binds: ALL_TARGETS.length, pressureBound: 1 });
  });

  it('its /proc/pressure/cpu is its own cgroup\'s, not the host\'s', async () => {
    const name = container([`lxc.include = ${snippet}`, 'lxc.init.cmd = /bin/sleep 300']);
    await runOk('lxc-start', ['-P', join(dir, 'lxc'), '-n', name, '-d'], { timeoutMs: 60_000 });
    // The cgroup's own cpu PSI, read on the host before and after the container reads its file.
    const cgroupFile = `/sys/fs/cgroup/unified/lxc.payload.${name}/cpu.pressure`;
    const before = someTotal(readFileSync(cgroupFile, 'utf8'));
    const ours = someTotal(await runOk('lxc-attach', ['-P', join(dir, 'lxc'), '-n', name, '--', 'cat', '/proc/pressure/cpu'], { timeoutMs: 30_000 }));
    const after = someTotal(readFileSync(cgroupFile, 'utf8'));
    const host = someTotal(readFileSync('/proc/pressure/cpu', 'utf8'));
    figure('lxc: cpu "some" total µs: the cgroup\'s before / the container\'s /proc/pressure/cpu / the cgroup\'s after / the host\'s', `${before} / ${ours} / ${after} / ${host}`);
    expect(ours).toBeGreaterThanOrEqual(before);
    expect(ours).toBeLessThanOrEqual(after);
    expect(host).toBeGreaterThan(after);
  });

  it('leaves a container whose config sets lxc.environment = CGPROCFS_ENABLE=0 with the host\'s files', async () => {
    const report = parse((await execute([`lxc.include = ${snippet}`, 'lxc.environment = CGPROCFS_ENABLE=0'])).out);
    const host = freeTotalMiB(await runOk('free', ['-m']));
    figure('lxc with lxc.environment = CGPROCFS_ENABLE=0: free / host / binds', `${report.free} / ${host} / ${report.binds}`);
    expect({ free: report.free, binds: report.binds }).toEqual({ free: host, binds: 0 });
  });

  describe('with nothing mounted at the hook\'s mountpoint', () => {
    it('the container starts with the host\'s files, and LXC\'s log has the hook\'s reason', async () => {
      const { out, log } = await execute([`lxc.include = ${deadSnippet}`]);
      const report = parse(out);
      const line = /cgprocfs lxc hook: .*/.exec(log)?.[0];
      figure('lxc with the hook, nothing mounted: free / binds / the log\'s line', `${report.free} / ${report.binds} / ${line}`);
      expect({ free: report.free, binds: report.binds }).toEqual({ free: freeTotalMiB(await runOk('free', ['-m'])), binds: 0 });
      expect(line).toMatch(/no fuse\.cgprocfs is mounted at .*; the container starts with the host's \/proc files/);
    });
  });
});
