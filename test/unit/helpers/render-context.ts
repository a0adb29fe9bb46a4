// The one way a renderer test builds what a view reads: a context for an explicit target on
// a cgroup tree (fixture or built), the CPU views with a state directory per test and a
// clock the test moves. Targets are made in testTarget() only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import type { ViewTarget } from '../../../src/caller/target.js';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths, type CgroupPaths } from '../../../src/cgroup/membership.js';
import { cgroupViewOf } from '../../../src/cgroup/view.js';
import { createViewSources } from '../../../src/render/view-sources.js';
import type { FilePath } from '../../../src/files/table.js';
import { allocateLoadavgMemory, LoadavgTable } from '../../../src/load/table.js';
import { createCpuDeps, type BtimePolicy } from '../../../src/render/cpu-files.js';
import { fileView } from '../../../src/render/files.js';
import type { CpuCountMode } from '../../../src/render/cpu-view.js';
import type { FileView, ViewContext } from '../../../src/render/sources.js';
import { createViewService, type ViewOptions, type ViewService } from '../../../src/render/views.js';
import { HOST_UPTIME_US, PROC_ROOT, SYS_ROOT } from './fixtures.js';

export const SECOND_US = 1_000_000;

/**
 * A state directory for the CPU counters of views under test: one per test file
 * (vitest evaluates this module once per file), removed after the file's tests.
 */
export const STATE_DIR = mkdtempSync(join(tmpdir(), 'cgprocfs-unit-state-'));
afterAll(() => rmSync(STATE_DIR, { recursive: true, force: true }));

/** View options that differ only where a test says so. */
export const VIEW_DEFAULTS = { resolve: 'init', swap: true, cpuCount: 'quota', stateDir: STATE_DIR, sysRoot: SYS_ROOT } as const;

/** The view service (`cgprocfs render`) over a cgroup tree and the fixture proc root. */
export function viewService(cgroupRoot: string, options: Partial<ViewOptions> = {}): ViewService {
  return createViewService({ ...VIEW_DEFAULTS, cgroupRoot, procRoot: PROC_ROOT, ...options });
}

/**
 * Whom a test renders for: a cgroup path (the same on every hierarchy, like `cgprocfs
 * render --cgroup PATH`), or the parts of a target that differ from an explicit cgroup's.
 */
export type TargetSpec = string | (Partial<ViewTarget> & { readonly path?: string });

/** The target of a spec: the one place a test builds a ViewTarget. */
export function testTarget(spec: TargetSpec): ViewTarget {
  const { path = '/', ...given } = typeof spec === 'string' ? { path: spec } : spec;
  return { cgroups: cgroupViewOf(uniformPaths(path)), pid: undefined, containerInit: false, key: `test ${path}`, ...given };
}

/** A target whose controllers sit at different paths (a hybrid reader's own membership). */
export const targetOn = (paths: CgroupPaths): ViewTarget => testTarget({ cgroups: cgroupViewOf(paths), key: 'test paths' });

export function contextFor(cgroupRoot: string, target: TargetSpec, procRoot = PROC_ROOT): ViewContext {
  const layout = detectLayout(cgroupRoot);
  return { sources: createViewSources({ procRoot, layout }), target: testTarget(target), options: { swap: true } };
}

/** Registers cleanup; each call returns a fresh state directory. */
export function useStateDirs(): () => string {
  return useTempDirs('cgprocfs-cpu-state-');
}

/** Registers cleanup; each call returns a fresh directory named after `prefix`, removed after the test. */
export function useTempDirs(prefix: string): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

/** A monotonic clock in µs the test sets. */
export class TestClock {
  constructor(public us: number) {}
  readonly now = (): bigint => BigInt(this.us);
  advance(us: number): void {
    this.us += us;
  }
}

/** The files that share the CPU views' counter store and clock. */
const CPU_FILES: readonly FilePath[] = [
  'proc/cpuinfo', 'proc/stat', 'proc/uptime',
  'sys/devices/system/cpu/online', 'sys/devices/system/cpu/possible', 'sys/devices/system/cpu/present', 'sys/devices/system/cpu/offline',
];

export interface TestViews {
  views: Record<string, FileView>;
  clock: TestClock;
  stateDir: string;
  render(file: string, context: ViewContext): string;
}

export function cpuViews(
  stateDir: string,
  cpuCount: CpuCountMode = 'quota',
  clock = new TestClock(HOST_UPTIME_US),
  btime: BtimePolicy = 'host',
): TestViews {
  const deps = { cpu: createCpuDeps({ cpuCount, stateDir, now: clock.now, btime }), loadavg: new LoadavgTable(allocateLoadavgMemory(16)) };
  const views: Record<string, FileView> = Object.fromEntries(CPU_FILES.map((file) => [file, fileView(file, deps)]));
  return {
    views,
    clock,
    stateDir,
    render(file, context) {
      const view = views[file];
      if (view === undefined) throw new Error(`no view ${file}`);
      return view(context);
    },
  };
}

/** The cpu lines of a /proc/stat text: label -> its ten counters. */
export function cpuLines(text: string): Map<string, number[]> {
  return new Map(
    text.split('\n').filter((line) => line.startsWith('cpu')).map((line) => {
      const [label = '', ...fields] = line.split(/\s+/);
      return [label, fields.map(Number)];
    }),
  );
}
