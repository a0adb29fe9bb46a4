// The only entry point of the domain for the fs layer and the CLI: which virtual
// files exist, and their bytes for a reader (chosen by the resolve policy from the
// reader's thread id) or for an explicit cgroup path. Built once per worker.
import { createHash } from 'node:crypto';
import { cgroupTarget, describeDating } from '../caller/cgroup-target.js';
import { createCallerResolver, type ResolvePolicy } from '../caller/resolver.js';
import { containerKeyOf, type ViewTarget } from '../caller/target.js';
import { describeLayout, detectLayout, type CgroupLayout } from '../cgroup/layout.js';
import { CgprocfsError } from '../errors.js';
import { SERVED_FILES, type Freshness, type ServedEntry } from '../files/table.js';
import { allocateRenderingCache, cacheKey, RenderingCache, type CacheKey, type RenderingCacheMemory } from '../shared/rendering-cache.js';
import { allocateLoadavgMemory, LoadavgTable, type LoadavgMemory } from '../load/table.js';
import { isPerReader, visibilityFor } from './cpu-dirs.js';
import { createCpuDeps, type BtimePolicy, type CpuCountMode } from './cpu-files.js';
import { fileView, walkTree, type FileViewDeps } from './files.js';
import { createViewSources } from './view-sources.js';
import type { PidLevels } from './pid-level.js';
import type { FileView, RenderOptions, ViewContext } from './sources.js';

export type { ResolvePolicy };

export interface ViewOptions {
  /** '/sys/fs/cgroup' by default: a cgroup2 tree, v1 controller dirs, or hybrid (v1 plus <root>/unified). */
  cgroupRoot: string;
  /** '/proc' by default; replaces /proc for every host and per-pid read. */
  procRoot: string;
  /** '/sys' by default; the host's CPU directory is read from `<sysRoot>/devices/system/cpu`. */
  sysRoot?: string;
  resolve: ResolvePolicy;
  /** False = --no-swap: SwapTotal/SwapFree 0, /proc/swaps header only. */
  swap: boolean;
  /** `quota` (default): the cpuset cut to ceil(quota/period) CPUs; `cpuset`: quotas ignored. */
  cpuCount: CpuCountMode;
  /** /proc/stat's btime: the host's boot (default) or the container's (its init's start). */
  btime?: BtimePolicy;
  /** Where CPU counters persist (a `cpu/` subdirectory), so they never decrease across restarts. */
  stateDir: string;
  /** Told of a CPU counter record ignored as forged or garbled (issue 18); the daemon logs it. */
  onIgnoredCounterRecord?: (file: string, why: string) => void;
  /**
   * How long a rendering of a file without cumulative counters (meminfo, swaps,
   * cpuinfo, the CPU lists) may be served again to readers of the same view, and a
   * cgroup's CPU limits (cpuset, quota) reused by any view (0: never; the daemon uses
   * RENDERING_CACHE_MS).
   */
  cacheMs?: number;
  /**
   * How long a rendering with counters or momentary figures (stat, uptime, loadavg,
   * diskstats, pressure) may be served again to readers of the same view, and the
   * host's online CPUs reused by any view (0: never; the daemon uses COUNTER_CACHE_MS,
   * one clock tick).
   */
  counterCacheMs?: number;
  /**
   * Where renderings are kept: memory the serving workers share, so all of them
   * serve one reader the same, newest rendering. Absent: a private one.
   */
  renderingCache?: RenderingCacheMemory;
  /** The clock of the rendering cache and of the online CPUs' reuse, ms; CLOCK_MONOTONIC by default. */
  cacheClockMs?: () => number;
  /** Reader threads whose resolution is remembered, checked at every use (0: none). */
  callerCacheSize?: number;
  /**
   * The load averages the daemon's sampler keeps (shared memory). Without one (the
   * render command) loadavg shows the warm-start values from a census of the tasks.
   */
  loadavg?: LoadavgMemory;
}

/** The container a view belongs to, for its share of what the daemon holds. */
export interface Container {
  /** 128 bits of a SHA-256 of its cgroup membership: equal for every reader of one container. */
  readonly id: readonly [number, number, number, number];
  /** Its cgroup path, for log lines. */
  readonly name: string;
}

/** One reader's view, resolved once: whose it is, and its renderings. */
export interface ReaderView {
  readonly container: Container;
  render(file: string): Buffer;
  /** Whether this reader sees a per-reader path (CPU and node directories); its CPUs are read at the first use. */
  visible(path: string): boolean;
}

