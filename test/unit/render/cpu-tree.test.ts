import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import { CPU_SYSFS_DIR } from '../../../src/host/sysfs.js';
import { createCpuTree, cpuSetFormatOf, cutCpuList, cutCpuMask, cutSpacedCpus } from '../../../src/render/cpu-tree.js';
import { contextFor, viewService } from '../helpers/render-context.js';
import { CGROUP_V2, DOCKER_A, LAYOUTS, NESTED, SYS_ROOT, useFixtureCopies } from '../helpers/fixtures.js';

const MOUNT_DIR = 'sys/devices/system/cpu';
const HOST = (rel: string, sysRoot = SYS_ROOT): string => readFileSync(join(sysRoot, CPU_SYSFS_DIR, rel), 'utf8');
const views = createCpuTree({ sysRoot: SYS_ROOT, cpuCount: 'quota' }).views;
const relOf = (file: string): string => file.slice(MOUNT_DIR.length + 1);

function render(rel: string, cgroupRoot: string, path: string): string {
  const view = views[`${MOUNT_DIR}/${rel}`];
  if (view === undefined) throw new Error(`no view ${rel}`);
  return view(contextFor(cgroupRoot, { path }));
}

describeServedFiles(['sys/devices/system/cpu'], 'the sys CPU directory', () => {
  it('has a view for every host file, cpuN of all four host CPUs, and leaves the CPU lists to cpu-sysfs', () => {
    const rels = Object.keys(views).map(relOf);
    expect(Object.keys(views).every((file) => file.startsWith(`${MOUNT_DIR}/`))).toBe(true);
    expect(rels).toEqual(expect.arrayContaining(['kernel_max', 'enabled', 'vulnerabilities/meltdown', 'cpu3/topology/core_id']));
    expect(rels.filter((rel) => /^cpu\d+\/uevent$/.test(rel))).toEqual(['cpu0/uevent', 'cpu1/uevent', 'cpu2/uevent', 'cpu3/uevent']);
    for (const own of ['online', 'possible', 'present', 'offline']) expect(rels).not.toContain(own);
  });

  it.each([
    ['cpu0/topology/thread_siblings_list', 'list'],
    ['cpu0/topology/core_cpus', 'mask'],
    ['cpu12/topology/package_cpus_list', 'list'],
    ['cpu0/cache/index3/shared_cpu_map', 'mask'],
    ['cpu0/cache/index0/shared_cpu_list', 'list'],
    ['isolated', 'list'],
    ['cpu0/topology/core_id', undefined],
    ['kernel_max', undefined],
    ['cpufreq/policy0/related_cpus', 'spaced'],
    ['cpufreq/policy3/affected_cpus', 'spaced'],
    ['cpufreq/policy0/scaling_cur_freq', undefined],
  ] as const)('reads %s as a CPU %s', (rel, format) => {
    expect(cpuSetFormatOf(rel)).toBe(format);
  });

  describe.each(LAYOUTS)('on %s', (_, root) => {
    // The fixture host: CPUs 0,2 and 1,3 are SMT siblings of one package (test/fixtures/README.md).
    it.each([
      [NESTED, 'cpu2/topology/thread_siblings_list', '2\n'],
      [NESTED, 'cpu2/topology/thread_siblings', '4\n'],
      [NESTED, 'cpu2/topology/core_siblings_list', '2\n'],
      [NESTED, 'cpu2/topology/package_cpus', '4\n'],
      [NESTED, 'cpu2/cache/index3/shared_cpu_list', '2\n'],
      [DOCKER_A, 'cpu1/topology/thread_siblings_list', '1\n'],
      [DOCKER_A, 'cpu1/topology/core_cpus', '2\n'],
      [DOCKER_A, 'cpu2/topology/die_cpus_list', '1-2\n'],
      [DOCKER_A, 'cpu2/topology/core_siblings', '6\n'],
      [DOCKER_A, 'cpu1/cache/index0/shared_cpu_map', '2\n'],
      [DOCKER_A, 'enabled', '1-2\n'],
      [DOCKER_A, 'isolated', '\n'],
    ])('shows %s a %s naming only its CPUs: %j', (path, rel, expected) => {
      expect(render(rel, root, path)).toBe(expected);
    });

    it.each([DOCKER_A, NESTED])('passes every file naming no CPUs to %s byte for byte', (path) => {
      const passed = Object.keys(views).map(relOf).filter((rel) => cpuSetFormatOf(rel) === undefined);
      expect(passed).toEqual(expect.arrayContaining(['kernel_max', 'modalias', 'smt/active', 'cpuidle/current_driver', 'cpu2/uevent']));
      for (const rel of passed) expect(render(rel, root, path), rel).toBe(HOST(rel));
    });

    it('gives a host-wide view every file unchanged', () => {
      for (const rel of Object.keys(views).map(relOf)) expect(render(rel, root, '/'), rel).toBe(HOST(rel));
    });
  });

  it.each([
    ['f\n', [2], '4\n'],
    ['5\n', [1, 3], '0\n'],
    ['00000000,00000005\n', [2], '00000000,00000004\n'],
    ['ff,ffffffff\n', [0, 35, 40], '08,00000001\n'],
    ['ffffffff,ffffffff,ffffffff\n', [64, 95], '80000001,00000000,00000000\n'],
  ] as const)('cuts the mask %j to CPUs %j keeping its digits and groups: %j', (host, cpus, expected) => {
    expect(cutCpuMask(host, cpus, 'mask')).toBe(expected);
  });

  it.each([
    ['0-3\n', [1, 2], '1-2\n'],
    ['0,2\n', [2, 3], '2\n'],
    ['0-7,16-23\n', [5, 6, 7, 16, 30], '5-7,16\n'],
    ['\n', [0], '\n'],
  ] as const)('cuts the list %j to CPUs %j: %j', (host, cpus, expected) => {
    expect(cutCpuList(host, cpus, 'list')).toBe(expected);
  });

  it.each(['', 'xyz\n', '0f,,1\n'])('raises SOURCE_UNREADABLE for the mask %j', (host) => {
    expect(() => cutCpuMask(host, [0], 'mask')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  describe('in the view service', () => {
    const copy = useFixtureCopies();
    const service = (sysRoot = SYS_ROOT) => viewService(CGROUP_V2, { sysRoot });

    it('serves the tree with the views\' CPU lists, each path once', () => {
      const files = service().files;
      expect(files).toEqual(expect.arrayContaining([`${MOUNT_DIR}/online`, `${MOUNT_DIR}/kernel_max`, `${MOUNT_DIR}/cpu3/topology/core_id`]));
      expect(new Set(files).size).toBe(files.length);
      expect(service().renderForCgroup(`${MOUNT_DIR}/cpu2/topology/thread_siblings_list`, NESTED).toString()).toBe('2\n');
    });

    it('answers SOURCE_UNREADABLE for a host file that vanished after the walk (a CPU unplugged)', () => {
      const sysRoot = copy(SYS_ROOT);
      const served = service(sysRoot);
      rmSync(join(sysRoot, CPU_SYSFS_DIR, 'cpu3'), { recursive: true });
      expect(() => served.renderForCgroup(`${MOUNT_DIR}/cpu3/topology/core_id`, '/')).toThrow(
        expect.objectContaining({ code: 'SOURCE_UNREADABLE' }),
      );
    });
  });

  it('cuts a cpufreq policy\'s affected_cpus and related_cpus (ids one space apart) to the view', () => {
    expect(cutSpacedCpus('0 1 2 3\n', [1, 2])).toBe('1 2\n');
    expect(cutSpacedCpus('0\n', [1, 2])).toBe('\n');
  });
});
