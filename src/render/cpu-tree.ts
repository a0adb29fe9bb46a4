// sys/devices/system/cpu beyond its four CPU lists (cpu-sysfs.ts, file entries of their own): the host's readable
// files, read at every open, its directories and its symlinks. Files that name CPUs
// (topology and cache-sharing lists and masks, `isolated`, ...) are cut to the view's
// CPUs, so lscpu and friends agree with cpuinfo; everything else, and every file of a
// host-wide view, is the host's unchanged.
// Which `cpuN` directories a reader sees at all is cpu-dirs.ts's rule, applied by the fs.
import { join } from 'node:path';
import { formatCpuList, parseCpuList } from '../cgroup/cpu-rules.js';
import { CgprocfsError } from '../errors.js';
import { SERVED_FILES, type TreePath } from '../files/table.js';
import { CPU_SYSFS_DIR, readCpuSysfsFile, walkSysfs, type SysfsWalk, type SysfsWalkLimits } from '../host/sysfs.js';
import { cpuViewOf, type CpuCountMode } from './cpu-view.js';
import type { FileView, ViewContext } from './sources.js';

/** Its tree entry in the table of served files (a renamed entry is a type error here). */
const MOUNT_DIR: TreePath = 'sys/devices/system/cpu';
const DEFAULT_SYS_ROOT = '/sys';

/**
 * How a file names CPUs: `%*pbl` (`0-1,3`), `%*pb` (hex, a comma every 32 bits), or
 * cpufreq's ids one space apart (drivers/cpufreq/cpufreq.c show_cpus: `0 1`).
 */
export type CpuSetFormat = 'list' | 'mask' | 'spaced';

/**
 * The files that name CPUs, relative to the CPU directory. `kernel_max` is not one: it is
 * NR_CPUS-1, the highest id a CPU may have, not a count, and views keep kernel ids (a
 * container on CPU 5 has a cpu5), so it passes unchanged; a smaller value would contradict
 * the view's own directories and shrink the masks libraries size from it (libnuma).
 */
const CPU_SETS: ReadonlyArray<readonly [RegExp, CpuSetFormat]> = [
  [/^cpu\d+\/topology\/\w+_(?:siblings|cpus)_list$/, 'list'],
  [/^cpu\d+\/topology\/\w+_(?:siblings|cpus)$/, 'mask'],
  [/^cpu\d+\/cache\/index\d+\/shared_cpu_list$/, 'list'],
  [/^cpu\d+\/cache\/index\d+\/shared_cpu_map$/, 'mask'],
  [/^(?:enabled|isolated|nohz_full)$/, 'list'],
  [/^cpufreq\/policy\d+\/(?:affected|related)_cpus$/, 'spaced'],
];

export function cpuSetFormatOf(rel: string): CpuSetFormat | undefined {
  return CPU_SETS.find(([pattern]) => pattern.test(rel))?.[1];
}

export interface CpuTreeSnapshot {
  readonly host: string;
  readonly source: string;
  /** Undefined when the host's text is the view: a file naming no CPUs, or a host-wide view. */
  readonly cut: { readonly format: CpuSetFormat; readonly cpus: readonly number[] } | undefined;
}

interface CpuTreeFile {
  readonly sysRoot: string;
  readonly rel: string;
  readonly format: CpuSetFormat | undefined;
  readonly cpuCount: CpuCountMode;
}

export function collect(context: ViewContext, file: CpuTreeFile): CpuTreeSnapshot {
  const host = readCpuSysfsFile(file.sysRoot, file.rel);
  const source = join(file.sysRoot, CPU_SYSFS_DIR, file.rel);
  if (file.format === undefined) return { host, source, cut: undefined };
  const view = cpuViewOf(context.sources, context.target.cgroups, file.cpuCount);
  return { host, source, cut: view.hostWide ? undefined : { format: file.format, cpus: view.cpus } };
}

export function render(snapshot: CpuTreeSnapshot): string {
  const { host, source, cut } = snapshot;
  if (cut === undefined) return host;
  if (cut.format === 'spaced') return cutSpacedCpus(host, cut.cpus);
  return cut.format === 'list' ? cutCpuList(host, cut.cpus, source) : cutCpuMask(host, cut.cpus, source);
}

