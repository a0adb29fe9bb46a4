// Guards the slim supervisor (issue 22): the long-lived process that holds the mount loads
// only what supervising needs. Each isolate pays for the code it loads, so the CLI, yargs,
// the views and the serving stack must stay out of supervisor-entry.ts's import graph.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', '..', 'src');
/** Imports that stay after compilation: `import type` and `export type` are erased. */
const RUNTIME_IMPORT = /(?:import|export)\s(?!type\s)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module `entry` loads at run time: files under src (relative), and packages by name. */
function loadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    const name = relative(SRC, file);
    if (seen.has(name)) return;
    seen.add(name);
    for (const match of readFileSync(file, 'utf8').matchAll(RUNTIME_IMPORT)) {
      const spec = match[1] ?? match[2] ?? '';
      if (spec.startsWith('node:')) continue;
      if (!spec.startsWith('.')) {
        seen.add(`package:${spec}`);
        continue;
      }
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (existsSync(target)) visit(target);
    }
  };
  visit(join(SRC, entry));
  return seen;
}

describe('the slim supervisor', () => {
  const loaded = loadedBy('daemon/supervisor-entry.ts');

  it('loads the supervisor, the mount and the logger (the walk is not vacuous)', () => {
    expect([...loaded]).toEqual(expect.arrayContaining(['daemon/serve.ts', 'daemon/supervisor.ts', 'fuse/mount.ts', 'package:pino']));
  });

  it('loads neither the CLI, yargs, the views nor the serving stack', () => {
    const heavy = [...loaded].filter((name) => /^(cli|render|files|caller|load)\/|^package:yargs$|^daemon\/(server|worker|workers)\.ts$/.test(name));
    expect(heavy).toEqual([]);
  });

  it('the CLI reaches it only through an exec, never by importing it', () => {
    expect([...loadedBy('cli/main.ts')]).not.toContain('daemon/supervisor-entry.ts');
  });
});
