// cgprocfs-runc through containerd (issue 15 §2-3): `cgprocfs setup containerd --write` on
// Debian's config.toml gives a file containerd 1.6 reads with the handler `cgprocfs`
// beside runc; and `ctr run --runc-binary <wrapper>`, the option a Kubernetes RuntimeClass
// sets through options.BinaryName, on a containerd of the test's own, shows the container's
// limits; the pod annotation io.cgprocfs.enable=false leaves a container alone.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRun, runOk } from '../harness/exec.js';
import { teardown } from '../harness/suite.js';
import { figure, freeTotalMiB } from '../../runtime/checks.js';
import { removeEmptyCgroupTrees } from '../../runtime/containers.js';
import { STATE_DIR } from '../../runtime/engine.js';
import { PrivateContainerd } from '../../runtime/private-containerd.js';
import { describeRuntime, prepareRuntime } from '../../runtime/runtime.js';
import { setupOk, WRAPPER_BIN } from '../../runtime/wrapper.js';
import { dumpedRuntimes } from '../../../src/cli/setup/containerd.js';

const prepared = await prepareRuntime({ images: ['procps'] });
const DEBIAN_CONFIG = join(import.meta.dirname, '..', '..', 'fixtures', 'containerd', 'debian-12.toml');
const REPORT = 'free -m; grep -c ^processor /proc/cpuinfo; echo "online=$(cat /sys/devices/system/cpu/online)"';

describeRuntime('cgprocfs-runc through containerd', prepared, (fx) => {
  let dir = '';
  let containerd: PrivateContainerd | undefined;
  let image = '';
  let count = 0;
  const engine = () => containerd ?? (() => { throw new Error('the private containerd did not start (see beforeAll)'); })();

  /** ctr run --rm of the procps image through the wrapper; its output, or an error with it. */
  async function ctrRun(options: readonly string[], command: readonly string[]): Promise<string> {
    const args = ['run', '--rm', '--runc-binary', WRAPPER_BIN, '--runc-root', engine().runcRoot, ...options, image, `cgprocfs-test-${process.pid}-${++count}`, ...command];
    const r = await engine().ctr(args);
    if (r.code !== 0) throw new Error(describeRun(['ctr', ...args], r));
    return r.stdout;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(STATE_DIR, 'containerd-runtime-'));
    // The wrapper gets no arguments from containerd: the mountpoint comes from its environment.
    containerd = await PrivateContainerd.start({ ...process.env, CGPROCFS_MOUNTPOINT: fx.daemon.mountpoint });
    image = await containerd.importImage(fx.image('procps'));
  }, 300_000);

  afterAll(() =>
    teardown(
      () => containerd?.stop(),
      async () => containerd && removeEmptyCgroupTrees(containerd.namespace),
      async () => dir && rmSync(dir, { recursive: true, force: true }),
    ),
  );

  it('setup containerd gives Debian\'s config.toml a handler containerd reads, runc kept', async () => {
    const config = join(dir, 'config.toml');
    copyFileSync(DEBIAN_CONFIG, config);
    await setupOk(['containerd', '--write', '--config-file', config, '--runtime-path', WRAPPER_BIN]);
    const dump = await runOk('containerd', ['--config', config, 'config', 'dump'], { timeoutMs: 30_000 });
    const runtimes = dumpedRuntimes(dump);
    figure('containerd config dump after setup containerd: handlers / default / BinaryName', runtimes);
    expect(runtimes).toEqual({ handlers: ['cgprocfs', 'runc'], defaultName: 'runc', binaryName: WRAPPER_BIN });
    expect(dump).toMatch(/^\s*pod_annotations = \["io\.cgprocfs\.\*"\]$/m);
    expect(readFileSync(config, 'utf8').startsWith(readFileSync(DEBIAN_CONFIG, 'utf8').trimEnd())).toBe(true);
  });

  it('ctr run --runc-binary <wrapper> --memory-limit 256 MiB --cpus 0.5: free 256, 1 processor, online 0', async () => {
    const out = await ctrRun(['--memory-limit', String(256 * 1024 * 1024), '--cpus', '0.5'], ['sh', '-c', REPORT]);
    const seen = { free: freeTotalMiB(out), processors: Number(/^(\d+)$/m.exec(out)?.[1]), online: /^online=(.*)$/m.exec(out)?.[1] };
    figure('ctr run --runc-binary cgprocfs-runc, 256 MiB, 0.5 CPU', seen);
    expect(seen).toEqual({ free: 256, processors: 1, online: '0' });
  });

  it('leaves a container annotated io.cgprocfs.enable=false as plain runc would: the host\'s memory', async () => {
    const out = await ctrRun(['--memory-limit', String(256 * 1024 * 1024), '--annotation', 'io.cgprocfs.enable=false'], ['free', '-m']);
    const host = freeTotalMiB(await runOk('free', ['-m']));
    figure('ctr run --annotation io.cgprocfs.enable=false: free / host', `${freeTotalMiB(out)} / ${host}`);
    expect(freeTotalMiB(out)).toBe(host);
  });
});
