// A container (unshare, in a real cgroup) that binds our sys/devices/system/cpu over its own sees
// the cpuN directories of its cpuset alone, topology naming only its CPUs, and the host's other
// files unchanged; the host sees every CPU (issue 9, scope item 2).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { runInContainer } from './harness/container.js';
import { describeRun, runOk } from './harness/exec.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const SYS_CPU = 'sys/devices/system/cpu';
const SYS_NODE = 'sys/devices/system/node';
const CPU_TREE_BINDS = [SYS_CPU];
const SECTION = '@@\n';
const TOOL_ENV = { ...process.env, LC_ALL: 'C' };
const host = (rel: string): string => readFileSync(join('/', SYS_CPU, rel), 'utf8');

describeE2E('a container binding our sys CPU directory sees its own CPUs', () => {
  const fx = useFixture();
  const CPU1 = 'cpu1-only';

  beforeAll(() => {
    const cpus = fx.cgroups.effectiveCpus();
    if (cpus !== '0-1') throw new Error(`these tests are written for a host whose cpuset is 0-1, not ${cpus}`);
    fx.cgroups.make(CPU1);
    fx.cgroups.setCpus(CPU1, '1');
  });

  const inContainer = async (rel: string, commands: readonly string[], binds = CPU_TREE_BINDS): Promise<string[]> => {
    const argv = ['sh', '-c', commands.join('; echo @@; ')];
    const r = await runInContainer(fx.cgroups, rel, fx.daemon.mountpoint, argv, { timeoutMs: 30_000, env: TOOL_ENV }, binds);
    if (r.code !== 0) throw new Error(describeRun(argv, r));
    return r.stdout.split(SECTION);
  };

  it('a cpuset of CPU 1: one cpuN entry (cpu1), topology naming CPU 1 alone, getconf and nproc --all count 1', async () => {
    const out = await inContainer(CPU1, [
      `ls /${SYS_CPU} | grep -c '^cpu[0-9]'`,
      `ls -d /${SYS_CPU}/cpu[0-9]*`,
      `cat /${SYS_CPU}/cpu1/topology/thread_siblings_list`,
      `cat /${SYS_CPU}/cpu1/topology/core_siblings_list /${SYS_CPU}/cpu1/topology/core_siblings`,
      `cat /${SYS_CPU}/cpu0/topology/core_id 2>&1 || true`,
      'getconf _NPROCESSORS_CONF',
      'nproc --all',
    ]);
    expect(out).toEqual([
      '1\n',
      `/${SYS_CPU}/cpu1\n`,
      '1\n',
      // The host's package holds CPUs 0-1 (mask 3, width as the host prints it).
      `1\n${'2'.padStart(host('cpu1/topology/core_siblings').trim().length, '0')}\n`,
      expect.stringMatching(/No such file or directory/),
      '1\n',
      '1\n',
    ]);
  });

  it('passes the host\'s other files through unchanged', async () => {
    const files = ['kernel_max', 'modalias', 'vulnerabilities/meltdown', 'smt/active', 'cpuidle/current_driver', 'cpu1/topology/core_id'];
    const out = await inContainer(CPU1, files.map((rel) => `cat /${SYS_CPU}/${rel}`));
    expect(out).toEqual(files.map(host));
  });

  it('carries the host\'s symlinks (readlink, ls -l) and empty directories; cpu1/node0 and node0/cpu1 lead into our trees (issue 21)', async () => {
    const out = await inContainer(CPU1, [
      `readlink /${SYS_CPU}/cpu1/node0 /${SYS_CPU}/cpu1/subsystem`,
      `ls -l /${SYS_CPU}/cpu1 | grep '^l' | sed 's/.* \\([^ ]* -> [^ ]*\\)$/\\1/'`,
      `cat /${SYS_CPU}/cpu1/node0/cpulist`,
      `test -d /${SYS_CPU}/cpufreq && ls -A /${SYS_CPU}/cpufreq | wc -l`,
      `ls /${SYS_CPU}/cpufreq/ | tr '\\n' ' '; echo`,
      // The node's links to CPUs: CPU 1's alone, and it leads back into our CPU tree.
      `ls /${SYS_NODE}/node0 | grep '^cpu[0-9]'; readlink /${SYS_NODE}/node0/cpu1; cat /${SYS_NODE}/node0/cpu1/topology/core_siblings_list`,
    ], [SYS_CPU, SYS_NODE]);
    // Every link the host's cpu1 has: node0 and subsystem everywhere, driver and firmware_node where an
    // ACPI processor driver bound the CPU (the v2 guest under qemu).
    const cpu1 = join('/', SYS_CPU, 'cpu1');
    const hostLinks = readdirSync(cpu1, { withFileTypes: true }).filter((e) => e.isSymbolicLink()).map((e) => e.name).sort()
      .map((name) => `${name} -> ${readlinkSync(join(cpu1, name))}`);
    expect(out).toEqual([
      '../../node/node0\n../../../../bus/cpu\n',
      `${hostLinks.join('\n')}\n`,
      // The link resolves in the container's /sys: our node directory, cut to CPU 1.
      '1\n',
      `${readdirSync(join('/', SYS_CPU, 'cpufreq')).length}\n`,
      `${readdirSync(join('/', SYS_CPU, 'cpufreq')).map((name) => `${name} `).join('')}\n`,
      'cpu1\n../../cpu/cpu1\n1\n',
    ]);
  });

  it('the host sees every CPU directory and its own topology', async () => {
    const entries = (await runOk('ls', [fx.daemon.path(SYS_CPU)], { timeoutMs: 10_000 })).split('\n');
    expect(entries.filter((name) => /^cpu\d+$/.test(name))).toEqual(['cpu0', 'cpu1']);
    const siblings = await runOk('cat', [fx.daemon.path(`${SYS_CPU}/cpu1/topology/core_siblings_list`)], { timeoutMs: 10_000 });
    expect(siblings).toBe(host('cpu1/topology/core_siblings_list'));
  });
});