export interface ViewService {
  /** Paths inside the mount. */
  readonly files: readonly string[];
  /** Directories beyond those of `files`: the top ones and each tree's own, and the host's empty ones in the CPU and node trees. */
  readonly dirs: readonly string[];
  /** Symlinks inside the mount and their targets (the CPU and node trees', as the host has them). */
  readonly links: ReadonlyMap<string, string>;
  /** The view chosen by the policy from the reader's thread id. */
  renderForReader(file: string, tid: number): Buffer;
  /** The view chosen by the policy from the reader's thread id, resolved once for several uses. */
  readerView(tid: number): ReaderView;
  /** One cgroup path for every controller (`cgprocfs render --cgroup`), dated as cgroup-target.ts says. */
  renderForCgroup(file: string, cgroupPath: string): Buffer;
  /** Which process dates the view of a cgroup path (uptime, stat), in one line; undefined for files no age enters. */
  datingOfCgroup(file: string, cgroupPath: string): string | undefined;
  /** For the startup log: layout kind v1|v2|hybrid, controller -> version. */
  describeLayout(): Record<string, unknown>;
  /** True for paths whose presence depends on the reader (CPU directories). */
  isPerReader(path: string): boolean;
  /** Which per-reader paths the reader whose thread id is `tid` sees. */
  visibleFor(tid: number): (path: string) => boolean;
}

/** Buckets of a view service's own rendering cache (no shared one given). */
const PRIVATE_CACHE_BUCKETS = 64;

/**
 * Two readers whose renderings of `file` are always alike share a key. A container's
 * init names its pid namespace; any other reader of a file that shows pids adds the
 * level its pids are shown at.
 */
function renderingKey(file: string, entry: ServedEntry, target: ViewTarget, pidLevels: PidLevels): string {
  const key = `${file}\n${target.key}`;
  if (target.containerInit || target.pid === undefined || !entry.showsPids) return key;
  return `${key}\nlevel ${pidLevels.of(target)}`;
}

/**
 * Keys already encoded, per target and file: the caller cache hands out the same
 * target object for as long as its reader's view stays the same, so a reader's
 * repeated opens look their rendering up without building and hashing the key again.
 * Owned by one view service.
 */
type EncodedKeys = WeakMap<ViewTarget, Map<string, CacheKey>>;

function encodedRenderingKey(keys: EncodedKeys, file: string, entry: ServedEntry, target: ViewTarget, pidLevels: PidLevels): CacheKey {
  let ofTarget = keys.get(target);
  if (ofTarget === undefined) keys.set(target, (ofTarget = new Map()));
  let key = ofTarget.get(file);
  if (key === undefined) ofTarget.set(file, (key = cacheKey(renderingKey(file, entry, target, pidLevels))));
  return key;
}

/** Containers already worked out, per target (the caller cache keeps a target while its membership stays). */
type KnownContainers = WeakMap<ViewTarget, Container>;

function containerOf(containers: KnownContainers, target: ViewTarget, layout: CgroupLayout): Container {
  let container = containers.get(target);
  if (container === undefined) {
    const digest = createHash('sha256').update(containerKeyOf(target)).digest();
    const named = layout.controllers.get('memory') ?? [...layout.controllers.values()][0];
    const name = (named === undefined ? undefined : target.cgroups.memory[named.version].raw) ?? target.key.split('\n')[0] ?? '?';
    container = { id: [digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12)], name };
    containers.set(target, container);
  }
  return container;
}

/** A table this small is enough for the one cgroup a render command shows. */
const RENDER_COMMAND_LOADAVG_SLOTS = 16;

/** A served path's view and the table entry that describes it (a tree's for the files of a tree). */
interface Served {
  readonly entry: ServedEntry;
  readonly view: FileView;
}

/** Every path of the table and its view, in table order; trees walked now, with their directories and links. */
function servedFiles(options: ViewOptions, deps: FileViewDeps): { files: ReadonlyMap<string, Served>; dirs: string[]; links: Map<string, string> } {
  const files = new Map<string, Served>();
  const dirs: string[] = [];
  const links = new Map<string, string>();
  for (const entry of SERVED_FILES) {
    // A tree's directory exists even when the host's is empty, so bind-mount recipes stay
    // stable; a file's top directory comes first, so READDIR of the root lists proc, sys.
    const dir = entry.kind === 'tree' ? entry.path : entry.path.slice(0, entry.path.indexOf('/'));
    if (!dirs.includes(dir)) dirs.push(dir);
    if (entry.kind === 'file') {
      files.set(entry.path, { entry, view: fileView(entry.path, deps) });
      continue;
    }
    const tree = walkTree(entry.path, { sysRoot: options.sysRoot, cpuCount: options.cpuCount });
    for (const [path, view] of Object.entries(tree.views)) files.set(path, { entry, view });
    dirs.push(...tree.dirs);
    for (const [path, target] of tree.links) links.set(path, target);
  }
  return { files, dirs, links };
}

