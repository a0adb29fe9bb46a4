// The only entry point of the domain for the fs layer and the CLI: which virtual
// files exist, and their bytes for a reader (chosen by the resolve policy from the
// reader's thread id) or for an explicit cgroup path. Built once per worker.
import { createHash } from 'node:crypto';
import { cgroupTarget, describeDating } from '../caller/cgroup-target.js';
import { containerKeyOf, createCallerResolver, type ResolvePolicy, type ViewTarget } from '../caller/resolver.js';
import { describeLayout, detectLayout, type CgroupLayout } from '../cgroup/layout.js';
import { cachedCpuLimits } from '../cgroup/cpu.js';
import { createCgroupReader } from '../cgroup/reader.js';
import { CgprocfsError } from '../errors.js';
import { allocateRenderingCache, cacheKey, RenderingCache, type CacheKey, type RenderingCacheMemory } from '../shared/rendering-cache.js';
import { ContainerTasks } from '../load/container-tasks.js';
import { allocateLoadavgMemory, LoadavgTable, type LoadavgMemory } from '../load/table.js';
import { isPerReader, visibilityFor } from './cpu-dirs.js';
import { createCpuViews, type BtimePolicy, type CpuCountMode } from './cpu-files.js';
import { createCpuTree, type SysfsTree } from './cpu-tree.js';
import { createNodeTree } from './node-tree.js';
import { diskstatsView } from './diskstats.js';
import { createLoadavgView } from './loadavg.js';
import * as meminfo from './meminfo.js';
import { pidLevel } from './pid-level.js';
import { pressureViews } from './pressure.js';
import type { FileView, RenderOptions, ViewContext, ViewSources } from './sources.js';
import * as swaps from './swaps.js';
import * as vmstat from './vmstat.js';

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
   * diskstats, pressure) may be served again to readers of the same view (0: never;
   * the daemon uses COUNTER_CACHE_MS, one clock tick).
   */
  counterCacheMs?: number;
  /**
   * Where renderings are kept: memory the serving workers share, so all of them
   * serve one reader the same, newest rendering. Absent: a private one.
   */
  renderingCache?: RenderingCacheMemory;
  /** The rendering cache's clock, ms; CLOCK_MONOTONIC by default. */
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
}

export interface ViewService {
  /** Paths inside the mount. */
  readonly files: readonly string[];
  /** Directories beyond those of `files` (the host's empty ones in the CPU and node trees). */
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

/** Files without counters: a rendering serves readers of the same view for `cacheMs`. */
const STEADY = /^(proc\/(meminfo|swaps|cpuinfo)|sys\/devices\/system\/cpu\/(online|possible|present|offline))$/;
// (The node directory's files, like the CPU tree's, are read from the host at every open.)
/**
 * Files with counters or momentary figures: a rendering serves for `counterCacheMs`.
 * The shared cache makes one view's renderings one after another, so a counter a
 * reader saw never goes back. (The CPU tree's files are read from the host at every open.)
 */
const COUNTING = /^proc\/(stat|uptime|loadavg|diskstats|vmstat|pressure\/[a-z]+)$/;
/** Files whose figures count from the view's boot: its container init's start, or an explicit cgroup's dating. */
const DATED = /^proc\/(stat|uptime)$/;
/** Files that show pids at the reader's pid namespace level, which a non-init target's key does not hold. */
const SHOWS_PIDS = /^proc\/(stat|loadavg)$/;

/** Buckets of a view service's own rendering cache (no shared one given). */
const PRIVATE_CACHE_BUCKETS = 64;

/**
 * Two readers whose renderings of `file` are always alike share a key. A container's
 * init names its pid namespace; any other reader of a file that shows pids adds the
 * level its pids are shown at.
 */
function renderingKey(file: string, target: ViewTarget, procRoot: string): string {
  const key = `${file}\n${target.key}`;
  if (target.containerInit || target.pid === undefined || !SHOWS_PIDS.test(file)) return key;
  return `${key}\nlevel ${pidLevel(procRoot, target)}`;
}

/**
 * Keys already encoded, per target and file: the caller cache hands out the same
 * target object for as long as its reader's view stays the same, so a reader's
 * repeated opens look their rendering up without building and hashing the key again.
 */
const encodedKeys = new WeakMap<ViewTarget, Map<string, CacheKey>>();

function encodedRenderingKey(file: string, target: ViewTarget, procRoot: string): CacheKey {
  let keys = encodedKeys.get(target);
  if (keys === undefined) encodedKeys.set(target, (keys = new Map()));
  let key = keys.get(file);
  if (key === undefined) keys.set(file, (key = cacheKey(renderingKey(file, target, procRoot))));
  return key;
}

/** Containers already worked out, per target (the caller cache keeps a target while its membership stays). */
const containers = new WeakMap<ViewTarget, Container>();

function containerOf(target: ViewTarget, layout: CgroupLayout): Container {
  let container = containers.get(target);
  if (container === undefined) {
    const digest = createHash('sha256').update(containerKeyOf(target)).digest();
    const named = layout.controllers.get('memory') ?? [...layout.controllers.values()][0];
    const name = (named === undefined ? undefined : target.paths('memory', named.version)) ?? target.key.split('\n')[0] ?? '?';
    container = { id: [digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12)], name };
    containers.set(target, container);
  }
  return container;
}

