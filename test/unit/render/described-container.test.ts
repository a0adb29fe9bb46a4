// One container described once (helpers/cgroup-tree.ts) and rendered from the v1, v2 and
// hybrid files the kernel would show for it: every view must tell the same story on all
// three layouts (issue 20 item 6). The static captures keep their own tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import { diskstatsView } from '../../../src/render/diskstats.js';
import { pressureView } from '../../../src/render/pressure.js';
import { TREE_LAYOUTS, useCgroupTrees, type TreeSpec } from '../helpers/cgroup-tree.js';
import { MIB_IN_KB, meminfoField, PROC_ROOT } from '../helpers/fixtures.js';
import { contextFor, cpuLines, cpuViews, useStateDirs, viewService } from '../helpers/render-context.js';

const MiB = 2 ** 20;
const APP = '/system.slice/app.scope';
/** 512 MiB with 128 MiB of swap, 1.5 CPUs, 30 s user and 10 s system, I/O on sda. */
const TREE: TreeSpec = {
  [APP]: {
    memory: {
      limit: 512 * MiB, usage: 200 * MiB, swapLimit: 128 * MiB, swapUsage: 8 * MiB,
      stat: { anon: 120 * MiB, file: 64 * MiB, shmem: 4 * MiB, file_mapped: 16 * MiB, active_anon: 100 * MiB, active_file: 40 * MiB },
    },
    cpu: { cpus: 1.5, userUs: 30_000_000, systemUs: 10_000_000 },
    io: { '8:0': { rbytes: 1024 * 512, wbytes: 4096 * 512, rios: 10, wios: 20 } },
    pressure: { memory: { some: { avg10: 1.5, avg60: 0.25, avg300: 0, total: 123456 }, full: { avg10: 0.5, avg60: 0, avg300: 0, total: 4567 } } },
  },
};
const HOST_PSI = (resource: string) => readFileSync(join(PROC_ROOT, 'pressure', resource), 'utf8');

describe.each(TREE_LAYOUTS)('a container of 512 MiB and 1.5 CPUs on %s', (layout) => {
  const tree = useCgroupTrees();
  const root = tree(layout, TREE);
  const stateDir = useStateDirs();

  describeServedFiles(['proc/meminfo', 'proc/swaps'], 'its memory', () => {
    it('shows its limit, usage and swap in meminfo', () => {
      const text = viewService(root).renderForCgroup('proc/meminfo', APP).toString();
      expect(meminfoField(text, 'MemTotal')).toBe(512 * MIB_IN_KB);
      expect(meminfoField(text, 'MemFree')).toBe(312 * MIB_IN_KB);
      expect(meminfoField(text, 'Cached')).toBe(64 * MIB_IN_KB);
      expect(meminfoField(text, 'AnonPages')).toBe(120 * MIB_IN_KB);
      expect(meminfoField(text, 'Shmem')).toBe(4 * MIB_IN_KB);
      expect(meminfoField(text, 'Mapped')).toBe(16 * MIB_IN_KB);
      expect(meminfoField(text, 'Active')).toBe(140 * MIB_IN_KB);
      expect(meminfoField(text, 'SwapTotal')).toBe(128 * MIB_IN_KB);
      expect(meminfoField(text, 'SwapFree')).toBe(120 * MIB_IN_KB);
    });

    it('shows its swap as one virtual device', () => {
      const text = viewService(root).renderForCgroup('proc/swaps', APP).toString();
      expect(text.split('\n')[1]).toBe(`none${' '.repeat(36)}virtual\t\t${128 * MIB_IN_KB}\t\t${8 * MIB_IN_KB}\t\t0`);
    });
  });

  describeServedFiles(['proc/cpuinfo', 'proc/stat', 'sys/devices/system/cpu/online'], 'its CPUs', () => {
    it('shows ceil(1.5) = 2 CPUs, its time spread over them, the rest idle since the host booted', () => {
      const views = cpuViews(stateDir());
      const context = contextFor(root, APP);
      expect(views.render('sys/devices/system/cpu/online', context)).toBe('0-1\n');
      expect(views.render('proc/cpuinfo', context).match(/^processor\s*:/gm)).toHaveLength(2);
      // 5000 s of host uptime on 2 CPUs: 1 000 000 ticks, 4000 of them busy.
      const lines = cpuLines(views.render('proc/stat', context));
      expect([...lines.keys()]).toEqual(['cpu', 'cpu0', 'cpu1']);
      expect(lines.get('cpu')).toEqual([3000, 0, 1000, 996000, 0, 0, 0, 0, 0, 0]);
      expect(lines.get('cpu0')).toEqual([1500, 0, 500, 498000, 0, 0, 0, 0, 0, 0]);
    });
  });

  describeServedFiles(['proc/diskstats'], 'its I/O', () => {
    it('shows the disks it used with its operations and bytes/512 as sectors', () => {
      expect(diskstatsView(contextFor(root, APP))).toBe('   8       0 sda 10 0 1024 0 20 0 4096 0 0 0 0 0 0 0 0 0 0\n');
    });
  });

  describeServedFiles(['proc/pressure/memory', 'proc/pressure/cpu'], 'its pressure', () => {
    it('shows its own PSI where a cgroup2 holds it (v2, hybrid) and the host\'s on pure v1', () => {
      const own = 'some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\nfull avg10=0.50 avg60=0.00 avg300=0.00 total=4567\n';
      expect(pressureView('memory')(contextFor(root, APP))).toBe(layout === 'v1' ? HOST_PSI('memory') : own);
      const idle = 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
      expect(pressureView('cpu')(contextFor(root, APP))).toBe(layout === 'v1' ? HOST_PSI('cpu') : idle);
    });
  });
});
