// Source modules for code that runs outside vitest's loader (worker threads, child
// processes): the module and every relative import it reaches, transpiled with
// TypeScript into one directory under node_modules/.cache, so bare imports (koffi,
// pino) resolve as in src. No build needed first: `npm run test:unit` on a fresh clone
// tests the sources, never whatever dist/ holds.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'node_modules', '.cache', 'cgprocfs-test', `${process.pid}`);
const RELATIVE_IMPORT = /(?:from\s*|import\(\s*)['"](\.{1,2}\/[^'"]+)\.js['"]/g;

const done = new Set<string>();
process.once('exit', () => rmSync(OUT, { recursive: true, force: true }));

function transpile(source: string): void {
  if (done.has(source)) return;
  done.add(source);
  const text = readFileSync(source, 'utf8');
  const output = ts.transpileModule(text, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: source,
  }).outputText;
  const target = join(OUT, relative(ROOT, source)).replace(/\.ts$/, '.js');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, output);
  for (const match of text.matchAll(RELATIVE_IMPORT)) transpile(resolve(dirname(source), `${match[1]}.ts`));
}

/** A file URL of `src/...` (path relative to the repository, `.ts`) that plain node can import. */
export function childModule(sourcePath: string): string {
  const source = resolve(ROOT, sourcePath);
  transpile(source);
  return pathToFileURL(join(OUT, relative(ROOT, source)).replace(/\.ts$/, '.js')).href;
}
