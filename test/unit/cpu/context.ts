// Contexts and views for the CPU tests: fixture layouts, explicit targets, a state
// directory per test and a clock the test moves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { ViewTarget } from '../../../src/caller/target.js';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths } from '../../../src/cgroup/membership.js';
import { createViewSources } from '../../../src/render/view-sources.js';
import type { FilePath } from '../../../src/files/table.js';
import { allocateLoadavgMemory, LoadavgTable } from '../../../src/load/table.js';
import { createCpuDeps, type BtimePolicy } from '../../../src/render/cpu-files.js';
import { fileView } from '../../../src/render/files.js';
import type { CpuCountMode } from '../../../src/render/cpu-view.js';
import type { FileView, ViewContext } from '../../../src/render/sources.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, PROC_ROOT } from '../helpers/fixtures.js';

export const LAYOUTS = [['v1', CGROUP_V1], ['v2', CGROUP_V2], ['hybrid', CGROUP_HYBRID]] as const;
export const DOCKER_A = '/system.slice/docker-a1b2c3.scope';
export const NGINX_B = '/lxc.payload.b/system.slice/nginx.service';
export const NESTED = '/lxc.payload.b/nested';
/** The fixture host's uptime (test/fixtures/proc/uptime), µs. */
export const HOST_UPTIME_US = 5000_000_000;
export const SECOND_US = 1_000_000;

export function contextFor(cgroupRoot: string, target: Partial<ViewTarget> & { path?: string }, procRoot = PROC_ROOT): ViewContext {
  const layout = detectLayout(cgroupRoot);
  return {
    sources: createViewSources({ procRoot, layout }),
    target: { paths: uniformPaths(target.path ?? '/'), pid: undefined, containerInit: false, key: `test ${target.path ?? '/'}`, ...target },
    options: { swap: true },
  };
}

/** Registers cleanup; each call returns a fresh state directory. */
export function useStateDirs(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-cpu-state-'));
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
