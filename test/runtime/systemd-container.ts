// A VM-like container: systemd as PID 1 in Docker (reference: container-runtimes.md,
// "systemd as PID 1"): the options it needs on this cgroup v1 host, and the wait until it
// has booted, for vm-like.test.ts and the runtime wrapper's tests alike.
import { hostLayout } from '../e2e/harness/cgroups.js';
import { run, waitFor } from '../e2e/harness/exec.js';
import { figure } from './checks.js';
import type { Containers } from './containers.js';

// systemd needs tmpfs /run and a cgroup tree it may write: on a v1 or hybrid host the host's
// name=systemd hierarchy; on cgroup v2, where Docker 20.10 mounts a container's cgroup2
// read-only, the host's tree in the host's cgroup namespace, so systemd makes init.scope and
// system.slice/ below /docker/<id> (measured in the v2 guest, test/v2).
const CGROUP_TREE = hostLayout() === 'v2' ? '/sys/fs/cgroup' : '/sys/fs/cgroup/systemd';
export const SYSTEMD_OPTIONS = ['-t', '--cgroupns', 'host', '-v', `${CGROUP_TREE}:${CGROUP_TREE}`, '--tmpfs', '/run', '--tmpfs', '/run/lock'];

/** Waits until systemd in `name` says "running"; throws with its failed units otherwise. */
export async function waitForBoot(containers: Containers, name: string, what: string, startedMs: number): Promise<void> {
  // Until systemd answers on its bus, systemctl prints nothing; then "starting", then the verdict.
  const state = await waitFor('systemd in the container to finish booting', async () => {
    const r = await containers.exec(name, ['systemctl', 'is-system-running'], { timeoutMs: 10_000 });
    const said = r.stdout.trim();
    return ['running', 'degraded', 'maintenance', 'stopping'].includes(said) ? said : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  figure(`${what}: systemctl is-system-running, seconds after start`, `${state}, ${((Date.now() - startedMs) / 1000).toFixed(1)}`);
  if (state !== 'running') {
    const failed = await containers.exec(name, ['systemctl', '--failed', '--no-pager']);
    throw new Error(`systemd in the container is "${state}":\n${failed.stdout}`);
  }
}

/** systemd's own shutdown (SIGRTMIN+3) removes the cgroups it made; the registry's rm -f follows anyway. */
export async function shutDown(host: readonly string[], name: string): Promise<void> {
  await run('docker', [...host, 'kill', '-s', 'SIGRTMIN+3', name], { timeoutMs: 15_000 });
  await run('timeout', ['20', 'docker', ...host, 'wait', name], { timeoutMs: 30_000 });
}
