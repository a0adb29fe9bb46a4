// Renderers read cgroups only through ViewSources.cgroups (issue 20): each test here hands
// a view a plain object for it, no cgroup tree at all, and checks what the view makes of
// the answers. The host's own files still come from the fixture proc root.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CgroupLayout } from '../../../src/cgroup/layout.js';
import type { CgroupReader } from '../../../src/cgroup/reader.js';
import type { CgroupView } from '../../../src/cgroup/view.js';
import { CgprocfsError } from '../../../src/errors.js';
import { collect as collectDiskstats, render as renderDiskstats } from '../../../src/render/diskstats.js';
import { collect as collectMeminfo, render as renderMeminfo } from '../../../src/render/meminfo.js';
import { pressureView } from '../../../src/render/pressure.js';
import type { ViewContext } from '../../../src/render/sources.js';
import { createViewSources } from '../../../src/render/view-sources.js';
import { PROC_ROOT } from '../helpers/fixtures.js';
import { testTarget } from '../helpers/render-context.js';

/** A layout whose root does not exist: nothing may read a cgroup file through it. */
const NO_TREE: CgroupLayout = { kind: 'v2', root: '/nonexistent/cgroup', controllers: new Map() };
const TARGET = testTarget('/tenant');

/** Every read the view does not expect fails the test. */
function fakeCgroups(answers: Partial<CgroupReader>): CgroupReader {
  const unexpected = (name: string) => () => {
    throw new Error(`the view read ${name}, which this test does not answer`);
  };
  return Object.fromEntries(Object.keys(READER_METHODS).map((name) => [name, answers[name as keyof CgroupReader] ?? unexpected(name)])) as unknown as CgroupReader;
}

/** Every method of the reader: a method added to CgroupReader and not here is a type error. */
const READER_METHODS: Readonly<Record<keyof CgroupReader, true>> = {
  memory: true, oomKills: true, io: true, pressure: true, cpuPlacement: true, cpuLimits: true, cpuUsage: true, taskList: true, pidsCurrent: true,
};

function contextWith(cgroups: CgroupReader): ViewContext {
  return { sources: { ...createViewSources({ procRoot: PROC_ROOT, layout: NO_TREE }), cgroups }, target: TARGET, options: { swap: true } };
}

const HOST = (file: string) => readFileSync(join(PROC_ROOT, file), 'utf8');
const GIB = 1024 ** 3;

describe('views on a fake cgroup reader', () => {
  it('asks the reader about the target\'s own cgroup view', () => {
    const asked: CgroupView[] = [];
    const cgroups = fakeCgroups({ pressure: (view) => (asked.push(view), undefined) });
    pressureView('io')(contextWith(cgroups));
    expect(asked).toEqual([TARGET.cgroups]);
  });

  it('copies the cgroup\'s PSI text byte for byte, and the host\'s when the reader says host-wide', () => {
    const own = 'some avg10=1.50 avg60=0.75 avg300=0.25 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
    const cgroups = fakeCgroups({ pressure: (_view, resource) => (resource === 'memory' ? own : undefined) });
    expect(pressureView('memory')(contextWith(cgroups))).toBe(own);
    expect(pressureView('cpu')(contextWith(cgroups))).toBe(HOST('pressure/cpu'));
  });

  it('shows only the disks the cgroup did I/O on, with its counts in sectors', () => {
    const io = new Map([['8:0', { rbytes: 1024n * 512n, wbytes: 2048n * 512n, rios: 10n, wios: 20n, dbytes: 0n, dios: 0n }]]);
    const text = renderDiskstats(collectDiskstats(contextWith(fakeCgroups({ io: () => io }))));
    expect(text).toBe(`   8       0 sda 10 0 1024 0 20 0 2048 0 0 0 0 0 0 0 0 0 0\n`);
  });

  it('bounds MemTotal by the limit the reader reports', () => {
    const memory = { limitChain: [2 * GIB], current: GIB / 2, stat: {}, swap: undefined };
    const text = renderMeminfo(collectMeminfo(contextWith(fakeCgroups({ memory: () => memory }))));
    expect(text.split('\n')[0]).toMatch(/^MemTotal: +2097152 kB$/);
  });

  it('passes the reader\'s error on, as a cgroup without the controller does', () => {
    const missing = new CgprocfsError('SOURCE_UNREADABLE', 'the memory cgroup is not listed');
    const cgroups = fakeCgroups({ memory: () => { throw missing; } });
    expect(() => collectMeminfo(contextWith(cgroups))).toThrow(missing);
  });
});
