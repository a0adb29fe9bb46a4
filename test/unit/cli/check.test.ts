import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatVerdicts, runChecks } from '../../../src/cli/check.js';
import { CGROUP_V1, CGROUP_V2, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';

const copyOf = useFixtureCopies();

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

  it('reports swap accounting on a host with swap, and says nothing of it on a host without (issue 16)', () => {
    const withSwap = runChecks({ mountpoint: '/nonexistent/cgprocfs', cgroupRoot: CGROUP_V1, procRoot: PROC_ROOT });
    expect(withSwap.map((v) => v.what)).toContain('swap accounting');
    const procRoot = copyOf(PROC_ROOT);
    writeFileSync(join(procRoot, 'swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n');
    const withoutSwap = runChecks({ mountpoint: '/nonexistent/cgprocfs', cgroupRoot: CGROUP_V1, procRoot });
    expect(withoutSwap.map((v) => v.what)).not.toContain('swap accounting');
  });

  it('says nothing of systemd\'s fd store where systemd is not PID 1 (issue 16)', () => {
    const procRoot = copyOf(PROC_ROOT);
    writeFileSync(join(procRoot, '1', 'comm'), 'process_api\n');
    expect(runChecks({ mountpoint: '/nonexistent/cgprocfs', cgroupRoot: CGROUP_V1, procRoot }).map((v) => v.what)).not.toContain('systemd fd store');
  });

  it('prints one aligned line per check', () => {
    const text = formatVerdicts([
      { status: 'ok', what: 'root', detail: 'running as root' },
      { status: 'fail', what: 'FUSE', detail: '/dev/fuse is missing' },
    ]);
    expect(text).toBe('ok    root             running as root\nFAIL  FUSE             /dev/fuse is missing\n');
  });
});
