// `cgprocfs render` in plain words (issue 16): a missing process or cgroup is named as
// such, an unknown file name points at --list, and --list prints the names.
import { describe, expect, it } from 'vitest';
import { runRender } from '../../../src/cli/render.js';
import { CGROUP_V2, PROC_ROOT } from '../helpers/fixtures.js';
import { viewService } from '../helpers/render-context.js';

const views = viewService(CGROUP_V2);
/** What the command prints on stdout. */
const render = (args: Partial<Parameters<typeof runRender>[1]>) => () => {
  let out = '';
  runRender(views, { list: false, procRoot: PROC_ROOT, ...args }, { stdout: (text) => (out += String(text)), stderr: () => undefined });
  return out;
};

describe('cgprocfs render', () => {
  it('--list prints every file name, one per line, and nothing else', () => {
    expect(render({ list: true })()).toBe(views.files.map((f) => `${f}\n`).join(''));
  });

  it('names a process that does not exist: "no such process"', () => {
    expect(render({ file: 'meminfo', pid: 999999 })).toThrow(expect.objectContaining({ code: 'NO_SUCH_PROCESS', message: 'no such process 999999' }));
  });

  it('names a cgroup that exists in no hierarchy and shows the form a path takes', () => {
    expect(render({ file: 'meminfo', cgroup: '/docker/3f2a' })).toThrow(
      expect.objectContaining({ code: 'NO_SUCH_CGROUP', message: 'no such cgroup /docker/3f2a (give the full path, e.g. /docker/<64-hex id>)' }),
    );
  });

  it('answers an unknown file name in one short line that points at --list, not with every name', () => {
    expect(render({ file: 'interrupts', cgroup: '/' })).toThrow(
      expect.objectContaining({ code: 'NO_SUCH_FILE', message: 'no file interrupts (cgprocfs render --list shows the names)' }),
    );
  });

  it('renders a known file for an existing cgroup, by its short name', () => {
    expect(render({ file: 'meminfo', cgroup: '/' })()).toMatch(/^MemTotal:/);
  });
});