/** A table this small is enough for the one cgroup a render command shows. */
const RENDER_COMMAND_LOADAVG_SLOTS = 16;

/** Every virtual file and its view, in tree order. */
function viewFiles(options: ViewOptions, loadavg: LoadavgTable, cpuTree: SysfsTree, nodeTree: SysfsTree): ReadonlyMap<string, FileView> {
  return new Map<string, FileView>([
    ['proc/meminfo', meminfo.view],
    ['proc/swaps', swaps.view],
    ...Object.entries(createCpuViews({ cpuCount: options.cpuCount, stateDir: options.stateDir, btime: options.btime ?? 'host', onIgnoredRecord: options.onIgnoredCounterRecord })),
    ...Object.entries(cpuTree.views),
    ...Object.entries(nodeTree.views),
    ['proc/loadavg', createLoadavgView(loadavg)],
    ['proc/diskstats', diskstatsView],
    ['proc/vmstat', vmstat.view],
    ...Object.entries(pressureViews),
  ]);
}

export function createViewService(options: ViewOptions): ViewService {
  const layout = detectLayout(options.cgroupRoot);
  const loadavg = new LoadavgTable(options.loadavg ?? allocateLoadavgMemory(RENDER_COMMAND_LOADAVG_SLOTS));
  const sources: ViewSources = {
    procRoot: options.procRoot,
    layout,
    cgroups: createCgroupReader(layout),
    cpuLimits: cachedCpuLimits(options.cacheMs ?? 0),
    // Without the daemon's sampler (the render command) every task is counted.
    tasks: new ContainerTasks(layout, options.procRoot, { table: options.loadavg === undefined ? undefined : loadavg }),
  };
  const resolver = createCallerResolver(options.procRoot, options.resolve, { cacheSize: options.callerCacheSize ?? 0 });
  const reuseFor = (file: string): number => {
    if (STEADY.test(file)) return options.cacheMs ?? 0;
    return COUNTING.test(file) ? (options.counterCacheMs ?? 0) : 0;
  };
  let cache: RenderingCache | undefined;
  const renderOptions: RenderOptions = { swap: options.swap };
  const cpuTree = createCpuTree({ sysRoot: options.sysRoot, cpuCount: options.cpuCount });
  const nodeTree = createNodeTree({ sysRoot: options.sysRoot, cpuCount: options.cpuCount });
  const views = viewFiles(options, loadavg, cpuTree, nodeTree);
  const reuseMs = new Map([...views.keys()].map((file) => [file, reuseFor(file)]));
  // The file is checked before the caller is resolved: an unknown name costs no I/O.
  const renderWith = (file: string, target: () => ViewTarget, readerTid?: number): Buffer => {
    const view = views.get(file);
    if (view === undefined) throw new CgprocfsError('NO_SUCH_FILE', `no virtual file ${file}`);
    const viewTarget = target();
    const context: ViewContext = { sources, target: viewTarget, options: renderOptions, ...(readerTid === undefined ? {} : { readerTid }) };
    const render = (): Buffer => Buffer.from(view(context), 'utf8');
    const maxAgeMs = reuseMs.get(file) ?? 0;
    if (maxAgeMs <= 0) return render();
    cache ??= new RenderingCache(options.renderingCache ?? allocateRenderingCache(PRIVATE_CACHE_BUCKETS), options.cacheClockMs);
    return cache.through(encodedRenderingKey(file, viewTarget, sources.procRoot), maxAgeMs, render);
  };
  return {
    files: [...views.keys()],
    dirs: [...cpuTree.dirs, ...nodeTree.dirs],
    links: new Map([...cpuTree.links, ...nodeTree.links]),
    renderForReader: (file, tid) => renderWith(file, () => resolver.targetFor(tid), tid),
    readerView(tid) {
      const target = resolver.targetFor(tid);
      return { container: containerOf(target, layout), render: (file) => renderWith(file, () => target, tid) };
    },
    renderForCgroup: (file, cgroupPath) => renderWith(file, () => cgroupTarget(sources.procRoot, layout, cgroupPath).target),
    datingOfCgroup(file, cgroupPath) {
      if (!DATED.test(file)) return undefined;
      return describeDating(cgroupPath, cgroupTarget(sources.procRoot, layout, cgroupPath).dating);
    },
    describeLayout: () => describeLayout(layout),
    isPerReader,
    visibleFor: (tid) => visibilityFor(sources, resolver.targetFor(tid), options.cpuCount, options.sysRoot),
  };
}
