// The table of served files (src/files/table.ts, issue 20) is the one place a file is
// described: every entry has a renderer test on fixture trees (a describeServedFiles
// call naming it), and what the table decides reaches the bind lists unchanged.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_TARGETS, RUNC_TARGETS } from '../../src/files/binds.js';
import { SERVED_FILES, type ServedEntry } from '../../src/files/table.js';

const TESTS = import.meta.dirname;
const DECLARATION = /describeServedFiles\(\s*\[([^\]]*)\]/g;
/** A renderer test builds its views on fixture trees: the static captures, or contexts over them. */
const USES_FIXTURES = /from '\.\.\/helpers\/(?:fixtures|render-context|cgroup-tree)\.js'/;

/** Table path -> the test files that declare a renderer test of it. */
function declaredRendererTests(): Map<string, string[]> {
  const declared = new Map<string, string[]>();
  const files = readdirSync(TESTS, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.test.ts'));
  for (const file of files) {
    const text = readFileSync(join(TESTS, file), 'utf8');
    if (!USES_FIXTURES.test(text)) continue;
    for (const [, list] of text.matchAll(DECLARATION)) {
      for (const [, path] of list!.matchAll(/'([^']+)'/g)) declared.set(path!, [...(declared.get(path!) ?? []), file]);
    }
  }
  return declared;
}

describe('the table of served files', () => {
  const declared = declaredRendererTests();

  it.each(SERVED_FILES.map((entry) => entry.path))('has a renderer test on fixture trees for %s', (path) => {
    expect(declared.get(path) ?? [], `no test/unit file renders ${path} on fixtures in a describeServedFiles([...'${path}'...]) block`).not.toEqual([]);
  });

  it('finds the declarations it checks (the scan is not vacuous)', () => {
    expect(declared.get('proc/meminfo')?.sort()).toEqual(['render/described-container.test.ts', 'render/meminfo.test.ts']);
  });

  it('names each path once', () => {
    const paths = SERVED_FILES.map((entry) => entry.path);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('offers runc only the entries it accepts, and a runtime that mounts /proc itself every bound entry', () => {
    const bound: readonly ServedEntry[] = SERVED_FILES;
    const runtimeOf = (entry: ServedEntry) => (entry.bind === 'not-bound' ? undefined : entry.bind.runtime);
    expect([...RUNC_TARGETS].sort()).toEqual(bound.filter((entry) => runtimeOf(entry) === 'runc').map((entry) => entry.path).sort());
    expect([...ALL_TARGETS].sort()).toEqual(bound.filter((entry) => runtimeOf(entry) !== undefined).map((entry) => entry.path).sort());
  });

  it('ranks every bind differently, so the bind order is one order', () => {
    const ranks = SERVED_FILES.flatMap((entry) => (entry.bind === 'not-bound' ? [] : [entry.bind.rank]));
    expect(new Set(ranks).size).toBe(ranks.length);
  });
});
