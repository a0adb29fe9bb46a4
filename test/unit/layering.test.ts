// Guards the one-way layers (docs: architecture.md "Layers"): the domain, and the table of
// files a container binds (files/), know nothing about FUSE or the virtual tree, so they
// run against fixture trees.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');
const DOMAIN = ['cgroup', 'host', 'caller', 'render', 'load', 'files'];
const FORBIDDEN = ['fuse', 'fs', 'daemon', 'cli'];
/** Imports that load a module when this one loads (`import type` is erased). */
const VALUE_IMPORT = /(?:import|export)\s(?!type\s)[^'"]*?from\s*['"]([^'"]+)['"]/g;
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function isForbidden(spec: string): boolean {
  return FORBIDDEN.some((name) => new RegExp(`(^|/)\\.\\./${name}(/|$)`).test(spec));
}

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((match) => match[1] ?? match[2] ?? '');
}

describe('layering', () => {
  it.each(DOMAIN)('src/%s imports nothing from fuse, fs, daemon or cli', (layer) => {
    const offending = sources(join(SRC, layer)).flatMap((file) =>
      importsOf(file)
        .filter(isForbidden)
        .map((spec) => `${relative(SRC, file)} -> ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('src/fuse imports nothing from fs, daemon or cli: the wire knows nothing of the filesystem (issue 20)', () => {
    const offending = sources(join(SRC, 'fuse')).flatMap((file) =>
      importsOf(file)
        .filter((spec) => ['fs', 'daemon', 'cli'].some((name) => new RegExp(`(^|/)\\.\\./${name}(/|$)`).test(spec)))
        .map((spec) => `${relative(SRC, file)} -> ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('has no import circle: a module never reaches itself through its value imports (issue 20: caller/resolver <-> task-cache)', () => {
    const graph = new Map(
      sources(SRC).map((file) => [
        file,
        [...readFileSync(file, 'utf8').matchAll(VALUE_IMPORT)]
          .map((match) => match[1]!)
          .filter((spec) => spec.startsWith('.'))
          .map((spec) => join(dirname(file), spec.replace(/\.js$/, '.ts'))),
      ]),
    );
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('finds the imports it checks and flags a layer violation (the scan is not vacuous)', () => {
    expect(importsOf(join(SRC, 'render', 'views.ts'))).toContain('../caller/resolver.js');
    expect(['../fuse/abi.js', '../../fs/tree.js', '../cgroup/fs-helpers.js'].map(isForbidden)).toEqual([true, true, false]);
  });
});
