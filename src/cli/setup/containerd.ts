// `cgprocfs setup containerd`: a runtime handler `cgprocfs` for containerd's CRI plugin
// (runtime_type io.containerd.runc.v2, options.BinaryName = the wrapper), which a
// Kubernetes RuntimeClass with `handler: cgprocfs` selects. The tables are appended to
// config.toml itself, as text, so every line of the admin's stays: a drop-in through
// `imports` would not do, as containerd 1.x replaces a plugin's whole section with an
// imported file's (containerd#5837).

import { CgprocfsError } from '../../errors.js';
import { formatDottedKey, parseDottedKey, samePath, startsWithPath, tableKeys, tomlString, tomlTables, type TomlTable } from './toml.js';

export const HANDLER = 'cgprocfs';
export const DEFAULT_CONTAINERD_CONFIG = '/etc/containerd/config.toml';
const DEFAULT_RUNTIME = 'runc';
const SHIM = 'io.containerd.runc.v2';
/** The annotations a pod may choose with (oci/spec.ts), for the CRI plugin's pod_annotations. */
const ANNOTATIONS = 'io.cgprocfs.*';

/** Where the CRI plugin keeps its runtimes, by config version (1.x: 1 and 2; 2.x: 3). */
const RUNTIMES_BY_VERSION: Record<number, readonly string[]> = {
  1: ['plugins', 'cri', 'containerd', 'runtimes'],
  2: ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes'],
  3: ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes'],
};

// A one-line scalar value (and maybe a comment): what runc's options hold (SystemdCgroup = true).
const SCALAR = /^("(?:[^"\\]|\\.)*"|'[^']*'|true|false|[+-]?[0-9_]+(?:\.[0-9_]+)?)\s*(?:#.*)?$/;

export interface ContainerdEdit {
  text: string;
  /** Sentences about what was done beyond adding the handler. */
  notes: string[];
}

