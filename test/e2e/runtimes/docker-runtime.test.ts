// cgprocfs-runc as Docker's runtime (issue 15 §3), on a dockerd of the test's own whose
// daemon.json `cgprocfs setup docker --write` merged into: with --runtime cgprocfs, then
// as the default runtime after a reload, a container sees its own limits with no --mount
// flag; opt-out and explicit binds are honoured; with the cgprocfs daemon killed or
// stopped the container still starts, with the host's values and the reason in its
// stderr and in the shim's runc log; the VM-like systemd container works through it.
// Also what the wrapper adds to `docker run --rm IMAGE true`, as a figure.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon, makeMountpoint, removeMountpoint } from '../harness/daemon.js';
import { run, runOk } from '../harness/exec.js';
import { DAEMON_BIN } from '../harness/prerequisites.js';
import { teardown } from '../harness/suite.js';
import { cpuinfoIds, figure, freeTotalMiB, statCpuIds } from '../../runtime/checks.js';
import type { Containers } from '../../runtime/containers.js';
import { STATE_DIR } from '../../runtime/engine.js';
import { PrivateDockerd } from '../../runtime/private-engine.js';
import { describeRuntime, prepareRuntime } from '../../runtime/runtime.js';
import { shutDown, SYSTEMD_OPTIONS, waitForBoot } from '../../runtime/systemd-container.js';
import { FALLBACK_LINE, median, setupOk, WRAPPER_BIN } from '../../runtime/wrapper.js';
import { RUNC_TARGETS } from '../../../src/files/binds.js';

const prepared = await prepareRuntime({ images: ['procps', 'systemd'] });

const REPORT = 'free -m; grep -c ^processor /proc/cpuinfo; echo "online=$(cat /sys/devices/system/cpu/online)"; echo "binds=$(grep -c " - fuse.cgprocfs " /proc/self/mountinfo)"';

interface Report {
  free: number;
  processors: number;
  online: string;
  binds: number;
}

function parseReport(out: string): Report {
  return {
    free: freeTotalMiB(out),
    processors: Number(/^(\d+)$/m.exec(out)?.[1]),
    online: /^online=(.*)$/m.exec(out)?.[1] ?? '',
    binds: Number(/^binds=(\d+)$/m.exec(out)?.[1]),
  };
}

const hostFreeMiB = async () => freeTotalMiB(await runOk('free', ['-m']));

