import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requesterClasses } from '../../../src/caller/requester-class.js';
import { NS, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';

const inode = (link: string) => Number(/\[(\d+)\]/.exec(link)![1]) | 0;

describe('the class a requester takes turns in', () => {
  const copy = useFixtureCopies();

  it('is its pid namespace: every process of a container is one class', () => {
    const classOf = requesterClasses(PROC_ROOT);
    expect([2100, 2101, 2150].map(classOf)).toEqual([inode(NS.dockerA), inode(NS.dockerA), inode(NS.dockerA)]);
    expect(classOf(3150)).toBe(inode(NS.lxcB));
    expect(classOf(1200)).toBe(inode(NS.host));
  });

  it('is 0 for no thread (the kernel\'s own requests) and for a thread that is gone', () => {
    const classOf = requesterClasses(PROC_ROOT);
    expect(classOf(0)).toBe(0);
    expect(classOf(99999)).toBe(0);
  });

  it('is remembered for a while, then looked up again (a thread id reused in another namespace)', () => {
    const procRoot = copy(PROC_ROOT);
    const clock = { now: 0 };
    const classOf = requesterClasses(procRoot, () => clock.now);
    expect(classOf(2150)).toBe(inode(NS.dockerA));
    const link = join(procRoot, '2150', 'ns', 'pid');
    rmSync(link);
    symlinkSync(NS.lxcB, link);
    expect(classOf(2150)).toBe(inode(NS.dockerA));
    clock.now += 20_000;
    expect(classOf(2150)).toBe(inode(NS.lxcB));
  });
});
