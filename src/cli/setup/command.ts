// `cgprocfs setup docker|containerd|podman|lxc`: registers the runtime wrapper (or the LXC
// hook) with a container engine, once per host. Each prints what it would change and
// changes it only with --write, merging into the file (never replacing what is there),
// keeping a backup, and saying what to do next (reload the engine).

import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_MOUNTPOINT } from '../../daemon/config.js';
import { CgprocfsError } from '../../errors.js';
import { canonicalMountpoint, mountState } from '../../fuse/mount.js';
import { resolveRunc, RuncNotFoundError } from '../../oci/runc-path.js';
import { DEFAULT_CONTAINERD_CONFIG, dumpProblems, editContainerdConfig, HANDLER } from './containerd.js';
import { DEFAULT_DAEMON_JSON, editDaemonJson, RUNTIME_NAME } from './docker.js';
import { applyChange, assertOwned, describeChange, readIfExists, type FileChange } from './file-change.js';
import { assertLxcMountpoint, DEFAULT_LXC_HOOK, DEFAULT_LXC_SNIPPET, LXC_HOOK_MARKER, LXC_SNIPPET_MARKER, lxcHook, lxcSnippet } from './lxc.js';
import { DEFAULT_PODMAN_DROP_IN, PODMAN_MARKER, podmanDropIn } from './podman.js';

/** The wrapper of this installation: dist/bin/cgprocfs-runc.js beside this CLI. */
export const INSTALLED_WRAPPER = fileURLToPath(new URL('../../bin/cgprocfs-runc.js', import.meta.url));

type Print = (text: string) => void;

interface Common {
  write: boolean;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function assertExecutable(path: string, what: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new CgprocfsError('USAGE', `${what} ${path} is not an executable file (run npm run build, or give --runtime-path)`);
  }
}

/**
 * The wrapper execs the real runc: registering it on a host where it would find none
 * would stop every container of the engine from starting, so setup refuses instead.
 */
function assertRuncFound(runtimePath: string, runc: string | undefined): void {
  try {
    resolveRunc({ requested: runc ?? process.env.CGPROCFS_RUNC, path: process.env.PATH, self: realpathSync(runtimePath) });
  } catch (err) {
    if (!(err instanceof RuncNotFoundError)) throw err;
    throw new CgprocfsError('RUNTIME_CONFIG', `the wrapper would find no runc to run (${err.message}); install runc first`);
  }
}

/** Prints each change, writes them with --write, then what to do next. */
function finish(print: Print, changes: readonly FileChange[], write: boolean, next: readonly string[]): void {
  const pending = changes.filter((c) => c.before !== c.after);
  if (!write) {
    for (const change of changes) print(describeChange(change));
    if (pending.length > 0) print('Run the command again with --write to make the change (the old file is kept as a backup beside it).\n');
    return;
  }
  for (const change of changes) {
    if (change.before === change.after) {
      print(`${change.path} already has it: nothing to change\n`);
      continue;
    }
    const { backup } = applyChange(change);
    print(`wrote ${change.path}${backup ? ` (the old one is kept as ${backup})` : ''}\n`);
  }
  if (next.length > 0) print(`${next.map((line) => `${line}\n`).join('')}`);
}

/** A note when nothing serves the mountpoint yet: containers then start with the host's files. */
function mountNote(print: Print, mountpoint: string): void {
  const where = canonicalMountpoint(mountpoint);
  const state = mountState(where);
  if (state !== 'live') print(`note: ${where} is not a live cgprocfs mount (${state}); until cgprocfs serve runs there, containers start with the host's /proc files\n`);
}

function runtimePathOption<T>(y: Argv<T>) {
  return y.option('runtime-path', { type: 'string', default: INSTALLED_WRAPPER, describe: 'the runtime wrapper the engine runs' });
}

function writeOption<T>(y: Argv<T>) {
  return y.option('write', { type: 'boolean', default: false, describe: 'make the change (without it, only print it)' });
}

