// cgprocfs-runc under Podman (issue 15 §2-3): `podman run --runtime <wrapper>` shows the
// container's limits with no --mount flag; with the drop-in `cgprocfs setup podman --write
// --default` writes (read alone through CONTAINERS_CONF, so the host's containers.conf is
// never involved), a plain `podman run` does; --annotation io.cgprocfs.enable=false opts
// out. The wrapper gets its mountpoint from a launcher script, as an engine that passes
// no arguments needs.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runOk } from '../harness/exec.js';
import { figure, freeTotalMiB } from '../../runtime/checks.js';
import { STATE_DIR } from '../../runtime/engine.js';
import { describeRuntime, prepareRuntime } from '../../runtime/runtime.js';
import { launcher, setupOk } from '../../runtime/wrapper.js';
import { RUNC_TARGETS } from '../../../src/files/binds.js';

const prepared = await prepareRuntime({ images: ['procps'], podman: true });
const REPORT = 'free -m; grep -c ^processor /proc/cpuinfo; echo "binds=$(grep -c " - fuse.cgprocfs " /proc/self/mountinfo)"';

function parse(out: string) {
  return { free: freeTotalMiB(out), processors: Number(/^(\d+)$/m.exec(out)?.[1]), binds: Number(/^binds=(\d+)$/m.exec(out)?.[1]) };
}

describeRuntime('cgprocfs-runc under Podman', prepared, (fx) => {
  let dir = '';
  let rootfs: string[] = [];
  let wrapper = '';
  let containersConf = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(STATE_DIR, 'podman-runtime-'));
    wrapper = launcher(dir, fx.daemon.mountpoint);
    containersConf = join(dir, 'containers.conf');
    await setupOk(['podman', '--write', '--default', '--config-file', containersConf, '--runtime-path', wrapper]);
    rootfs = ['--rootfs', `${await fx.rootfs()}:O`];
  }, 120_000);

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('podman run --runtime <wrapper> -m 256m --cpus 0.5: free 256, 1 processor, every file bound', async () => {
    const seen = parse(await fx.podman.runOk(['--runtime', wrapper, '-m', '256m', '--cpus', '0.5'], rootfs, ['sh', '-c', REPORT]));
    figure('podman --runtime cgprocfs-runc -m 256m --cpus 0.5', seen);
    expect(seen).toEqual({ free: 256, processors: 1, binds: RUNC_TARGETS.length });
  });

  it('with setup podman --default\'s drop-in, a plain podman run -m 256m sees 256 MiB', async () => {
    const env = { ...process.env, CONTAINERS_CONF: containersConf };
    const info = (await runOk('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}'], { env, timeoutMs: 60_000 })).trim();
    figure('podman info with the drop-in: OCI runtime', info);
    expect(info).toBe(`cgprocfs ${wrapper}`);
    const seen = parse(await fx.podman.runOk(['-m', '256m', '--cpus', '0.5'], rootfs, ['sh', '-c', REPORT], { env }));
    figure('podman run -m 256m (default runtime cgprocfs)', seen);
    expect(seen).toEqual({ free: 256, processors: 1, binds: RUNC_TARGETS.length });
  });

  it('leaves a container with --annotation io.cgprocfs.enable=false as plain runc would', async () => {
    const seen = parse(await fx.podman.runOk(['--runtime', wrapper, '-m', '256m', '--annotation', 'io.cgprocfs.enable=false'], rootfs, ['sh', '-c', REPORT]));
    const host = freeTotalMiB(await runOk('free', ['-m']));
    figure('podman --annotation io.cgprocfs.enable=false: free / host / binds', `${seen.free} / ${host} / ${seen.binds}`);
    expect({ free: seen.free, binds: seen.binds }).toEqual({ free: host, binds: 0 });
  });
});