function configVersion(path: string, text: string, tables: TomlTable[]): number {
  const version = tableKeys(text, tables[0]!).find(([key]) => samePath(key, ['version']))?.[1];
  if (version === undefined) return text.trim() === '' ? 2 : 1;
  const number = Number(version.replace(/\s*#.*$/, ''));
  if (!(number in RUNTIMES_BY_VERSION)) throw new CgprocfsError('RUNTIME_CONFIG', `${path} has version = ${version}, which this command does not know (1, 2 or 3)`);
  return number;
}

/** Refuses a file that defines our handler in a way other than tables (inline or dotted keys). */
function assertNoOtherDefinition(path: string, text: string, tables: TomlTable[], runtimes: readonly string[]): void {
  for (const table of tables) {
    const relative = table.path.length <= runtimes.length && startsWithPath(runtimes, table.path) ? runtimes.slice(table.path.length) : undefined;
    if (relative === undefined) continue;
    for (const [key] of tableKeys(text, table)) {
      const full = [...relative, HANDLER];
      if (startsWithPath(key, full) || (key.length <= relative.length && startsWithPath(relative, key))) {
        throw new CgprocfsError('RUNTIME_CONFIG', `${path} sets ${formatDottedKey([...table.path, ...key])} as a key, not as tables; edit the runtime there by hand`);
      }
    }
  }
}

function removeLines(text: string, spans: Array<[number, number]>): string {
  const lines = text.split('\n');
  const drop = new Set(spans.flatMap(([from, to]) => Array.from({ length: to - from }, (_, i) => from + i)));
  return lines.filter((_, i) => !drop.has(i)).join('\n');
}

/** config.toml's text with the `cgprocfs` handler (re)written at its end; every other line as it was. */
export function editContainerdConfig(path: string, current: string | undefined, binaryName: string): ContainerdEdit {
  const original = current ?? '';
  const tables = tomlTables(original);
  const version = configVersion(path, original, tables);
  const runtimes = RUNTIMES_BY_VERSION[version]!;
  assertNoOtherDefinition(path, original, tables, runtimes);
  const notes: string[] = [];
  const ours = tables.filter((t) => startsWithPath(t.path, [...runtimes, HANDLER]));
  const definesRuntimes = tables.some((t) => t.path.length > runtimes.length && startsWithPath(t.path, runtimes) && !startsWithPath(t.path, [...runtimes, HANDLER]));
  const runcOptions = tables.find((t) => samePath(t.path, [...runtimes, DEFAULT_RUNTIME, 'options']));
  const copied = runcOptions
    ? tableKeys(original, runcOptions).filter(([key, value]) => key.length === 1 && key[0] !== 'BinaryName' && SCALAR.test(value))
    : [];
  const kept = removeLines(original, ours.map((t): [number, number] => [t.header, t.end])).replace(/\n*$/, '');
  const block: string[] = [];
  if (current === undefined || original.trim() === '') block.push(`version = ${version}`);
  if (!definesRuntimes) {
    // containerd replaces its default runtimes with the file's: without runc here, adding ours
    // would take runc away, and with it the CRI plugin's default_runtime_name.
    block.push('', `[${formatDottedKey([...runtimes, DEFAULT_RUNTIME])}]`, `  runtime_type = ${tomlString(SHIM)}`);
    notes.push(`also wrote containerd's default runtime "${DEFAULT_RUNTIME}": runtimes in this file replace containerd's built-in ones`);
  }
  block.push(
    '',
    `[${formatDottedKey([...runtimes, HANDLER])}]`,
    `  # The runtime handler of Kubernetes RuntimeClass "${HANDLER}", written by cgprocfs setup containerd.`,
    `  runtime_type = ${tomlString(SHIM)}`,
    // The CRI plugin puts a pod's annotations in the OCI spec only where a pattern
    // (path.Match) lets them through: io.cgprocfs.enable and io.cgprocfs.preload.
    `  pod_annotations = [${tomlString(ANNOTATIONS)}]`,
    `  [${formatDottedKey([...runtimes, HANDLER, 'options'])}]`,
    `    BinaryName = ${tomlString(binaryName)}`,
    ...copied.map(([key, value]) => `    ${formatDottedKey(key)} = ${SCALAR.exec(value)![1]}`),
  );
  if (copied.length > 0) notes.push(`copied runc's options ${copied.map(([key]) => key[0]).join(', ')} (the handler must manage cgroups as runc does)`);
  const text = `${kept === '' ? '' : `${kept}\n`}${block.join('\n').replace(/^\n/, kept === '' ? '' : '\n')}\n`;
  return { text: text === `${original.replace(/\n*$/, '')}\n` && current !== undefined ? current : text, notes };
}

/** The runtime handlers and default_runtime_name of a `containerd config dump`, and our handler's BinaryName. */
export function dumpedRuntimes(dump: string): { handlers: string[]; defaultName?: string; binaryName?: string } {
  const handlers: string[] = [];
  let binaryName: string | undefined;
  let inOurOptions = false;
  for (const line of dump.split('\n')) {
    const header = /^\s*\[(.+)\]\s*$/.exec(line);
    if (header) {
      const path = parseDottedKey(header[1]!) ?? [];
      const at = path.findIndex((part, i) => part === 'runtimes' && path[i - 1] === 'containerd');
      const rest = at < 0 ? [] : path.slice(at + 1);
      if (rest.length === 1) handlers.push(rest[0]!);
      inOurOptions = samePath(rest, [HANDLER, 'options']);
      continue;
    }
    const binary = inOurOptions ? /^\s*BinaryName\s*=\s*("(?:[^"\\]|\\.)*")\s*$/.exec(line) : null;
    if (binary) binaryName = JSON.parse(binary[1]!) as string;
  }
  const defaultName = /^\s*default_runtime_name\s*=\s*"(.*)"\s*$/m.exec(dump)?.[1];
  return { handlers, defaultName, binaryName };
}

/** What is wrong with the `after` dump against the `before` one; empty when nothing is. */
export function dumpProblems(before: string, after: string, binaryName: string): string[] {
  const old = dumpedRuntimes(before);
  const now = dumpedRuntimes(after);
  const problems: string[] = [];
  const lost = old.handlers.filter((h) => !now.handlers.includes(h));
  if (lost.length > 0) problems.push(`it would lose the runtime handlers ${lost.join(', ')}`);
  if (now.defaultName !== undefined && !now.handlers.includes(now.defaultName)) problems.push(`its default_runtime_name "${now.defaultName}" would name no runtime`);
  if (now.binaryName !== binaryName) problems.push(`containerd reads the ${HANDLER} handler's BinaryName as ${JSON.stringify(now.binaryName)}, not ${JSON.stringify(binaryName)}`);
  return problems;
}
