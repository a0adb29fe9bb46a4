// Podman and systemd-nspawn (issue 7 §5) with the binds docker-flags prints: free -m in a
// 256 MiB container shows 256. Both run on a tree exported from the procps test image.
import { beforeAll, expect, it } from 'vitest';
import { describeRun } from '../harness/exec.js';
import { MiB } from '../harness/meminfo.js';
import { figure, freeTotalMiB } from '../../runtime/checks.js';
import { describeRuntime, prepareRuntime } from '../../runtime/runtime.js';

const prepared = await prepareRuntime({ images: ['procps'], podman: true, nspawn: true });

/** Where nspawn containers see the FUSE directory; the file binds are made from there. */
const MOUNT_IN_CONTAINER = '/mnt/cgprocfs';

/**
 * docker-flags words -> nspawn binds. nspawn 252 makes binds below /proc after it has
 * mounted the container's procfs, resolving their source inside the container: those are
 * bound from the mount directory, bound first. Binds below /sys are made earlier, from
 * host paths (a source under /mnt/cgprocfs fails there with ENOENT).
 */
function nspawnBinds(flags: readonly string[], mountpoint: string): string[] {
  const files = flags.flatMap((word) => {
    const m = /(?:^|,)src=([^,]+),dst=([^,]+)/.exec(word);
    if (!m?.[1] || !m[2]) return [];
    const [src, dst] = [m[1], m[2]];
    if (!src.startsWith(`${mountpoint}/`)) throw new Error(`docker-flags bound ${src}, outside ${mountpoint}`);
    return [`--bind-ro=${dst.startsWith('/proc/') ? MOUNT_IN_CONTAINER + src.slice(mountpoint.length) : src}:${dst}`];
  });
  return [`--bind-ro=${mountpoint}:${MOUNT_IN_CONTAINER}`, ...files];
}

describeRuntime('Podman and systemd-nspawn with the files docker-flags binds', prepared, (fx) => {
  let rootfs = '';
  beforeAll(async () => {
    rootfs = await fx.rootfs();
  }, 120_000);

  it('podman run --rootfs DIR:O -m 256m: free -m shows a total of 256', async () => {
    const out = await fx.podman.runOk(['-m', '256m', ...(await fx.flags())], ['--rootfs', `${rootfs}:O`], ['free', '-m']);
    figure('podman -m 256m: free -m total', freeTotalMiB(out));
    expect(freeTotalMiB(out)).toBe(256);
  });

  it('systemd-nspawn started from a 256 MiB test cgroup: free -m shows a total of 256', async () => {
    fx.cgroups.make('nspawn', { memoryLimit: 256 * MiB });
    // No host systemd or D-Bus here: --register=no --keep-unit.
    const binds = nspawnBinds(await fx.flags(), fx.daemon.mountpoint);
    const args = ['--quiet', '--register=no', '--keep-unit', '-D', rootfs, ...binds, 'free', '-m'];
    const r = await fx.cgroups.run('nspawn', 'systemd-nspawn', args, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(describeRun(['systemd-nspawn', ...args], r));
    figure('systemd-nspawn in a 256 MiB cgroup: free -m total', freeTotalMiB(r.stdout));
    expect(freeTotalMiB(r.stdout)).toBe(256);
  });
});
