import { describe, expect, it } from 'vitest';
import {
  allocateLoadavgMemory, LOADAVG_PATH_BYTES, LOADAVG_TABLE_CAPACITY, LoadavgTable, type TaskListKey,
} from '../../../src/load/table.js';
import { FIXED_1, seededAverages } from '../../../src/load/fixed-point.js';

const T0 = 1_700_000_000_000;
const key = (name: string, file: TaskListKey['file'] = 'cgroup.threads'): TaskListKey => ({ dir: `/sys/fs/cgroup/${name}`, file });
const count = (active: number, total = active) => ({ active, total });
const table = (capacity?: number) => new LoadavgTable(allocateLoadavgMemory(capacity));

describe('the loadavg table', () => {
  it('has 4096 slots by default and survives structured cloning (workers share it)', () => {
    const memory = allocateLoadavgMemory();
    expect(new LoadavgTable(memory).capacity).toBe(LOADAVG_TABLE_CAPACITY);
    const clone = structuredClone(memory);
    new LoadavgTable(clone).read(key('a'), T0, count(2));
    expect(new LoadavgTable(memory).used()).toBe(1);
  });

  it('registers a cgroup at its first read, seeded from the census, and finds it again', () => {
    const t = table();
    expect(t.read(key('a'), T0, count(2, 9))).toEqual(seededAverages(2));
    expect(t.read(key('a'), T0 + 1, count(7))).toEqual(seededAverages(2));
    expect(t.used()).toBe(1);
  });

  it('keeps cgroups apart by directory and by list file', () => {
    const t = table();
    t.read(key('a'), T0, count(1));
    t.read(key('b'), T0, count(2));
    t.read(key('a', 'tasks'), T0, count(3));
    expect([t.read(key('a'), T0, count(0)), t.read(key('b'), T0, count(0)), t.read(key('a', 'tasks'), T0, count(0))]).toEqual(
      [1, 2, 3].map(seededAverages),
    );
  });

  it('records every read, for expiry', () => {
    const t = table();
    const slot = t.register(key('a'), T0)!;
    t.read(key('a'), T0 + 5000, count(0));
    expect(t.entry(slot)).toMatchObject({ readAt: T0 + 5000, sampledAt: T0, dir: '/sys/fs/cgroup/a', file: 'cgroup.threads' });
  });

  it('returns no averages for a slot the sampler has not seeded, then the published ones', () => {
    const t = table();
    const slot = t.register(key('a'), T0)!;
    expect(t.entry(slot)?.seeded).toBe(false);
    expect(t.read(key('a'), T0, count(5))).toBeUndefined();
    t.publish(slot, [100, 200, 300], { running: 1, blocked: 2, total: 4, newestTid: 77, switches: 9 }, T0 + 5004);
    expect(t.read(key('a'), T0, count(5))).toEqual([100, 200, 300]);
    expect(t.entry(slot)).toMatchObject({ seeded: true, tasks: 4, sampledAt: T0 + 5004 });
  });

  it('registers a cgroup for the sampler at its first sampled read, then shows what the sampler published', () => {
    const t = table();
    expect(t.taskCount(key('a'))).toBeUndefined();
    expect(t.sampled(key('a'), T0)).toEqual({ averages: [0, 0, 0], tasks: { running: 0, blocked: 0, total: 0, newestTid: 0, switches: 0 }, sampled: false });
    const slot = t.register(key('a'), T0)!;
    t.publish(slot, [100, 200, 300], { running: 5, blocked: 1, total: 20_000, newestTid: 4242, switches: 123_456_789_012 }, T0 + 5004);
    expect(t.sampled(key('a'), T0 + 6000)).toEqual({ averages: [100, 200, 300], tasks: { running: 5, blocked: 1, total: 20_000, newestTid: 4242, switches: 123_456_789_012 }, sampled: true });
    expect(t.taskCount(key('a'))).toBe(20_000);
    expect(t.entry(slot)?.readAt).toBe(T0 + 6000);
  });

  it('answers undefined when full, without disturbing the cgroups it holds', () => {
    const t = table(2);
    t.read(key('a'), T0, count(1));
    t.read(key('b'), T0, count(2));
    expect(t.read(key('c'), T0, count(3))).toBeUndefined();
    expect(t.read(key('a'), T0, count(0))).toEqual(seededAverages(1));
    expect(t.read(key('b'), T0, count(0))).toEqual(seededAverages(2));
  });

  it('answers undefined for a directory longer than a slot holds', () => {
    expect(table().read({ dir: `/${'x'.repeat(LOADAVG_PATH_BYTES)}`, file: 'tasks' }, T0, count(1))).toBeUndefined();
  });

  it('keeps probe chains intact when a slot in the middle is freed, and reuses it', () => {
    const t = table(4);
    const names = ['a', 'b', 'c', 'd'];
    const slots = names.map((name, i) => t.register(key(name), T0, count(i))!);
    t.free([slots[1]!]);
    expect(t.used()).toBe(3);
    for (const i of [0, 2, 3]) expect(t.read(key(names[i]!), T0, count(9))).toEqual(seededAverages(i));
    expect(t.read(key('e'), T0, count(5))).toEqual(seededAverages(5));
    expect(t.read(key('f'), T0, count(6))).toBeUndefined();
  });

  it('frees every slot, after which the whole capacity is usable again', () => {
    const t = table(8);
    const slots = Array.from({ length: 8 }, (_, i) => t.register(key(`c${i}`), T0, count(i))!);
    t.free(slots);
    expect(t.used()).toBe(0);
    const again = Array.from({ length: 8 }, (_, i) => t.read(key(`d${i}`), T0, count(i)));
    expect(again).toEqual(Array.from({ length: 8 }, (_, i) => seededAverages(i)));
  });

  it('stores averages as the kernel\'s fixed point', () => {
    const t = table();
    const slot = t.register(key('a'), T0)!;
    t.publish(slot, [3 * FIXED_1, 2 * FIXED_1, FIXED_1], { running: 3, blocked: 0, total: 3, newestTid: 0, switches: 0 }, T0);
    expect(t.entry(slot)?.averages).toEqual([6144, 4096, 2048]);
  });
});