function docker(print: Print): CommandModule<object, Common & { 'config-file': string; 'runtime-path': string; mountpoint: string; runc?: string; default: boolean }> {
  return {
    command: 'docker',
    describe: `the runtime "${RUNTIME_NAME}" in dockerd's daemon.json (--default: for every container)`,
    builder: (y) =>
      writeOption(runtimePathOption(y))
        .option('config-file', { type: 'string', default: DEFAULT_DAEMON_JSON, describe: 'dockerd\'s configuration file' })
        .option('mountpoint', { type: 'string', default: DEFAULT_MOUNTPOINT, describe: 'the cgprocfs mount containers get their files from' })
        .option('runc', { type: 'string', describe: 'the real runc the wrapper runs (default: runc on PATH)' })
        .option('default', { type: 'boolean', default: false, describe: 'also make it dockerd\'s default-runtime' })
        .example('$0 setup docker --write --default', 'every new container gets its own /proc views'),
    handler: (args) => {
      assertExecutable(args['runtime-path'], 'the runtime wrapper');
      assertRuncFound(args['runtime-path'], args.runc);
      const path = args['config-file'];
      const mountpoint = canonicalMountpoint(args.mountpoint);
      const before = readIfExists(path);
      const after = editDaemonJson(path, before, {
        runtimePath: args['runtime-path'],
        mountpoint: mountpoint === DEFAULT_MOUNTPOINT ? undefined : mountpoint,
        runc: args.runc,
        makeDefault: args.default,
      });
      finish(print, [{ path, before, after }], args.write, [
        'Next: reload dockerd to read it (systemctl reload docker, or kill -HUP the dockerd pid); containers created from then on',
        args.default ? 'get their own /proc views with no flags (docker run -m 256m debian free -m).' : `that are run with --runtime ${RUNTIME_NAME} get their own /proc views.`,
      ]);
      mountNote(print, mountpoint);
    },
  };
}

