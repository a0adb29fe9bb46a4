// The only entry point of the domain for the fs layer and the CLI: which virtual
// files exist, and their bytes for a reader (chosen by the resolve policy from the
// reader's thread id) or for an explicit cgroup path. Built once per worker.
import { createCallerResolver, type ResolvePolicy } from '../caller/resolver.js';
import { normalizeCgroupPath } from '../cgroup/hierarchy.js';
import { describeLayout, detectLayout } from '../cgroup/layout.js';
import { uniformPaths, type CgroupPaths } from '../cgroup/membership.js';
import { createCgroupReader } from '../cgroup/reader.js';
import { CgprocfsError } from '../errors.js';
import * as meminfo from './meminfo.js';
import type { RenderOptions, ViewSources } from './sources.js';
import * as swaps from './swaps.js';

export type { ResolvePolicy };

export interface ViewOptions {
  /** '/sys/fs/cgroup' by default: a cgroup2 tree, v1 controller dirs, or hybrid (v1 plus <root>/unified). */
  cgroupRoot: string;
  /** '/proc' by default; replaces /proc for every host and per-pid read. */
  procRoot: string;
  resolve: ResolvePolicy;
  /** False = --no-swap: SwapTotal/SwapFree 0, /proc/swaps header only. */
  swap: boolean;
}

export interface ViewService {
  /** Paths inside the mount. */
  readonly files: readonly string[];
  /** The view chosen by the policy from the reader's thread id. */
  renderForReader(file: string, tid: number): Buffer;
  /** One cgroup path for every controller (`cgprocfs render --cgroup`). */
  renderForCgroup(file: string, cgroupPath: string): Buffer;
  /** For the startup log: layout kind v1|v2|hybrid, controller -> version. */
  describeLayout(): Record<string, unknown>;
}

type ViewRenderer = (sources: ViewSources, paths: CgroupPaths, options: RenderOptions) => string;

const VIEW_FILES: ReadonlyMap<string, ViewRenderer> = new Map<string, ViewRenderer>([
  ['proc/meminfo', (sources, paths, options) => meminfo.render(meminfo.collect(sources, paths, options))],
  ['proc/swaps', (sources, paths, options) => swaps.render(swaps.collect(sources, paths, options))],
]);

function rendererOf(file: string): ViewRenderer {
  const renderer = VIEW_FILES.get(file);
  if (renderer === undefined) throw new CgprocfsError('NO_SUCH_FILE', `no virtual file ${file}`);
  return renderer;
}

function explicitPaths(cgroupPath: string): CgroupPaths {
  const path = normalizeCgroupPath(cgroupPath);
  if (path === undefined) throw new CgprocfsError('USAGE', `cgroup path ${cgroupPath} leaves the hierarchy`);
  return uniformPaths(path);
}

export function createViewService(options: ViewOptions): ViewService {
  const layout = detectLayout(options.cgroupRoot);
  const sources: ViewSources = { procRoot: options.procRoot, cgroups: createCgroupReader(layout) };
  const resolver = createCallerResolver(options.procRoot, options.resolve);
  const renderOptions: RenderOptions = { swap: options.swap };
  // The file is checked before the caller is resolved: an unknown name costs no I/O.
  const renderWith = (file: string, paths: () => CgroupPaths): Buffer => {
    const renderer = rendererOf(file);
    return Buffer.from(renderer(sources, paths(), renderOptions), 'utf8');
  };
  return {
    files: [...VIEW_FILES.keys()],
    renderForReader: (file, tid) => renderWith(file, () => resolver.pathsFor(tid)),
    renderForCgroup: (file, cgroupPath) => renderWith(file, () => explicitPaths(cgroupPath)),
    describeLayout: () => describeLayout(layout),
  };
}
