// Just enough of TOML to change a containerd config.toml as text, so that every comment
// and line of the admin's stays: where each table starts and ends, its key path (quoted
// keys unquoted), the keys set directly in it, and top-level keys such as `version`.
// Lines inside multi-line strings are never taken for headers.

export interface TomlTable {
  /** The header's key path: [a."b.c".d] -> ['a', 'b.c', 'd']; [] for the top level. */
  path: string[];
  /** [[...]]: one element of an array of tables. */
  arrayElement: boolean;
  /** Line index of the header (-1 for the top level), and one past the table's last line. */
  header: number;
  end: number;
}

const HEADER = /^\s*(\[\[?)\s*(.+?)\s*(\]\]?)\s*(?:#.*)?$/;
const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** A dotted key as its parts: a."b.c".'d' -> ['a', 'b.c', 'd']; undefined if it is not one. */
export function parseDottedKey(text: string): string[] | undefined {
  const parts: string[] = [];
  let rest = text.trim();
  for (;;) {
    let part: string;
    const quoted = /^"((?:[^"\\]|\\.)*)"|^'([^']*)'/.exec(rest);
    if (quoted) {
      part = quoted[1] !== undefined ? (JSON.parse(`"${quoted[1]}"`) as string) : quoted[2]!;
      rest = rest.slice(quoted[0].length).trimStart();
    } else {
      const bare = /^[A-Za-z0-9_-]+/.exec(rest);
      if (!bare) return undefined;
      part = bare[0];
      rest = rest.slice(part.length).trimStart();
    }
    parts.push(part);
    if (rest === '') return parts;
    if (!rest.startsWith('.')) return undefined;
    rest = rest.slice(1).trimStart();
  }
}

/** A key path as a header would write it: bare where TOML allows, double-quoted otherwise. */
export function formatDottedKey(path: readonly string[]): string {
  return path.map((part) => (BARE_KEY.test(part) ? part : JSON.stringify(part))).join('.');
}

/** A TOML basic string (JSON's escapes are TOML's). */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** Indices of the lines that are inside a multi-line string (never headers or keys). */
function linesInStrings(lines: readonly string[]): Set<number> {
  const inside = new Set<number>();
  let open: string | undefined;
  lines.forEach((line, index) => {
    if (open !== undefined) inside.add(index);
    for (const match of line.matchAll(/"""|'''/g)) open = open === undefined ? match[0] : open === match[0] ? undefined : open;
  });
  return inside;
}

/** The tables of a document, in order, the top level first. */
export function tomlTables(text: string): TomlTable[] {
  const lines = text.split('\n');
  const inString = linesInStrings(lines);
  const tables: TomlTable[] = [{ path: [], arrayElement: false, header: -1, end: lines.length }];
  lines.forEach((line, index) => {
    if (inString.has(index)) return;
    const match = HEADER.exec(line);
    if (!match || (match[1] === '[[') !== (match[3] === ']]')) return;
    const path = parseDottedKey(match[2]!);
    if (!path) return;
    tables.at(-1)!.end = index;
    tables.push({ path, arrayElement: match[1] === '[[', header: index, end: lines.length });
  });
  return tables;
}

/** The key lines set directly in a table: `key = value` on one line, as [key path, value text]. */
export function tableKeys(text: string, table: TomlTable): Array<[string[], string]> {
  const lines = text.split('\n');
  const inString = linesInStrings(lines);
  const keys: Array<[string[], string]> = [];
  for (let index = table.header + 1; index < table.end; index++) {
    if (inString.has(index)) continue;
    const match = /^\s*([^=#\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(lines[index]!);
    const key = match && parseDottedKey(match[1]!);
    if (match && key) keys.push([key, match[2]!]);
  }
  return keys;
}

export function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

export function startsWithPath(path: readonly string[], prefix: readonly string[]): boolean {
  return path.length >= prefix.length && prefix.every((part, i) => part === path[i]);
}
