import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallerResolver } from '../../../src/caller/resolver.js';

// These run against the real /proc: what protects the cache from pid reuse is the
// kernel's rule that a descriptor on /proc/<pid>/... fails once that task is gone.
const children: number[] = [];
afterEach(() => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function sleeper(): Promise<number> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child.pid!);
  return new Promise((resolve) => child.once('spawn', () => resolve(child.pid!)));
}

describe('the resolver\'s task cache', () => {
  it('gives the same view as an uncached resolver', async () => {
    const pid = await sleeper();
    const cached = createCallerResolver('/proc', 'caller', { cacheSize: 8 });
    const plain = createCallerResolver('/proc', 'caller');
    expect(cached.targetFor(pid).key).toBe(plain.targetFor(pid).key);
    expect(cached.targetFor(pid).key).toBe(plain.targetFor(pid).key);
  });

  it('forgets a thread the moment it exits, so a reused pid is resolved afresh', async () => {
    const pid = await sleeper();
    const cached = createCallerResolver('/proc', 'caller', { cacheSize: 8 });
    cached.targetFor(pid);
    process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(() => cached.targetFor(pid)).toThrow(expect.objectContaining({ code: 'CALLER_UNKNOWN' }));
  });

  it('keeps at most its capacity of threads', async () => {
    const pids = await Promise.all([sleeper(), sleeper(), sleeper()]);
    const cached = createCallerResolver('/proc', 'caller', { cacheSize: 2 });
    for (const pid of pids) expect(cached.targetFor(pid).pid).toBe(pid);
    expect(cached.targetFor(pids[0]!).pid).toBe(pids[0]);
  });
});
