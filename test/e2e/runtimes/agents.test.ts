// Real monitoring agents in a container (issue 9 §4): zabbix_agentd and zabbix_agent2 -t,
// node_exporter scraped on 127.0.0.1, getconf, busybox, psutil, sysstat and the host's
// Node, all inside `docker run -m 256m --cpus 0.5` from an image of Debian's own packages.
// Every metric of the issue's table is checked against the container's truth (its cgroup's
// limit and usage, its age, its own load, its start) with and without the preload library,
// and a daemon of our own with --btime container answers for boot times. What cgprocfs
// promises decides each check: a value from a bound file is the container's either way, a
// value from sysinfo()/sysconf()/getloadavg() only with the library, Go's raw sysinfo
// syscall never, and btime follows --btime. A control container without cgprocfs shows
// the host's values, so the checks can tell. The table (metric | host | cgprocfs | truth)
// is printed as [figure] lines.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../harness/daemon.js';
import { runOk } from '../harness/exec.js';
import { DAEMON_BIN } from '../harness/prerequisites.js';
import { teardown } from '../harness/suite.js';
import { ensureAgentsImage } from '../../runtime/agents-image.js';
import {
  collected,
  hostFacts,
  hostOf,
  initStartedAt,
  METRICS,
  metricLabel,
  mode,
  MODES,
  promised,
  shown,
  truthOf,
  formatValue,
  type Collected,
  type HostFacts,
  type Metric,
  type Mode,
} from '../../runtime/agents.js';
import { NODE_BIND, SCRIPTS_BIND, SCRIPTS_IN_CONTAINER } from '../../runtime/checks.js';
import { describeRuntime, prepareRuntime, type Prepared } from '../../runtime/runtime.js';

/** The runtime, then the agents image on top of its procps image (built once, kept). */
async function prepare(): Promise<{ prepared: Prepared; image: string }> {
  const prepared = await prepareRuntime({ images: ['procps'] });
  if (!prepared.ok) return { prepared, image: '' };
  const started = Date.now();
  try {
    const agents = await ensureAgentsImage(prepared.runtime.images.procps);
    const runtime = {
      ...prepared.runtime,
      summary: `${prepared.runtime.summary}; agents image ${agents.tag} (${agents.built ? `built in ${((Date.now() - started) / 1000).toFixed(1)} s` : 'cached'})`,
    };
    return { prepared: { ok: true, runtime }, image: agents.tag };
  } catch (err) {
    await prepared.runtime.engine.stop().catch(() => undefined);
    return { prepared: { ok: false, reason: `building the agents image failed: ${(err as Error).message}` }, image: '' };
  }
}

const { prepared, image } = await prepare();

const LIMITS = ['-m', '256m', '--cpus', '0.5'];
const COLLECT_TIMEOUT_MS = 90_000;
const HOST_SAMPLE_MS = 100;

/** `cgprocfs docker-flags` of the built CLI, as argv words: `--mount X` and `--env X` lines. */
async function dockerFlags(mountpoint: string, preload: boolean): Promise<string[]> {
  const args = [DAEMON_BIN, 'docker-flags', '--mountpoint', mountpoint, '--format', 'lines', ...(preload ? ['--preload'] : [])];
  const out = await runOk(process.execPath, args, { timeoutMs: 15_000 });
  return out.split('\n').filter(Boolean).flatMap((line) => {
    const m = /^(--mount|--env) (\S+)$/.exec(line);
    if (!m) throw new Error(`docker-flags printed a line that is not "--mount VALUE" or "--env VALUE": ${JSON.stringify(line)}`);
    return [m[1]!, m[2]!];
  });
}

