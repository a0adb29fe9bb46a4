// /proc/cpuinfo for one view: the host's block of each visible CPU, its `processor`
// id kept, with the fields that count CPUs (`siblings`: visible CPUs in the package,
// `cpu cores`: distinct cores among them) recounted. Host-wide views get the host file.
import {
  cpuinfoField, cpuinfoKey, formatCpuinfo, parseCpuinfo, readHostCpuinfo, withCpuinfoValue, type CpuinfoBlock,
} from '../host/cpuinfo.js';
import type { CpuViewDeps } from './cpu-times.js';
import { cpuViewOf } from './cpu-view.js';
import type { ViewContext } from './sources.js';

export interface CpuinfoSnapshot {
  readonly host: string;
  /** Undefined for a host-wide view: the host's own file is the view. */
  readonly cpus: readonly number[] | undefined;
}

export function collect(context: ViewContext, deps: CpuViewDeps): CpuinfoSnapshot {
  const view = cpuViewOf(context.sources, context.target.cgroups, deps.cpuCount);
  return { host: readHostCpuinfo(context.sources.procRoot), cpus: view.hostWide ? undefined : view.cpus };
}

/** The fields that count CPUs, per package (`physical id`), over the blocks shown. */
function packageCounts(blocks: readonly CpuinfoBlock[]): Map<string, Record<string, number>> {
  const cores = new Map<string, Set<string | undefined>>();
  const siblings = new Map<string, number>();
  for (const block of blocks) {
    const pkg = cpuinfoField(block, 'physical id');
    if (block.processor === undefined || pkg === undefined) continue;
    siblings.set(pkg, (siblings.get(pkg) ?? 0) + 1);
    cores.set(pkg, (cores.get(pkg) ?? new Set()).add(cpuinfoField(block, 'core id')));
  }
  return new Map([...siblings].map(([pkg, count]) => [pkg, { siblings: count, 'cpu cores': cores.get(pkg)?.size ?? 0 }]));
}

/** `siblings` and `cpu cores` of each block, counted over the blocks shown. */
function recount(blocks: readonly CpuinfoBlock[]): CpuinfoBlock[] {
  const counts = packageCounts(blocks);
  return blocks.map((block) => {
    const pkg = block.processor === undefined ? undefined : counts.get(cpuinfoField(block, 'physical id') ?? '');
    if (pkg === undefined) return block;
    const lines = block.lines.map((line) => {
      const count = pkg[cpuinfoKey(line)];
      return count === undefined ? line : withCpuinfoValue(line, count);
    });
    return { ...block, lines };
  });
}

export function render(snapshot: CpuinfoSnapshot): string {
  if (snapshot.cpus === undefined) return snapshot.host;
  const visible = new Set(snapshot.cpus);
  const shown = (block: CpuinfoBlock): boolean => block.processor === undefined || visible.has(block.processor);
  return formatCpuinfo(recount(parseCpuinfo(snapshot.host).filter(shown)));
}
