// Counter records are checked before they are trusted (issue 18): a record whose
// figures the kernel could not have given (a forged one doubled a container's idle) is
// ignored and logged once, and nothing planted at a record's name is followed.
import { readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordImplausibility, shownPlausible, successionImplausibility } from '../../../src/render/cpu-counters.js';
import { allocateLoadavgMemory, LoadavgTable } from '../../../src/load/table.js';
import { createCpuDeps } from '../../../src/render/cpu-files.js';
import type { CounterBaseline } from '../../../src/render/cpu-counter-rule.js';
import { fileView } from '../../../src/render/files.js';
import { CGROUP_V2, DOCKER_A, HOST_UPTIME_US } from '../helpers/fixtures.js';
import { contextFor, cpuLines, SECOND_US, TestClock, useStateDirs } from '../helpers/render-context.js';

const HOUR_US = 3600 * SECOND_US;

function baseline(at: number, idle: number, user = 0, system = 0, cpus = 2): CounterBaseline {
  return {
    cpus: Array.from({ length: cpus }, (_, i) => i),
    at,
    usageUser: user,
    usageSystem: system,
    perCpu: Array.from({ length: cpus }, () => ({ user: user / cpus, system: system / cpus, idle })),
    aggregate: { user, system, idle: idle * cpus },
  };
}

describe('the checks of a counter record', () => {
  it.each([
    ['a record of one hour after boot, idle half of it', baseline(HOUR_US, HOUR_US / 2), undefined],
    ['a record written after now', baseline(3 * HOUR_US, 0), 'it was written after now'],
    ['a CPU idle longer than the time since boot', baseline(HOUR_US, 2 * HOUR_US), 'a CPU idles longer than the time since boot'],
    ['more CPU time than every host CPU has had', baseline(HOUR_US, 0, 9 * HOUR_US, 0), 'its counters exceed the time since boot on every CPU of the host'],
  ])('%s', (_, record, why) => {
    expect(recordImplausibility(record, 2 * HOUR_US, 4)).toBe(why);
  });

  it.each([
    ['a later record with grown counters', baseline(2 * HOUR_US, HOUR_US, 10, 10), undefined],
    ['a record of an earlier time', baseline(HOUR_US / 2, HOUR_US / 4), 'its counters went back'],
    ['idle that went back', baseline(2 * HOUR_US, HOUR_US / 4), 'its counters went back'],
    ['a CPU idle for longer than the time between the records', baseline(HOUR_US + SECOND_US, HOUR_US / 2 + 5 * SECOND_US), 'a CPU idled longer than the time between two records'],
  ])('after a record of one hour, half idle: %s', (_, next, why) => {
    expect(successionImplausibility(baseline(HOUR_US, HOUR_US / 2), next)).toBe(why);
  });

  it('trusts shown growth that time allows, never more idle than the time since the baseline', () => {
    const shown = { user: 0, system: 0, idle: 10 * SECOND_US, ctxt: 0, intr: 0 };
    expect(shownPlausible(shown, HOUR_US, HOUR_US + 10 * SECOND_US, 2)).toBe(true);
    expect(shownPlausible({ ...shown, idle: HOUR_US }, HOUR_US, HOUR_US + 10 * SECOND_US, 2)).toBe(false);
    expect(shownPlausible({ ...shown, user: 100 * SECOND_US }, HOUR_US, HOUR_US + 10 * SECOND_US, 2)).toBe(false);
  });
});

describe('a counter store given a forged or planted record', () => {
  const stateDir = useStateDirs();

  function views(dir: string, ignored: string[] = []) {
    const clock = new TestClock(HOST_UPTIME_US);
    const cpu = createCpuDeps({ cpuCount: 'quota', stateDir: dir, now: clock.now, onIgnoredRecord: (_, why) => ignored.push(why) });
    const stat = fileView('proc/stat', { cpu, loadavg: new LoadavgTable(allocateLoadavgMemory(16)) });
    const context = contextFor(CGROUP_V2, { path: DOCKER_A });
    return { clock, stat: () => stat(context) };
  }

  const recordOf = (dir: string): string => join(dir, 'cpu', readdirSync(join(dir, 'cpu')).find((name) => name.endsWith('.json'))!);

  it('ignores a record whose idle exceeds the time since boot, logs it once, and counts as a new daemon would', () => {
    const dir = stateDir();
    const honest = views(dir).stat();
    const path = recordOf(dir);
    const record = JSON.parse(readFileSync(path, 'utf8')) as CounterBaseline;
    const forged = { ...record, perCpu: record.perCpu.map((times) => ({ ...times, idle: times.idle + HOST_UPTIME_US })), aggregate: { ...record.aggregate, idle: record.aggregate.idle * 2 } };
    writeFileSync(path, JSON.stringify(forged));
    const ignored: string[] = [];
    const reader = views(dir, ignored);
    expect(reader.stat()).toBe(honest);
    writeFileSync(path, JSON.stringify(forged));
    reader.stat();
    expect(ignored).toEqual(['a CPU idles longer than the time since boot']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ perCpu: record.perCpu });
  });

  it('ignores a record whose idle jumped ahead of what the last one allows (regression: a forged record doubled idle)', () => {
    const dir = stateDir();
    const ignored: string[] = [];
    const reader = views(dir, ignored);
    const before = cpuLines(reader.stat()).get('cpu')!;
    const path = recordOf(dir);
    const record = JSON.parse(readFileSync(path, 'utf8')) as CounterBaseline;
    // Within the time since boot (the container is about as old), not within the time since the last record.
    const extra = 5 * SECOND_US;
    writeFileSync(path, JSON.stringify({ ...record, perCpu: record.perCpu.map((times) => ({ ...times, idle: times.idle + extra })), aggregate: { ...record.aggregate, idle: record.aggregate.idle + extra * record.cpus.length } }));
    reader.clock.advance(SECOND_US);
    const after = cpuLines(reader.stat()).get('cpu')!;
    expect(ignored).toEqual(['a CPU idled longer than the time between two records']);
    // Idle grew by the second that passed on each CPU, not by the forged 5 s.
    expect(after[3]! - before[3]!).toBeLessThanOrEqual(record.cpus.length * 100);
  });

  it('never follows a symlink planted at a record\'s name: the file it names stays as it was', () => {
    const dir = stateDir();
    views(dir).stat();
    const path = recordOf(dir);
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'root only\n', { mode: 0o600 });
    rmSync(path);
    symlinkSync(secret, path);
    for (const name of readdirSync(join(dir, 'cpu')).filter((n) => n.endsWith('.shown'))) {
      rmSync(join(dir, 'cpu', name));
      symlinkSync(secret, join(dir, 'cpu', name));
    }
    const reader = views(dir);
    reader.clock.advance(SECOND_US);
    expect(reader.stat()).toMatch(/^cpu {2}\d+/);
    expect(readFileSync(secret, 'utf8')).toBe('root only\n');
  });
});
