// How a renderer test says which entries of the table of served files (src/files/table.ts)
// it renders on fixture trees: test/unit/served-files.test.ts reads these calls and fails
// for an entry no test names. The paths are typed, so a misspelt one is a type error.
import { describe } from 'vitest';
import type { ServedPath } from '../../../src/files/table.js';

export function describeServedFiles(paths: readonly ServedPath[], name: string, body: () => void): void {
  describe(`${name} [${paths.join(", ")}]`, body);
}