describeRuntime('cgprocfs-runc as Docker\'s runtime', prepared, (fx) => {
  let dir = '';
  let daemonJson = '';
  let engine: PrivateDockerd | undefined;
  let docker: Containers | undefined;
  let killed: Daemon | undefined;
  let emptyMountpoint = '';
  const image = () => fx.image('procps');
  const containers = () => docker ?? (() => { throw new Error('the private dockerd did not start (see beforeAll)'); })();

  beforeAll(async () => {
    dir = mkdtempSync(join(STATE_DIR, 'docker-runtime-'));
    daemonJson = join(dir, 'daemon.json');
    // A daemon whose mount is dead (killed: ENOTCONN), and a directory where nothing is mounted.
    killed = await Daemon.start();
    await killed.kill();
    emptyMountpoint = makeMountpoint();
    // What an admin had before: a setting and runtimes of their own, which setup must keep.
    writeFileSync(daemonJson, `${JSON.stringify({
      'log-level': 'warn',
      runtimes: {
        'cgprocfs-dead': { path: WRAPPER_BIN, runtimeArgs: ['--cgprocfs-mountpoint', killed.mountpoint] },
        'cgprocfs-absent': { path: WRAPPER_BIN, runtimeArgs: ['--cgprocfs-mountpoint', emptyMountpoint] },
      },
    }, null, 2)}\n`);
    figure('docker: cgprocfs setup docker --write', (await setupOk(['docker', '--write', '--config-file', daemonJson, '--mountpoint', fx.daemon.mountpoint])).split('\n')[0]);
    engine = await PrivateDockerd.start(daemonJson);
    docker = engine.containers();
    await engine.load(fx.image('procps'));
    await engine.load(fx.image('systemd'));
  }, 300_000);

  afterAll(() =>
    teardown(
      () => docker?.cleanup(),
      () => engine?.stop(),
      () => killed?.destroy(),
      async () => emptyMountpoint && removeMountpoint(emptyMountpoint),
      async () => dir && rmSync(dir, { recursive: true, force: true }),
    ),
  );

  it('setup merged the runtime into daemon.json, kept the rest, and kept the old file', async () => {
    const written = JSON.parse(readFileSync(daemonJson, 'utf8'));
    expect(written['log-level']).toBe('warn');
    expect(Object.keys(written.runtimes)).toEqual(['cgprocfs-dead', 'cgprocfs-absent', 'cgprocfs']);
    expect(readdirSync(dir).filter((f) => f.startsWith('daemon.json.cgprocfs-backup-'))).toHaveLength(1);
    const runtimes = JSON.parse(await engine!.dockerOk(['info', '--format', '{{json .Runtimes}}']));
    figure('docker info: runtime cgprocfs', runtimes.cgprocfs);
    expect(runtimes.cgprocfs).toMatchObject({ path: WRAPPER_BIN, runtimeArgs: ['--cgprocfs-mountpoint', fx.daemon.mountpoint] });
  });

  it('docker run --runtime cgprocfs -m 256m --cpus 0.5, no --mount flag: free 256, 1 processor, online 0', async () => {
    const out = await containers().runOk(['--runtime', 'cgprocfs', '-m', '256m', '--cpus', '0.5'], [image()], ['sh', '-c', REPORT]);
    const report = parseReport(out);
    figure('docker --runtime cgprocfs -m 256m --cpus 0.5: free / processors / online / cgprocfs binds', report);
    expect(report).toEqual({ free: 256, processors: 1, online: '0', binds: RUNC_TARGETS.length });
  });

  it('keeps a 2^64-1 rlimit (--ulimit core=-1) intact through the config.json it edits', async () => {
    const out = await containers().runOk(['--runtime', 'cgprocfs', '-m', '256m', '--ulimit', 'core=-1'], [image()], ['sh', '-c', 'ulimit -c; free -m']);
    expect(out.split('\n')[0]).toBe('unlimited');
    expect(freeTotalMiB(out)).toBe(256);
  });

  it('leaves a container with -e CGPROCFS_ENABLE=0 as plain runc would: the host\'s memory', async () => {
    const out = await containers().runOk(['--runtime', 'cgprocfs', '-m', '256m', '-e', 'CGPROCFS_ENABLE=0'], [image()], ['sh', '-c', REPORT]);
    const report = parseReport(out);
    figure('docker --runtime cgprocfs -e CGPROCFS_ENABLE=0: free / cgprocfs binds', `${report.free} / ${report.binds}`);
    expect(report).toMatchObject({ free: await hostFreeMiB(), binds: 0 });
  });

  it('leaves a container that binds /proc/meminfo itself as it is: its file, and the host\'s cpuinfo', async () => {
    const file = join(dir, 'meminfo');
    writeFileSync(file, 'MemTotal:         131072 kB\nMemFree:          131072 kB\nMemAvailable:     131072 kB\n');
    const options = ['--runtime', 'cgprocfs', '--cpus', '0.5', '--mount', `type=bind,src=${file},dst=/proc/meminfo,readonly`];
    const report = parseReport(await containers().runOk(options, [image()], ['sh', '-c', REPORT]));
    figure('docker --runtime cgprocfs with its own /proc/meminfo bind: free / processors / cgprocfs binds', report);
    expect(report).toMatchObject({ free: 128, processors: cpuinfoIds(readFileSync('/proc/cpuinfo', 'utf8')).length, binds: 0 });
  });

  it('binds the preload library with -e CGPROCFS_PRELOAD=1: getconf _PHYS_PAGES answers the 256 MiB', async () => {
    const out = await containers().runOk(['--runtime', 'cgprocfs', '-m', '256m', '-e', 'CGPROCFS_PRELOAD=1'], [image()], [
      'sh', '-c', 'echo "preload=$LD_PRELOAD"; echo "bytes=$(( $(getconf _PHYS_PAGES) * $(getconf PAGESIZE) ))"',
    ]);
    figure('docker --runtime cgprocfs -e CGPROCFS_PRELOAD=1', out.trim().replace(/\n/g, '; '));
    expect(out).toContain('preload=/usr/lib/cgprocfs/libcgprocfs-preload.so\n');
    expect(Number(/^bytes=(\d+)$/m.exec(out)?.[1])).toBe(256 * 1024 * 1024);
  });

  // The README's form for one container: `flags=$(cgprocfs docker-flags --format args) && docker run ... $flags ...`.
  it.each([
    ['live', () => fx.daemon.mountpoint, 0, 256],
    ['dead (its daemon killed)', () => killed!.mountpoint, 1, undefined],
  ])('flags=$(docker-flags) && docker run $flags, with the mount %s: the container runs with the flags, or not at all', async (_, mountpoint, code, free) => {
    const name = containers().claimName();
    const script = 'flags=$("$1" "$2" docker-flags --mountpoint "$3" --format args) && docker -H "$4" run --name "$5" --network none --pull never -m 256m $flags "$6" free -m';
    const r = await run('sh', ['-c', script, 'sh', process.execPath, DAEMON_BIN, mountpoint(), `unix://${engine!.socket}`, name, image()], { timeoutMs: 60_000 });
    const created = (await engine!.docker(['inspect', name])).code === 0;
    await containers().remove(name);
    figure(`flags=$(docker-flags) && docker run, mount ${_}: exit / container created / free`, `${r.code} / ${created} / ${free === undefined ? '-' : freeTotalMiB(r.stdout)}`);
    expect(r.code).toBe(code);
    expect(created).toBe(code === 0);
    if (free !== undefined) expect(freeTotalMiB(r.stdout)).toBe(free);
  });

  describe('when cgprocfs is not serving', () => {
    it.each([
      ['killed (a dead mount)', 'cgprocfs-dead', /Transport endpoint is not connected/],
      ['stopped (nothing mounted)', 'cgprocfs-absent', /no fuse\.cgprocfs is mounted there/],
    ])('its daemon %s: the container starts with the host\'s values and says why on its stderr', async (_, runtime, why) => {
      const r = await containers().run(['--runtime', runtime, '-m', '256m'], [image()], ['free', '-m']);
      figure(`docker --runtime ${runtime}: exit / free / stderr`, `${r.code} / ${freeTotalMiB(r.stdout)} / ${r.stderr.trim()}`);
      expect(r.code).toBe(0);
      expect(freeTotalMiB(r.stdout)).toBe(await hostFreeMiB());
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(FALLBACK_LINE)]);
      expect(r.stderr).toMatch(why);
    });

    it('the runc log of the container\'s shim task has the reason', async () => {
      const name = await containers().start(['--runtime', 'cgprocfs-dead', '-m', '256m'], [image()], ['sleep', '60']);
      const id = await containers().inspect(name, '{{.Id}}');
      const log = join(engine!.taskDir(id), 'log.json');
      const entries = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { level: string; msg: string });
      figure('docker -d --runtime cgprocfs-dead: the task\'s log.json', entries);
      expect(entries).toContainEqual({ level: 'warning', msg: expect.stringMatching(FALLBACK_LINE), time: expect.any(String) });
      await containers().remove(name);
    });
  });

  describe('as the default runtime (setup docker --default, then a reload)', () => {
    beforeAll(async () => {
      await setupOk(['docker', '--write', '--default', '--config-file', daemonJson, '--mountpoint', fx.daemon.mountpoint]);
      await engine!.reload((info) => info.DefaultRuntime === 'cgprocfs');
    });

    it('a plain docker run -m 256m --cpus 0.5 sees its own limits', async () => {
      const report = parseReport(await containers().runOk(['-m', '256m', '--cpus', '0.5'], [image()], ['sh', '-c', REPORT]));
      figure('docker run -m 256m --cpus 0.5 (default runtime cgprocfs)', report);
      expect(report).toEqual({ free: 256, processors: 1, online: '0', binds: RUNC_TARGETS.length });
    });

    describe('the VM-like container: systemd as PID 1, no flags', () => {
      let name = '';
      beforeAll(async () => {
        name = await containers().start([...SYSTEMD_OPTIONS, '-m', '256m', '--cpus', '0.5'], [fx.image('systemd')], ['/sbin/init']);
        await waitForBoot(containers(), name, 'vm-like through cgprocfs-runc', Date.parse(await containers().inspect(name, '{{.State.StartedAt}}')));
      }, 90_000);
      afterAll(async () => {
        if (name) await shutDown(engine!.host, name);
      });

      it.each([
        ['docker exec', [] as string[]],
        ['a transient service (systemd-run --wait --pipe)', ['systemd-run', '--wait', '--pipe', '--quiet']],
      ])('free -m and /proc/stat from %s show 256 MiB and one CPU', async (how, prefix) => {
        const out = await containers().execOk(name, [...prefix, 'sh', '-c', 'free -m; grep "^cpu[0-9]" /proc/stat']);
        figure(`vm-like through cgprocfs-runc, from ${how}: free / cpuN`, `${freeTotalMiB(out)} / ${statCpuIds(out).join(',')}`);
        expect({ free: freeTotalMiB(out), cpus: statCpuIds(out) }).toEqual({ free: 256, cpus: [0] });
      });
    });
  });

  it('adds a measured time to docker run --rm IMAGE true (median of 20, side by side with plain runc)', async () => {
    const once = async (runtime: string) => {
      const started = performance.now();
      await engine!.dockerOk(['run', '--rm', '--network', 'none', '--pull', 'never', '--runtime', runtime, image(), 'true']);
      return performance.now() - started;
    };
    // What starting Node costs on this host at the same time: the floor of the wrapper's create.
    const nodeStart = async () => {
      const started = performance.now();
      await runOk(process.execPath, ['-e', '0']);
      return performance.now() - started;
    };
    const plain: number[] = [];
    const wrapped: number[] = [];
    const node: number[] = [];
    await once('runc');
    await once('cgprocfs');
    for (let i = 0; i < 20; i++) {
      plain.push(await once('runc'));
      wrapped.push(await once('cgprocfs'));
      node.push(await nodeStart());
    }
    const [p, w] = [median(plain), median(wrapped)];
    figure('docker run --rm IMAGE true, median of 20 (ms): runc / cgprocfs-runc / added; node -e 0 meanwhile',
      `${p.toFixed(0)} / ${w.toFixed(0)} / ${(w - p).toFixed(0)}; ${median(node).toFixed(0)} (load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`);
    // Not a speed target (those live in the benchmark): only a wrapper that waits on something.
    expect(w - p).toBeLessThan(2_000);
  }, 180_000);
});
