// The usual e2e fixture: one daemon and one test cgroup tree per file, torn down in afterAll even after failures.
import { afterAll, beforeAll } from 'vitest';
import { TestCgroups } from './cgroups.js';
import { Daemon, type DaemonOptions } from './daemon.js';
import { describeRun } from './exec.js';

export interface Fixture {
  readonly daemon: Daemon;
  readonly cgroups: TestCgroups;
  /** Reads a file as a process in cgroup `rel` (host pid namespace); throws with output on failure. */
  readIn(rel: string, path: string): Promise<string>;
}

export function useFixture(opts: DaemonOptions = {}): Fixture {
  let daemon: Daemon | undefined;
  let cgroups: TestCgroups | undefined;
  beforeAll(async () => {
    cgroups = await TestCgroups.create();
    daemon = await Daemon.start(opts);
  });
  // The daemon goes first: killing it aborts the connection, which frees readers stuck on it.
  afterAll(() => teardown(() => daemon?.destroy(), () => cgroups?.cleanup()));
  const fixture: Fixture = {
    get daemon() {
      if (!daemon) throw new Error('the daemon did not start (see beforeAll)');
      return daemon;
    },
    get cgroups() {
      if (!cgroups) throw new Error('the test cgroups were not created (see beforeAll)');
      return cgroups;
    },
    async readIn(rel, path) {
      const r = await fixture.cgroups.run(rel, 'cat', [path], { timeoutMs: 15_000 });
      if (r.code !== 0) throw new Error(describeRun(['cat', path, `(in ${rel})`], r));
      return r.stdout;
    },
  };
  return fixture;
}

/** Runs every cleanup step in order, then reports all failures at once. */
export async function teardown(...steps: Array<() => Promise<unknown> | undefined>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'e2e teardown failed');
}
