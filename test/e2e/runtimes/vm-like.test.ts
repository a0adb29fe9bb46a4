// The VM-like container (issue 7 §4): systemd as PID 1 in Docker, limited to 256 MiB and
// half a CPU, our files bound with docker-flags. From `docker exec` and from a transient
// service that systemd puts in a sub-cgroup of its own, free, uptime and /proc/stat show
// the container's limits and age (the default --resolve init: every process of a pid
// namespace sees its init's cgroup).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hostLayout } from '../harness/cgroups.js';
import { run, scaled, waitFor } from '../harness/exec.js';
import { figure, processAgeSeconds, statCpuIds, uptimeSeconds } from '../../runtime/checks.js';
import { describeRuntime, prepareRuntime } from '../../runtime/runtime.js';

const prepared = await prepareRuntime({ images: ['systemd'] });

// systemd needs tmpfs /run and a cgroup tree it may write (reference: container-runtimes.md,
// "systemd as PID 1"): on a v1 or hybrid host the host's name=systemd hierarchy; on cgroup v2, where
// Docker 20.10 mounts a container's cgroup2 read-only, the host's tree in the host's cgroup namespace,
// so systemd makes init.scope and system.slice/ below /docker/<id> (measured in the v2 guest, test/v2).
const CGROUP_TREE = hostLayout() === 'v2' ? '/sys/fs/cgroup' : '/sys/fs/cgroup/systemd';
const SYSTEMD_OPTIONS = ['-t', '--cgroupns', 'host', '-v', `${CGROUP_TREE}:${CGROUP_TREE}`, '--tmpfs', '/run', '--tmpfs', '/run/lock'];
const REPORT = 'cat /proc/self/cgroup; echo "free=$(free -m | awk \'/^Mem:/ {print $2}\')"; echo "uptime=$(cut -d" " -f1 /proc/uptime)"; ' +
  'uptime; grep "^cpu[0-9]" /proc/stat';

interface Report {
  /** The cgroup of systemd's hierarchy. */
  systemdCgroup: string;
  freeTotal: number;
  uptime: number;
  uptimeCmd: string;
  statCpus: number[];
}

function parseReport(out: string): Report {
  return {
    // systemd's own hierarchy: name=systemd on v1 and hybrid hosts, the one cgroup2 tree on v2.
    systemdCgroup: (/^\d+:name=systemd:(.*)$/m.exec(out) ?? /^0::(.*)$/m.exec(out))?.[1] ?? '',
    freeTotal: Number(/^free=(\d+)$/m.exec(out)?.[1]),
    uptime: uptimeSeconds(`${/^uptime=(\S+)$/m.exec(out)?.[1]} 0.00`),
    uptimeCmd: / up .*$/m.exec(out)?.[0] ?? '',
    statCpus: statCpuIds(out),
  };
}

describeRuntime('a VM-like container: systemd as PID 1 in Docker', prepared, (fx) => {
  let name = '';
  let startedMs = 0;
  const ageS = () => (Date.now() - startedMs) / 1000;

  beforeAll(async () => {
    const options = [...SYSTEMD_OPTIONS, '-m', '256m', '--cpus', '0.5', ...(await fx.flags())];
    name = await fx.docker.start(options, [fx.image('systemd')], ['/sbin/init']);
    startedMs = Date.parse(await fx.docker.inspect(name, '{{.State.StartedAt}}'));
    // Until systemd answers on its bus, systemctl prints nothing; then "starting", then the verdict.
    const state = await waitFor('systemd in the container to finish booting', async () => {
      const r = await fx.docker.exec(name, ['systemctl', 'is-system-running'], { timeoutMs: 10_000 });
      const said = r.stdout.trim();
      return ['running', 'degraded', 'maintenance', 'stopping'].includes(said) ? said : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    figure('vm-like: systemctl is-system-running, seconds after start', `${state}, ${ageS().toFixed(1)}`);
    if (state !== 'running') {
      const failed = await fx.docker.exec(name, ['systemctl', '--failed', '--no-pager']);
      throw new Error(`systemd in the container is "${state}":\n${failed.stdout}`);
    }
  }, scaled(90_000));

  // systemd's own shutdown removes the cgroups it made; the registry's rm -f follows anyway.
  afterAll(async () => {
    if (!name) return;
    await run('docker', ['kill', '-s', 'SIGRTMIN+3', name], { timeoutMs: 15_000 });
    await run('timeout', ['20', 'docker', 'wait', name], { timeoutMs: 30_000 });
  });

  const fromExec = async () => parseReport(await fx.docker.execOk(name, ['sh', '-c', REPORT]));
  const fromService = async () =>
    parseReport(await fx.docker.execOk(name, ['systemd-run', '--wait', '--pipe', '--quiet', 'sh', '-c', REPORT]));

  it('a transient service runs in a sub-cgroup of its own, below the container\'s', async () => {
    const service = await fromService();
    const exec = await fromExec();
    figure('vm-like: systemd\'s cgroup of docker exec / of systemd-run', `${exec.systemdCgroup} / ${service.systemdCgroup}`);
    expect(service.systemdCgroup).toMatch(/\/system\.slice\/run-[^/]+\.service$/);
    expect(service.systemdCgroup).not.toBe(exec.systemdCgroup);
  });

  it.each([['docker exec', fromExec], ['a transient service (systemd-run --wait --pipe)', fromService]])(
    'free -m from %s shows a total of 256',
    async (how, report) => {
      const { freeTotal } = await report();
      figure(`vm-like: free -m total from ${how}`, freeTotal);
      expect(freeTotal).toBe(256);
    },
  );

  it.each([['docker exec', fromExec], ['a transient service (systemd-run --wait --pipe)', fromService]])(
    'uptime from %s shows the container\'s age, as the kernel dates its init, not the host\'s',
    async (how, report) => {
      const init = Number(await fx.docker.inspect(name, '{{.State.Pid}}'));
      const ageBefore = processAgeSeconds(init);
      const { uptime, uptimeCmd } = await report();
      const ageAfter = processAgeSeconds(init);
      const age = ageS();
      figure(`vm-like: /proc/uptime vs its init's age (before-after) vs since StartedAt (s) from ${how}`, `${uptime} / ${ageBefore.toFixed(2)}-${ageAfter.toFixed(2)} / ${age.toFixed(2)}; uptime(1):${uptimeCmd}`);
      // Printed in hundredths: a hundredth of rounding either way.
      expect(uptime).toBeGreaterThanOrEqual(ageBefore - 0.01);
      expect(uptime).toBeLessThanOrEqual(ageAfter + 0.01);
      // Docker dates the start once runc has set the container up, a moment after its init began.
      expect(Math.abs(uptime - age)).toBeLessThan(scaled(3_000) / 1000);
      expect(uptimeCmd).toMatch(/^ up\s+[0-9] min,/);
    },
  );

  it.each([['docker exec', fromExec], ['a transient service (systemd-run --wait --pipe)', fromService]])(
    '/proc/stat from %s lists the one CPU of a 0.5-CPU quota',
    async (how, report) => {
      const { statCpus } = await report();
      figure(`vm-like: cpuN lines of /proc/stat from ${how}`, statCpus);
      expect(statCpus).toEqual([0]);
    },
  );
});
