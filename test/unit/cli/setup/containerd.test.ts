// `cgprocfs setup containerd` on real containerd 1.6 configurations: the handler's tables
// appended, every line of the file kept, containerd's default runc kept (a runtimes table
// in the file replaces the built-in one), runc's options copied, and run twice, the same.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumpProblems, dumpedRuntimes, editContainerdConfig } from '../../../../src/cli/setup/containerd.js';
import { CgprocfsError } from '../../../../src/errors.js';
import { ENABLE_ANNOTATION, PRELOAD_ANNOTATION } from '../../../../src/oci/spec.js';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'containerd');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const WRAPPER = '/opt/cgprocfs/dist/bin/cgprocfs-runc.js';
const V2 = 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes';

const edit = (text: string | undefined) => editContainerdConfig('/etc/containerd/config.toml', text, WRAPPER);

function linesKept(before: string, after: string): boolean {
  const remaining = after.split('\n');
  let at = 0;
  return before.replace(/\n+$/, '').split('\n').every((line) => {
    const found = remaining.indexOf(line, at);
    at = found + 1;
    return found >= 0;
  });
}

describe('setup containerd', () => {
  it('appends the handler to Debian\'s config, with runc, keeping every line', () => {
    const before = fixture('debian-12.toml');
    const { text, notes } = edit(before);
    expect(linesKept(before, text)).toBe(true);
    expect(text.slice(before.replace(/\n+$/, '').length)).toBe(`

[${V2}.runc]
  runtime_type = "io.containerd.runc.v2"

[${V2}.cgprocfs]
  # The runtime handler of Kubernetes RuntimeClass "cgprocfs", written by cgprocfs setup containerd.
  runtime_type = "io.containerd.runc.v2"
  pod_annotations = ["io.cgprocfs.*"]
  [${V2}.cgprocfs.options]
    BinaryName = "${WRAPPER}"
`);
    expect(notes).toEqual([expect.stringMatching(/default runtime "runc"/)]);
  });

  it('lets the pod annotations the wrapper reads through to the OCI spec (CRI pod_annotations, path.Match patterns)', () => {
    const pattern = /^ {2}pod_annotations = \["(.*)"\]$/m.exec(edit(undefined).text)?.[1] ?? '';
    const glob = new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`);
    expect([ENABLE_ANNOTATION, PRELOAD_ANNOTATION].filter((name) => glob.test(name))).toEqual([ENABLE_ANNOTATION, PRELOAD_ANNOTATION]);
  });

  it('copies runc\'s options but BinaryName, so the handler manages cgroups as runc does (SystemdCgroup)', () => {
    const { text, notes } = edit(fixture('systemd-cgroup-1.6.toml'));
    const ours = text.slice(text.indexOf(`[${V2}.cgprocfs.options]`));
    expect(ours).toMatch(/^ {4}SystemdCgroup = true$/m);
    expect(ours.match(/BinaryName/g)).toHaveLength(1);
    expect(text.match(new RegExp(`\\[${V2.replace(/[."]/g, '\\$&')}\\.runc\\]`, 'g'))).toHaveLength(1);
    expect(notes).toEqual([expect.stringMatching(/copied runc's options .*SystemdCgroup/)]);
  });

  it('gives the same file when run again', () => {
    for (const name of ['debian-12.toml', 'default-1.6.toml', 'systemd-cgroup-1.6.toml']) {
      const once = edit(fixture(name)).text;
      expect(edit(once).text).toBe(once);
    }
  });

  it('rewrites its own handler with a new path, leaving the rest', () => {
    const once = edit(fixture('default-1.6.toml')).text;
    const moved = editContainerdConfig('/etc/containerd/config.toml', once, '/usr/local/lib/cgprocfs/cgprocfs-runc.js').text;
    expect(moved).toBe(once.replace(WRAPPER, '/usr/local/lib/cgprocfs/cgprocfs-runc.js'));
  });

  it('writes a new file as version 2 with runc and the handler', () => {
    expect(edit(undefined).text).toMatch(new RegExp(`^version = 2\\n\\n\\[${V2.replace(/[."]/g, '\\$&')}\\.runc\\]`));
  });

  it('uses plugins.cri for a version 1 file (no version key)', () => {
    const { text } = edit('[plugins.cri]\n  sandbox_image = "pause:3.6"\n');
    expect(text).toContain('[plugins.cri.containerd.runtimes.cgprocfs]');
  });

  it('uses containerd 2\'s CRI runtime plugin for a version 3 file', () => {
    expect(edit('version = 3\n').text).toContain('[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.cgprocfs]');
  });

  it('does not take a header inside a multi-line string for a table', () => {
    const before = `version = 2\nnote = """\n[${V2}.cgprocfs]\n"""\n`;
    expect(edit(before).text.startsWith(before.replace(/\n$/, ''))).toBe(true);
  });

  it.each([
    ['an inline table', `version = 2\n[${V2}]\n  cgprocfs = { runtime_type = "x" }\n`],
    ['dotted keys', `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  runtimes.cgprocfs.runtime_type = "x"\n`],
    ['an inline runtimes table', `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  runtimes = {}\n`],
    ['an unknown version', 'version = 9\n'],
  ])('refuses a file that defines things as %s, saying so in one line', (_, text) => {
    const attempt = () => edit(text);
    expect(attempt).toThrow(CgprocfsError);
    expect(attempt).toThrow(/^[^\n]+$/);
  });
});

describe('the check against containerd config dump', () => {
  const dump = (handlers: string[], defaultName = 'runc', binary = WRAPPER) =>
    [`      default_runtime_name = "${defaultName}"`, ...handlers.flatMap((h) => [`        [${V2}.${h}]`, '          runtime_type = "io.containerd.runc.v2"', `          [${V2}.${h}.options]`, `            BinaryName = "${h === 'cgprocfs' ? binary : ''}"`])].join('\n');

  it('reads the handlers, the default and our BinaryName from a dump', () => {
    expect(dumpedRuntimes(dump(['runc', 'cgprocfs']))).toEqual({ handlers: ['runc', 'cgprocfs'], defaultName: 'runc', binaryName: WRAPPER });
  });

  it('finds nothing wrong when runc stays and ours is there', () => {
    expect(dumpProblems(dump(['runc']), dump(['runc', 'cgprocfs']), WRAPPER)).toEqual([]);
  });

  it('says when a handler would be lost, the default would name nothing, or ours points elsewhere', () => {
    expect(dumpProblems(dump(['runc', 'nvidia']), dump(['cgprocfs'], 'runc', '/x'), WRAPPER)).toEqual([
      'it would lose the runtime handlers runc, nvidia',
      'its default_runtime_name "runc" would name no runtime',
      `containerd reads the cgprocfs handler's BinaryName as "/x", not "${WRAPPER}"`,
    ]);
  });
});
