// cgprocfs-runc's create path starts Node for every container an engine creates: the
// modules it loads stay few, and never the CLI's (yargs) or the daemon's (pino, koffi at
// load time: libc.ts is imported only when runc is exec'd).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', '..', 'src');
const STATIC_IMPORT = /^import\s(?!type\s)[^'"]*?from\s*['"]([^'"]+)['"]/gm;

/** Every module `entry` loads statically, by repository path or package name. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (spec!.startsWith('.')) visit(resolve(dirname(file), spec!.replace(/\.js$/, '.ts')));
      else seen.add(spec!);
    }
  };
  visit(join(SRC, entry));
  return seen;
}

describe('what cgprocfs-runc loads', () => {
  const graph = [...staticGraph('bin/cgprocfs-runc.ts')];

  it('loads no package at start: no yargs, no pino, no koffi', () => {
    expect(graph.filter((spec) => !spec.startsWith('/') && !spec.startsWith('node:'))).toEqual([]);
  });

  it('loads none of the CLI or the daemon but its default mountpoint', () => {
    const ours = graph.filter((spec) => spec.startsWith('/')).map((file) => file.slice(SRC.length + 1)).sort();
    expect(ours).toEqual([
      'bin/cgprocfs-runc.ts', 'daemon/config.ts', 'errors.ts', 'files/binds.ts', 'files/table.ts', 'fuse/mount.ts',
      'oci/args.ts', 'oci/runc-path.ts', 'oci/spec.ts', 'oci/wrapper.ts', 'shared/fnv.ts', 'shared/lossless-json.ts',
    ]);
  });
});