/** Checks the edited config.toml with containerd itself, when it is installed: it must parse and keep every runtime. */
function checkWithContainerd(print: Print, binary: string, before: string | undefined, after: string, binaryName: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-setup-'));
  try {
    const dump = (text: string, name: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return spawnSync(binary, ['--config', file, 'config', 'dump'], { encoding: 'utf8', timeout: 20_000 });
    };
    const old = dump(before ?? '', 'before.toml');
    if (old.error) {
      print(`note: ${binary} did not run (${(old.error as NodeJS.ErrnoException).code ?? old.error.message}), so the new file is not checked by containerd\n`);
      return;
    }
    const now = dump(after, 'after.toml');
    if (now.status !== 0) throw new CgprocfsError('RUNTIME_CONFIG', `containerd would not read the changed file: ${(now.stderr || now.stdout).trim().split('\n')[0]}; nothing written`);
    const problems = old.status === 0 ? dumpProblems(old.stdout, now.stdout, binaryName) : [];
    if (problems.length > 0) throw new CgprocfsError('RUNTIME_CONFIG', `the changed file would be wrong: ${problems.join('; ')}; nothing written`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function containerd(print: Print): CommandModule<object, Common & { 'config-file': string; 'runtime-path': string; containerd: string }> {
  return {
    command: 'containerd',
    describe: `a runtime handler "${HANDLER}" for containerd's CRI plugin (Kubernetes RuntimeClass "${HANDLER}")`,
    builder: (y) =>
      writeOption(runtimePathOption(y))
        .option('config-file', { type: 'string', default: DEFAULT_CONTAINERD_CONFIG, describe: 'containerd\'s configuration file' })
        .option('containerd', { type: 'string', default: 'containerd', describe: 'the containerd binary that checks the changed file' })
        .example('$0 setup containerd --write', 'then: kubectl apply -f deploy/kubernetes/cgprocfs-runtimeclass.yaml'),
    handler: (args) => {
      assertExecutable(args['runtime-path'], 'the runtime wrapper');
      assertRuncFound(args['runtime-path'], undefined);
      const path = args['config-file'];
      const before = readIfExists(path);
      const edit = editContainerdConfig(path, before, args['runtime-path']);
      if (edit.text !== before) checkWithContainerd(print, args.containerd, before, edit.text, args['runtime-path']);
      for (const note of edit.notes) print(`note: ${note}\n`);
      finish(print, [{ path, before, after: edit.text }], args.write, [
        'Next: restart containerd to read it (systemctl restart containerd; running containers keep running),',
        `then pods with runtimeClassName: ${HANDLER} (deploy/kubernetes/cgprocfs-runtimeclass.yaml) get their own /proc views.`,
        `The wrapper reads the mount at ${DEFAULT_MOUNTPOINT}; for another, set CGPROCFS_MOUNTPOINT in containerd's environment.`,
      ]);
      mountNote(print, DEFAULT_MOUNTPOINT);
    },
  };
}

function podman(print: Print): CommandModule<object, Common & { 'config-file': string; 'runtime-path': string; default: boolean }> {
  return {
    command: 'podman',
    describe: `the runtime "${RUNTIME_NAME}" in a containers.conf drop-in (--default: for every container)`,
    builder: (y) =>
      writeOption(runtimePathOption(y))
        .option('config-file', { type: 'string', default: DEFAULT_PODMAN_DROP_IN, describe: 'the drop-in file, written whole (never a file of someone else\'s)' })
        .option('default', { type: 'boolean', default: false, describe: 'also make it the runtime podman run uses by default' })
        .example('$0 setup podman --write --default', 'every new container gets its own /proc views'),
    handler: (args) => {
      assertExecutable(args['runtime-path'], 'the runtime wrapper');
      assertRuncFound(args['runtime-path'], undefined);
      const path = args['config-file'];
      const before = readIfExists(path);
      assertOwned(path, before, PODMAN_MARKER);
      finish(print, [{ path, before, after: podmanDropIn(args['runtime-path'], args.default) }], args.write, [
        args.default ? 'Next: podman run uses it from now on (containers created before keep their runtime).' : `Next: podman run --runtime ${RUNTIME_NAME} ...`,
        `The wrapper reads the mount at ${DEFAULT_MOUNTPOINT}; for another, register a script that runs cgprocfs-runc --cgprocfs-mountpoint DIR "$@".`,
      ]);
      mountNote(print, DEFAULT_MOUNTPOINT);
    },
  };
}

function lxc(print: Print): CommandModule<object, Common & { 'config-file': string; 'hook-file': string; mountpoint: string }> {
  return {
    command: 'lxc',
    describe: 'an LXC mount hook binding every file (pressure/* included), and the lxc.hook.mount line that runs it',
    builder: (y) =>
      writeOption(y)
        .option('hook-file', { type: 'string', default: DEFAULT_LXC_HOOK, describe: 'where the hook script goes' })
        .option('config-file', { type: 'string', default: DEFAULT_LXC_SNIPPET, describe: 'the config snippet naming the hook (LXC\'s common.conf includes common.conf.d/)' })
        .option('mountpoint', { type: 'string', default: DEFAULT_MOUNTPOINT, describe: 'the cgprocfs mount containers get their files from' })
        .example('$0 setup lxc --write', 'every LXC container made from a template gets its own /proc views'),
    handler: (args) => {
      const mountpoint = canonicalMountpoint(args.mountpoint);
      const hook = args['hook-file'];
      assertLxcMountpoint(mountpoint);
      assertLxcMountpoint(hook);
      const hookBefore = readIfExists(hook);
      const snippetPath = args['config-file'];
      const snippetBefore = readIfExists(snippetPath);
      assertOwned(hook, hookBefore, LXC_HOOK_MARKER);
      assertOwned(snippetPath, snippetBefore, LXC_SNIPPET_MARKER);
      finish(print, [
        { path: hook, before: hookBefore, after: lxcHook(mountpoint, packageVersion()), mode: 0o755 },
        { path: snippetPath, before: snippetBefore, after: lxcSnippet(hook) },
      ], args.write, [
        `Next: containers started from now on run the hook; for a container whose config does not include LXC's common.conf, add lxc.hook.mount = ${hook} (or lxc.include = ${snippetPath}) to it.`,
        'Do not combine it with lxcfs\'s hook (/usr/share/lxc/config/common.conf.d/00-lxcfs.conf), which binds the same files.',
      ]);
      mountNote(print, mountpoint);
    },
  };
}

export function makeSetupCommand(print: Print): CommandModule {
  return {
    command: 'setup',
    describe: 'give every container of a runtime its own /proc views, once per host: docker, containerd, podman or lxc',
    builder: (y) =>
      y
        .command(docker(print))
        .command(containerd(print))
        .command(podman(print))
        .command(lxc(print))
        .demandCommand(1, 'name a runtime: docker, containerd, podman or lxc'),
    handler: () => undefined,
  };
}
