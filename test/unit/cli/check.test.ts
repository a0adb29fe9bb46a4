import { describe, expect, it } from 'vitest';
import { formatVerdicts, runChecks } from '../../../src/cli/check.js';
import { CGROUP_V1, CGROUP_V2, PROC_ROOT } from '../helpers/fixtures.js';

describe('cgprocfs check', () => {
  it.each([
    ['v1', CGROUP_V1, /v1 layout .*memory v1/],
    ['v2', CGROUP_V2, /v2 layout .*memory v2/],
  ])('names the %s layout and its controllers', (_name, cgroupRoot, pattern) => {
    const verdicts = runChecks({ mountpoint: '/nonexistent/cgprocfs', cgroupRoot, procRoot: PROC_ROOT });
    expect(verdicts.find((v) => v.what === 'cgroups')).toMatchObject({ status: 'ok', detail: expect.stringMatching(pattern) });
  });

  it('fails the cgroup check for a tree that is not one, in plain words', () => {
    const verdicts = runChecks({ mountpoint: '/nonexistent/cgprocfs', cgroupRoot: '/nonexistent/cgroup', procRoot: PROC_ROOT });
    expect(verdicts.find((v) => v.what === 'cgroups')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/does not exist/) });
  });

  it('says how to start the daemon when nothing is mounted', () => {
    const verdicts = runChecks({ mountpoint: '/nonexistent/cgprocfs', cgroupRoot: CGROUP_V1, procRoot: PROC_ROOT });
    expect(verdicts.find((v) => v.what === 'mount')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/start cgprocfs serve/) });
  });

  it('prints one aligned line per check', () => {
    const text = formatVerdicts([
      { status: 'ok', what: 'root', detail: 'running as root' },
      { status: 'fail', what: 'FUSE', detail: '/dev/fuse is missing' },
    ]);
    expect(text).toBe('ok    root             running as root\nFAIL  FUSE             /dev/fuse is missing\n');
  });
});
