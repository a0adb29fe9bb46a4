// The only entry point of the domain for the fs layer and the CLI: which virtual
// files exist, and their bytes for a reader (chosen by the resolve policy from the
// reader's thread id) or for an explicit cgroup path. Built once per worker.
import { createCallerResolver, type ResolvePolicy, type ViewTarget } from '../caller/resolver.js';
import { normalizeCgroupPath } from '../cgroup/hierarchy.js';
import { describeLayout, detectLayout } from '../cgroup/layout.js';
import { uniformPaths } from '../cgroup/membership.js';
import { createCgroupReader } from '../cgroup/reader.js';
import { CgprocfsError } from '../errors.js';
import { diskstatsView } from './diskstats.js';
import * as meminfo from './meminfo.js';
import { pressureViews } from './pressure.js';
import type { FileView, RenderOptions, ViewSources } from './sources.js';
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

/** Every virtual file and its view, in tree order. */
const VIEW_FILES: ReadonlyMap<string, FileView> = new Map<string, FileView>([
  ['proc/meminfo', meminfo.view],
  ['proc/swaps', swaps.view],
  ['proc/diskstats', diskstatsView],
  ...Object.entries(pressureViews),
]);

function viewOf(file: string): FileView {
  const view = VIEW_FILES.get(file);
  if (view === undefined) throw new CgprocfsError('NO_SUCH_FILE', `no virtual file ${file}`);
  return view;
}

function explicitTarget(cgroupPath: string): ViewTarget {
  const path = normalizeCgroupPath(cgroupPath);
  if (path === undefined) throw new CgprocfsError('USAGE', `cgroup path ${cgroupPath} leaves the hierarchy`);
  return { paths: uniformPaths(path), pid: undefined, containerInit: false };
}

export function createViewService(options: ViewOptions): ViewService {
  const layout = detectLayout(options.cgroupRoot);
  const sources: ViewSources = { procRoot: options.procRoot, layout, cgroups: createCgroupReader(layout) };
  const resolver = createCallerResolver(options.procRoot, options.resolve);
  const renderOptions: RenderOptions = { swap: options.swap };
  // The file is checked before the caller is resolved: an unknown name costs no I/O.
  const renderWith = (file: string, target: () => ViewTarget): Buffer => {
    const view = viewOf(file);
    return Buffer.from(view({ sources, target: target(), options: renderOptions }), 'utf8');
  };
  return {
    files: [...VIEW_FILES.keys()],
    renderForReader: (file, tid) => renderWith(file, () => resolver.targetFor(tid)),
    renderForCgroup: (file, cgroupPath) => renderWith(file, () => explicitTarget(cgroupPath)),
    describeLayout: () => describeLayout(layout),
  };
}