/** Trees whose cpuN or nodeN entries exist only for some readers. */
const READER_DIR_TREES = SERVED_FILES.filter((entry) => entry.kind === 'tree' && entry.readerDirs).map((entry) => `${entry.path}/`);

function inReaderDirsTree(path: string): boolean {
  return READER_DIR_TREES.some((prefix) => path.startsWith(prefix));
}

/** How long a rendering of this freshness may be served again (0: never). */
function reuseMsOf(freshness: Freshness, options: ViewOptions): number {
  if (freshness === 'steady') return options.cacheMs ?? 0;
  return freshness === 'counting' ? (options.counterCacheMs ?? 0) : 0;
}

export function createViewService(options: ViewOptions): ViewService {
  const layout = detectLayout(options.cgroupRoot);
  const loadavg = new LoadavgTable(options.loadavg ?? allocateLoadavgMemory(RENDER_COMMAND_LOADAVG_SLOTS));
  // Without the daemon's sampler (the render command) every task is counted.
  const sources = createViewSources({ procRoot: options.procRoot, layout, cacheMs: options.cacheMs ?? 0, counterCacheMs: options.counterCacheMs ?? 0, clockMs: options.cacheClockMs, table: options.loadavg === undefined ? undefined : loadavg });
  const resolver = createCallerResolver(options.procRoot, options.resolve, { cacheSize: options.callerCacheSize ?? 0 });
  let cache: RenderingCache | undefined;
  const keys: EncodedKeys = new WeakMap();
  const containers: KnownContainers = new WeakMap();
  const renderOptions: RenderOptions = { swap: options.swap };
  const cpu = createCpuDeps({ cpuCount: options.cpuCount, stateDir: options.stateDir, btime: options.btime ?? 'host', onIgnoredRecord: options.onIgnoredCounterRecord });
  const served = servedFiles(options, { cpu, loadavg });
  // The file is checked before the caller is resolved: an unknown name costs no I/O.
  const renderWith = (file: string, target: () => ViewTarget, readerTid?: number): Buffer => {
    const known = served.files.get(file);
    if (known === undefined) throw new CgprocfsError('NO_SUCH_FILE', `no virtual file ${file}`);
    const viewTarget = target();
    const context: ViewContext = { sources, target: viewTarget, options: renderOptions, ...(readerTid === undefined ? {} : { readerTid }) };
    const render = (): Buffer => Buffer.from(known.view(context), 'utf8');
    const maxAgeMs = reuseMsOf(known.entry.freshness, options);
    if (maxAgeMs <= 0) return render();
    cache ??= new RenderingCache(options.renderingCache ?? allocateRenderingCache(PRIVATE_CACHE_BUCKETS), options.cacheClockMs);
    return cache.through(encodedRenderingKey(keys, file, known.entry, viewTarget, sources.pidLevels), maxAgeMs, render);
  };
  return {
    files: [...served.files.keys()],
    dirs: served.dirs,
    links: served.links,
    renderForReader: (file, tid) => renderWith(file, () => resolver.targetFor(tid), tid),
    readerView(tid) {
      const target = resolver.targetFor(tid);
      return {
        container: containerOf(containers, target, layout),
        render: (file) => renderWith(file, () => target, tid),
        visible: visibilityFor(sources, target, options.cpuCount, options.sysRoot),
      };
    },
    renderForCgroup: (file, cgroupPath) => renderWith(file, () => cgroupTarget(sources.procRoot, layout, cgroupPath).target),
    datingOfCgroup(file, cgroupPath) {
      if (served.files.get(file)?.entry.dated !== true) return undefined;
      return describeDating(cgroupPath, cgroupTarget(sources.procRoot, layout, cgroupPath).dating);
    },
    describeLayout: () => describeLayout(layout),
    isPerReader: (path) => inReaderDirsTree(path) && isPerReader(path),
    visibleFor: (tid) => visibilityFor(sources, resolver.targetFor(tid), options.cpuCount, options.sysRoot),
  };
}
