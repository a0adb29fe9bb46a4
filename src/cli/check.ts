// `cgprocfs check`: diagnoses a host in plain words. Each check is a small function
// that returns a verdict, or nothing where it does not apply (swap accounting on a host
// without swap, systemd's fd store where systemd is not PID 1); the command prints one
// line per verdict and exits 1 when something cgprocfs cannot work without is missing.

import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { describeLayout, detectLayout, hierarchyOf, type CgroupLayout } from '../cgroup/layout.js';
import { mountState } from '../fuse/mount.js';
import { readOptionalText } from '../host/files.js';
import { systemdNotifyVersion } from '../daemon/systemd.js';

export type Status = 'ok' | 'warn' | 'fail';

export interface Verdict {
  status: Status;
  what: string;
  detail: string;
}

export interface CheckOptions {
  mountpoint: string;
  cgroupRoot: string;
  procRoot: string;
}

/** Kernel 6.9 brought FUSE_NOTIFY_RESEND: requests a dead server held are re-sent. */
const RESEND_KERNEL: readonly [number, number] = [6, 9];
const FDSTORE_SYSTEMD = 254;

function checkRoot(): Verdict {
  const root = process.getuid?.() === 0;
  return { status: root ? 'ok' : 'fail', what: 'root', detail: root ? 'running as root' : 'serve must run as root (mount, every process\'s /proc)' };
}

function checkFuse(procRoot: string): Verdict {
  const known = (readOptionalText(join(procRoot, 'filesystems')) ?? '').split('\n').some((line) => line.trim().endsWith('fuse'));
  if (!existsSync('/dev/fuse')) return { status: 'fail', what: 'FUSE', detail: '/dev/fuse is missing: modprobe fuse (or give the container --device /dev/fuse)' };
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return { status: 'fail', what: 'FUSE', detail: '/dev/fuse exists but cannot be opened for reading and writing' };
  }
  return { status: known ? 'ok' : 'warn', what: 'FUSE', detail: known ? '/dev/fuse is usable' : '/dev/fuse is usable, but fuse is not in /proc/filesystems' };
}

function checkResend(): Verdict {
  const [major = 0, minor = 0] = release().split(/[.-]/).map(Number);
  const ok = major > RESEND_KERNEL[0] || (major === RESEND_KERNEL[0] && minor >= RESEND_KERNEL[1]);
  return {
    status: ok ? 'ok' : 'warn',
    what: 'crash survival',
    detail: ok
      ? `kernel ${release()} re-sends requests a dead server held (FUSE_NOTIFY_RESEND)`
      : `kernel ${release()} is older than 6.9: a server crash leaves in-flight reads blocked (new reads still work)`,
  };
}

function checkCgroups(cgroupRoot: string): { verdict: Verdict; layout?: CgroupLayout } {
  try {
    const layout = detectLayout(cgroupRoot);
    const { kind, controllers } = describeLayout(layout) as { kind: string; controllers: Record<string, string> };
    const list = Object.entries(controllers).map(([name, version]) => `${name} ${version}`).join(', ');
    const memory = layout.controllers.has('memory');
    return {
      layout,
      verdict: { status: memory ? 'ok' : 'fail', what: 'cgroups', detail: `${kind} layout at ${cgroupRoot}: ${list}${memory ? '' : ' (no memory controller)'}` },
    };
  } catch (err) {
    return { verdict: { status: 'fail', what: 'cgroups', detail: err instanceof Error ? err.message : String(err) } };
  }
}

/** /proc/swaps lists a swap area below its header. */
function hostHasSwap(procRoot: string): boolean {
  return (readOptionalText(join(procRoot, 'swaps')) ?? '').trim().split('\n').length > 1;
}

function checkSwapAccounting(layout: CgroupLayout | undefined, procRoot: string): Verdict | undefined {
  if (!hostHasSwap(procRoot)) return undefined;
  if (!layout?.controllers.has('memory')) return { status: 'warn', what: 'swap accounting', detail: 'unknown (no memory controller)' };
  const { version, mount } = hierarchyOf(layout, 'memory');
  const on = version === 1 ? existsSync(join(mount, 'memory.memsw.usage_in_bytes')) : childHasSwapFiles(mount);
  return {
    status: on ? 'ok' : 'warn',
    what: 'swap accounting',
    detail: on ? 'on: containers see their own swap' : 'off: containers see no swap (boot with swapaccount=1 on cgroup v1)',
  };
}

/** cgroup2 has no swap files at its root; a child with memory.swap.max means accounting is on. */
function childHasSwapFiles(mount: string): boolean {
  return readdirSync(mount, { withFileTypes: true }).some((e) => e.isDirectory() && existsSync(join(mount, e.name, 'memory.swap.max')));
}

function checkMount(mountpoint: string): Verdict {
  const state = mountState(mountpoint);
  const detail = {
    live: `${mountpoint} is mounted and answering`,
    absent: `nothing is mounted on ${mountpoint}: start cgprocfs serve (or the cgprocfs service)`,
    stale: `${mountpoint} is a dead mount (ENOTCONN): start cgprocfs again; it replaces the mount and heals the containers bound to it`,
    unanswered: `${mountpoint} is mounted but nothing answers within 2 s (a restart in progress, or a stuck server)`,
  }[state];
  return { status: state === 'live' ? 'ok' : state === 'absent' ? 'warn' : 'fail', what: 'mount', detail };
}

/** Only a systemd that is PID 1 runs services, and so has an fd store to keep the connection in. */
function checkFdStore(procRoot: string): Verdict | undefined {
  if (readOptionalText(join(procRoot, '1', 'comm'))?.trim() !== 'systemd') return undefined;
  const version = systemdNotifyVersion();
  if (version === undefined) return undefined;
  const ok = version >= FDSTORE_SYSTEMD;
  return {
    status: ok ? 'ok' : 'warn',
    what: 'systemd fd store',
    detail: ok
      ? `systemd ${version} keeps the connection across systemctl restart`
      : `systemd ${version} < ${FDSTORE_SYSTEMD}: systemctl restart remounts, and the new start heals running containers; systemctl reload upgrades with no failed read at all`,
  };
}

export function runChecks(options: CheckOptions): Verdict[] {
  const cgroups = checkCgroups(options.cgroupRoot);
  const verdicts = [
    checkRoot(),
    checkFuse(options.procRoot),
    checkResend(),
    cgroups.verdict,
    checkSwapAccounting(cgroups.layout, options.procRoot),
    checkMount(options.mountpoint),
    checkFdStore(options.procRoot),
  ];
  return verdicts.filter((verdict): verdict is Verdict => verdict !== undefined);
}

const MARK: Record<Status, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export function formatVerdicts(verdicts: readonly Verdict[]): string {
  return verdicts.map((v) => `${MARK[v.status]}  ${v.what.padEnd(16)} ${v.detail}\n`).join('');
}