/** The check of one reading against what cgprocfs promises, with a message that shows all three values. */
function check(metric: Metric, c: Collected, host: readonly HostFacts[]): void {
  const reading = metric.read(c);
  const side = promised(metric, c.mode);
  const want = (side === 'truth' ? truthOf : hostOf)(metric.kind, c, host, reading);
  const slack = reading.granularity ?? 0;
  const truth = truthOf(metric.kind, c, host, reading);
  const hostValue = hostOf(metric.kind, c, host, reading);
  const message =
    `${metricLabel(metric)} (${c.mode.title}): ${formatValue(metric.kind, reading.value)} ` +
    `[raw ${reading.value}], want the ${side}'s ${formatValue(metric.kind, want.show)} ` +
    `(${want.lo - slack} .. ${want.hi + slack}); truth ${formatValue(metric.kind, truth.show)}, host ${formatValue(metric.kind, hostValue.show)}`;
  expect(reading.value, message).toBeGreaterThanOrEqual(want.lo - slack);
  expect(reading.value, message).toBeLessThanOrEqual(want.hi + slack);
}

function testName(metric: Metric, m: Mode): string {
  const label = metricLabel(metric);
  switch (promised(metric, m)) {
    case 'truth':
      if (metric.source !== 'btime') return `${label} is the container's (${metric.why})`;
      return `${label} is the container's ${metric.kind === 'uptime' ? 'age' : 'start'} (${metric.why})`;
    case 'host':
      if (metric.source === 'syscall') return `${label} stays the host's: ${metric.why}, which no preload reaches (a documented limit)`;
      if (metric.source === 'btime') return `${label} is the host's ${metric.kind === 'uptime' ? 'uptime' : 'boot'}, by design of --btime host (${metric.why})`;
      if (metric.kind === 'memAvailPct') return `${label} is the container's MemAvailable over the host's total (${metric.why}), as documented without the library`;
      return `${label} is the host's (${metric.why}), as documented without the library`;
  }
}

