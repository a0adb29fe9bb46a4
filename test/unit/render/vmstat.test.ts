// /proc/vmstat for a container (issue 21): its cgroup's counters under the kernel's names,
// pgpgin/pgpgout from its block I/O in kB, counters no cgroup keeps at 0, page gauges
// from memory.stat, the host's other gauges, the host's file at the root.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import { isGauge } from '../../../src/render/vmstat.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, DOCKER_A, PROC_ROOT } from '../helpers/fixtures.js';
import { viewService } from '../helpers/render-context.js';

const HOST = readFileSync(join(PROC_ROOT, 'vmstat'), 'utf8');

function parse(text: string): Map<string, number> {
  return new Map(text.trim().split('\n').map((line) => [line.split(' ')[0]!, Number(line.split(' ')[1])]));
}

function render(cgroupRoot: string, path: string): Map<string, number> {
  const views = viewService(cgroupRoot);
  return parse(views.renderForCgroup('proc/vmstat', path).toString());
}

describeServedFiles(['proc/vmstat'], 'proc/vmstat', () => {
  it.each([['v1', CGROUP_V1], ['v2', CGROUP_V2]] as const)('on %s shows docker A\'s faults, its block I/O as pgpgin/pgpgout and 0 for what no cgroup counts', (version, root) => {
    const view = render(root, DOCKER_A);
    const host = parse(HOST);
    expect([...view.keys()]).toEqual([...host.keys()]);
    expect([view.get('pgfault'), view.get('pgmajfault'), view.get('workingset_refault_file')]).toEqual([115200, 384, 768]);
    // Bytes read and written over its devices (v2 io.stat, v1 blkio's throttle counts), in
    // kB: not v1 memory.stat's pgpgin (76800), which counts pages charged.
    const [read, written] = [18743296 + 7340032 + 4096, 52428800 + 104857600];
    expect([view.get('pgpgin'), view.get('pgpgout')]).toEqual([Math.floor(read / 1024), Math.floor(written / 1024)]);
    for (const counter of ['pgfree', 'pgalloc_normal', 'pswpin', 'oom_kill', 'nr_dirtied']) expect([counter, view.get(counter)]).toEqual([counter, 0]);
    if (version === 'v2') expect(view.get('nr_anon_pages')).toBe(157286400 / 4096);
    expect(view.get('nr_free_pages')).toBeLessThan(host.get('nr_free_pages')!);
    // A gauge memory.stat does not have stays the host's.
    expect(view.get('nr_zone_write_pending')).toBe(host.get('nr_zone_write_pending'));
  });

  it('shows the host\'s file to the root cgroup', () => {
    const views = viewService(CGROUP_HYBRID);
    expect(views.renderForCgroup('proc/vmstat', '/').toString()).toBe(HOST);
  });

  it.each([
    ['nr_free_pages', true],
    ['workingset_nodes', true],
    ['nr_dirtied', false],
    ['pgfault', false],
    ['workingset_refault_file', false],
  ] as const)('takes %s for a gauge: %s', (key, gauge) => {
    expect(isGauge(key)).toBe(gauge);
  });
});
