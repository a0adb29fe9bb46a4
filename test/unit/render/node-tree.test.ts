// sys/devices/system/node cut to a view (issue 21): the fixture host has node0 (CPUs 0-1)
// and node1 (CPUs 2-3); docker A sees CPUs 1-2 (both nodes, each cut to one CPU), the
// nested container CPU 2 (node1 alone), the root cgroup the host's files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import { CGROUP_V2, DOCKER_A, NESTED, SYS_ROOT } from '../helpers/fixtures.js';
import { viewService } from '../helpers/render-context.js';

const NODE = 'sys/devices/system/node';
const views = viewService(CGROUP_V2);
const render = (rel: string, path: string) => views.renderForCgroup(`${NODE}/${rel}`, path).toString();

describeServedFiles(['sys/devices/system/node'], 'the sys NUMA node directory', () => {
  it('serves every readable host file of the node directory', () => {
    const files = views.files.filter((file) => file.startsWith(`${NODE}/`)).map((file) => file.slice(NODE.length + 1));
    expect(files).toEqual(expect.arrayContaining(['online', 'has_cpu', 'node0/cpulist', 'node1/cpumap', 'node1/meminfo']));
  });

  it.each([
    ['node0/cpulist', DOCKER_A, '1\n'],
    ['node0/cpumap', DOCKER_A, '2\n'],
    ['node1/cpulist', DOCKER_A, '2\n'],
    ['node1/cpumap', DOCKER_A, '4\n'],
    ['online', DOCKER_A, '0-1\n'],
    ['has_cpu', NESTED, '1\n'],
    ['possible', NESTED, '1\n'],
    ['has_memory', NESTED, '1\n'],
    ['node1/cpulist', NESTED, '2\n'],
  ])('shows %s to %s as %j', (rel, path, expected) => {
    expect(render(rel, path)).toBe(expected);
  });

  it('passes the other files through and shows the root cgroup the host\'s', () => {
    const host = (rel: string) => readFileSync(join(SYS_ROOT, 'devices/system/node', rel), 'utf8');
    expect(render('node1/meminfo', NESTED)).toBe(host('node1/meminfo'));
    for (const rel of ['online', 'node0/cpulist', 'node0/cpumap']) expect(render(rel, '/')).toBe(host(rel));
  });

  it('lists the nodeN directories only for the nodes of the reader\'s CPUs', () => {
    // Fixture pid 3201 is in the nested container (CPU 2).
    const visible = views.visibleFor(3201);
    expect([visible(`${NODE}/node0`), visible(`${NODE}/node0/cpulist`), visible(`${NODE}/node1`), visible(`${NODE}/online`)]).toEqual([false, false, true, true]);
    expect(views.isPerReader(`${NODE}/node0/meminfo`)).toBe(true);
    expect(views.isPerReader(`${NODE}/online`)).toBe(false);
  });

  it('carries the host\'s symlinks, a node\'s link to a CPU only for readers of that CPU (issue 21)', () => {
    expect(views.links.get(`${NODE}/node1/cpu2`)).toBe('../../cpu/cpu2');
    expect(views.links.get(`${NODE}/node0/subsystem`)).toBe('../../../../bus/node');
    // Fixture pid 2150 is in docker A (CPUs 1-2): node0 cut to CPU 1, node1 to CPU 2.
    const visible = views.visibleFor(2150);
    const links = ['node0/cpu0', 'node0/cpu1', 'node1/cpu2', 'node1/cpu3', 'node0/subsystem'].map((rel) => visible(`${NODE}/${rel}`));
    expect(links).toEqual([false, true, true, false, true]);
    expect(views.isPerReader(`${NODE}/node1/cpu3`)).toBe(true);
  });
});