/** A cpufreq policy's CPU ids with only `cpus` left, in its layout (one space apart, then a newline). */
export function cutSpacedCpus(text: string, cpus: readonly number[]): string {
  const keep = new Set(cpus);
  return `${text.trim().split(/\s+/).filter((id) => id !== '' && keep.has(Number(id))).join(' ')}\n`;
}

/** A CPU list file with only `cpus` left, in the kernel's form (`0-1,3`, or an empty line). */
export function cutCpuList(text: string, cpus: readonly number[], source: string): string {
  const keep = new Set(cpus);
  return `${formatCpuList(parseCpuList(text, source).filter((id) => keep.has(id)))}\n`;
}

const CPU_MASK = /^[0-9a-f]+(?:,[0-9a-f]+)*$/i;
const BITS_PER_DIGIT = 4;

/** A CPU mask file with only `cpus` left, laid out as the host's: same digits, same comma groups. */
export function cutCpuMask(text: string, cpus: readonly number[], source: string): string {
  const mask = text.trim();
  if (!CPU_MASK.test(mask)) throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: cannot parse CPU mask ${JSON.stringify(mask)}`);
  const digits = mask.replaceAll(',', '');
  const view = cpus
    .filter((id) => id < digits.length * BITS_PER_DIGIT)
    .reduce((bits, id) => bits | (1n << BigInt(id)), 0n);
  const hex = (BigInt(`0x${digits}`) & view).toString(16).padStart(digits.length, '0');
  const groups: string[] = [];
  let at = 0;
  for (const group of mask.split(',')) {
    groups.push(hex.slice(at, at + group.length));
    at += group.length;
  }
  return `${groups.join(',')}\n`;
}

export interface CpuTreeOptions {
  /** '/sys' by default: the host files come from `<sysRoot>/devices/system/cpu`. */
  readonly sysRoot?: string;
  readonly cpuCount: CpuCountMode;
  readonly limits?: SysfsWalkLimits;
}

/** A host sysfs directory as the mount serves it, paths inside the mount. */
export interface SysfsTree {
  /** One view per host file. */
  readonly views: Record<string, FileView>;
  /** Every host directory, so an empty one (`cpufreq/` without a driver) is there too. */
  readonly dirs: readonly string[];
  /**
   * The host's symlinks with the host's targets, unchanged: sysfs targets are relative
   * (`cpu0/node0` -> `../../node/node0`), so inside a container whose /sys/devices/system/cpu
   * and /node are ours they name our files. A target leaving the served tree (`cpu0/subsystem`
   * -> `../../../../bus/cpu`) resolves in the container's own /sys, and dangles on the mount.
   * Those under `cpuN/` or naming a CPU are shown only to readers of that CPU (cpu-dirs.ts).
   */
  readonly links: ReadonlyMap<string, string>;
}

/** Paths the table renders as files of their own (the CPU lists): a walk never passes them through. */
const FILE_ENTRIES: ReadonlySet<string> = new Set(SERVED_FILES.filter((entry) => entry.kind === 'file').map((entry) => entry.path));

/** A walk's files (but those with a file entry of their own), directories and symlinks, under `mountDir`. */
export function sysfsTreeOf(mountDir: string, walk: SysfsWalk, viewOf: (rel: string) => FileView): SysfsTree {
  const views: Record<string, FileView> = {};
  for (const rel of walk.files) {
    const path = `${mountDir}/${rel}`;
    if (!FILE_ENTRIES.has(path)) views[path] = viewOf(rel);
  }
  return {
    views,
    dirs: walk.dirs.map((rel) => `${mountDir}/${rel}`),
    links: new Map([...walk.links].map(([rel, target]) => [`${mountDir}/${rel}`, target])),
  };
}

/**
 * The host's CPU directory, listed once here (when the view service is built). CPU hotplug
 * after that is not seen until the server restarts: a CPU added later has no directory,
 * and the files of one removed answer EIO (SOURCE_UNREADABLE), as any vanished host file.
 */
export function createCpuTree(options: CpuTreeOptions): SysfsTree {
  const sysRoot = options.sysRoot ?? DEFAULT_SYS_ROOT;
  return sysfsTreeOf(MOUNT_DIR, walkSysfs(sysRoot, CPU_SYSFS_DIR, options.limits), (rel) => {
    const file: CpuTreeFile = { sysRoot, rel, format: cpuSetFormatOf(rel), cpuCount: options.cpuCount };
    return (context) => render(collect(context, file));
  });
}