describeRuntime('real monitoring agents in a -m 256m --cpus 0.5 container (issue 9)', prepared, (fx) => {
  const results = new Map<Mode['id'], Collected>();
  const hosts: HostFacts[] = [];
  const names: string[] = [];
  let btimeDaemon: Daemon | undefined;
  let btimeStateDir: string | undefined;

  beforeAll(async () => {
    btimeStateDir = mkdtempSync('/run/cgprocfs-test-');
    btimeDaemon = await Daemon.start({ args: ['--state-dir', btimeStateDir, '--btime', 'container'] });
    const mountpointOf = (m: Mode) => (m.btime === 'container' ? btimeDaemon!.mountpoint : fx.daemon.mountpoint);
    const clockTicks = Number(await runOk('getconf', ['CLK_TCK']));
    const flags = await Promise.all(MODES.map((m) => (m.cgprocfs ? dockerFlags(mountpointOf(m), m.preload) : Promise.resolve([]))));
    // One container per mode, all at once; each runs the collector once, all at once.
    const started = await Promise.all(
      MODES.map(async (m, i) => {
        const name = await fx.docker.start([...LIMITS, ...flags[i]!, ...NODE_BIND, ...SCRIPTS_BIND], [image], ['sleep', 'infinity']);
        names.push(name);
        return { m, name, startedAt: initStartedAt(Number(await fx.docker.inspect(name, '{{.State.Pid}}')), clockTicks) };
      }),
    );
    // The host's facts all through the collection: its load and free memory move meanwhile.
    hosts.push(hostFacts());
    const sampler = setInterval(() => hosts.push(hostFacts()), HOST_SAMPLE_MS);
    try {
      const outputs = await Promise.all(
        started.map(({ name, m }) => fx.docker.execOk(name, ['sh', `${SCRIPTS_IN_CONTAINER}/agents-collect.sh`, m.script], { timeoutMs: COLLECT_TIMEOUT_MS })),
      );
      started.forEach(({ m, startedAt }, i) => results.set(m.id, collected(m, startedAt, outputs[i]!)));
    } finally {
      clearInterval(sampler);
      hosts.push(hostFacts());
    }
  }, 180_000);

  // Our containers first (they pin the --btime container mount), then that daemon; the
  // fixture's own teardown removes anything left and stops its daemon and engine.
  afterAll(() =>
    teardown(
      async () => {
        for (const name of names.splice(0)) await fx.docker.remove(name);
      },
      () => btimeDaemon?.destroy(),
      async () => btimeStateDir && rmSync(btimeStateDir, { recursive: true, force: true }),
    ),
  );

  const result = (id: Mode['id']): Collected => {
    const c = results.get(id);
    if (!c) throw new Error(`no collection for ${id} (see beforeAll)`);
    return c;
  };

  for (const id of ['preload', 'cgprocfs'] as const) {
    const m = mode(id);
    describe(`${m.title} (daemon --btime host)`, () => {
      for (const metric of METRICS) {
        it(testName(metric, m), () => check(metric, result(id), hosts));
      }
    });
  }

  for (const id of ['btime-preload', 'btime'] as const) {
    const m = mode(id);
    describe(m.title, () => {
      for (const metric of METRICS.filter((x) => x.boot)) {
        it(testName(metric, m), () => check(metric, result(id), hosts));
      }
    });
  }

  it('without cgprocfs (the control) the same agents report the host\'s memory, CPUs, uptime and boot, so the checks can tell', () => {
    const c = result('plain');
    const host = hosts[0]!;
    const value = (label: string) => {
      const metric = METRICS.find((x) => metricLabel(x) === label);
      if (!metric) throw new Error(`no metric ${label}`);
      return metric.read(c).value;
    };
    expect(value('zabbix_agentd vm.memory.size[total]')).toBe(host.memTotal);
    expect(value('node_exporter node_memory_MemTotal_bytes')).toBe(host.memTotal);
    expect(value('getconf _NPROCESSORS_ONLN')).toBe(host.online);
    expect(value('sysstat mpstat (N CPU)')).toBe(host.online);
    expect(value('zabbix_agentd system.boottime')).toBe(host.btime);
    expect(value('node (the host\'s, bound in) os.uptime()')).toBeGreaterThan(c.end.at - c.startedAt + 60);
    // With a 1-CPU host the CPU checks cannot tell the host from the container: say so.
    if (host.online === 1) console.warn('[agents] the host has one CPU: CPU counts cannot tell host from container here');
  });

  it('prints the table: metric | host (no cgprocfs) | cgprocfs | cgprocfs + preload | truth', () => {
    const lines = [
      '| metric | from | host (no cgprocfs) | cgprocfs | cgprocfs + preload | truth |',
      '|---|---|---|---|---|---|',
    ];
    const truthShown = (metric: Metric, c: Collected) => {
      try {
        return formatValue(metric.kind, truthOf(metric.kind, c, hosts, metric.read(c)).show);
      } catch {
        return formatValue(metric.kind, truthOf(metric.kind, c, hosts).show);
      }
    };
    for (const metric of METRICS) {
      const plain = shown(metric, results.get('plain'));
      const row = (suffix: string, a: Mode['id'], b: Mode['id']) =>
        `| ${metricLabel(metric)}${suffix} | ${metric.why} | ${plain} | ${shown(metric, results.get(a))} | ${shown(metric, results.get(b))} | ${truthShown(metric, result(b))} |`;
      if (metric.boot && metric.source === 'btime') {
        lines.push(row(' (--btime host)', 'cgprocfs', 'preload'));
        lines.push(row(' (--btime container)', 'btime', 'btime-preload'));
      } else {
        lines.push(row('', 'cgprocfs', 'preload'));
      }
    }
    const h = hosts[0]!;
    lines.push(
      `host: ${formatValue('memTotal', h.memTotal)} RAM, ${h.online} CPUs online (${h.possible} possible), swap ${formatValue('swapTotal', h.swapTotal)}, ` +
        `load ${h.load1.toFixed(2)}, up ${Math.round(h.at - h.bootedAt)} s, btime ${h.btime}`,
    );
    // btime is whole seconds: the kernel's own lies up to 1 s before the boot; show how far cgprocfs's lies.
    const offsets = (['btime', 'btime-preload'] as const).map((id) => {
      const c = results.get(id);
      return c ? (c.start.btime - c.startedAt).toFixed(2) : 'n/a';
    });
    lines.push(`btime − boot, s: host ${(h.btime - h.bootedAt).toFixed(2)}; --btime container: ${offsets.join(', ')} (btime − the container init's start)`);
    for (const line of lines) console.log(`[figure] ${line}`);
    expect(lines.length).toBeGreaterThan(METRICS.length);
  });
});
