// One boot of the cgroup v2 guest: qemu (TCG, no /dev/kvm needed) on the built kernel and root image
// (snapshot=on: never changed), a control disk that carries the command, its environment and a copy of a
// host directory in, and the command's results out; the console streamed to our stderr and kept. qemu
// is killed by its pid on every way out: the deadline, a signal to us, our exit, and (through setpriv's
// parent-death signal) our own death by SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { run, runOk } from '../e2e/harness/exec.js';
import { log, RUNS_DIR, seconds } from './cache.js';
import type { GuestImage } from './image.js';

export interface GuestCommand {
  /** A bash script, run as root in the guest from the shared directory (or /root). */
  readonly script: string;
  /** A host directory the guest gets a copy of at the same path; writes there stay in the guest. */
  readonly share?: string;
  /** Entries of `share` (top level) left out of the copy. */
  readonly leaveOut?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface GuestOutcome {
  /** The command's exit status; undefined when the guest never said (timed out or crashed). */
  readonly status: number | undefined;
  readonly timedOut: boolean;
  /** What the command wrote to $CGPROCFS_V2_OUT, copied back. */
  readonly outDir: string;
  readonly consoleLog: string;
  /** Guest uptime when the command started, s: the boot. */
  readonly bootSeconds: number | undefined;
  readonly wallMs: number;
}

const MEMORY_MIB = Number(process.env['CGPROCFS_V2_MEMORY_MIB'] ?? 4096);
/** The e2e tests are written for a host whose cpuset is 0-1. */
const GUEST_CPUS = Math.min(2, cpus().length);
const RUNS_KEPT = 3;
const READY = /^CGPROCFS-V2-READY uptime=(\S+)/m;
const EXIT = /^CGPROCFS-V2-EXIT=(\d+)/m;
/**
 * qemu 7.2's TCG mis-emulates cmpxchg16b and 6.12 oopses at boot with it; mitigations off and a
 * reliable TSC spare TCG work; apparmor=0, or dockerd wants apparmor_parser; cgroup_no_v1=all keeps
 * every controller on cgroup2.
 */
const CPU_MODEL = 'max,cx16=off';
const KERNEL_COMMAND_LINE = [
  'console=ttyS0', 'root=/dev/nvme0n1', 'rootfstype=ext4', 'rw', 'init=/sbin/cgprocfs-v2-init', 'cgroup_no_v1=all',
  'systemd.unified_cgroup_hierarchy=1', 'panic=-1', 'quiet', 'loglevel=4', 'mitigations=off', 'tsc=reliable', 'apparmor=0',
].join(' ');

function pruneRuns(): void {
  if (!existsSync(RUNS_DIR)) return;
  const runs = readdirSync(RUNS_DIR).map((e) => join(RUNS_DIR, e)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const old of runs.slice(RUNS_KEPT - 1)) rmSync(old, { recursive: true, force: true });
}

/** Hard links where the directory is on the same filesystem (fast), copies otherwise. */
async function copyTree(from: string, to: string, leaveOut: readonly string[]): Promise<void> {
  if ((await run('cp', ['-al', from, to], { timeoutMs: 10 * 60_000 })).code !== 0) {
    rmSync(to, { recursive: true, force: true });
    await runOk('cp', ['-a', from, to], { timeoutMs: 10 * 60_000 });
  }
  for (const entry of leaveOut) rmSync(join(to, entry), { recursive: true, force: true });
}

/** The control disk: command.sh, env, share-path and share/ in an ext4 image (mkfs -d: no loop mount). */
async function controlDisk(runDir: string, command: GuestCommand): Promise<string> {
  const stage = join(runDir, 'stage');
  mkdirSync(join(stage, 'out'), { recursive: true });
  writeFileSync(join(stage, 'command.sh'), `${command.script}\n`);
  const env = Object.entries(command.env ?? {}).map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'\n`);
  writeFileSync(join(stage, 'env'), env.join(''));
  if (command.share !== undefined) {
    writeFileSync(join(stage, 'share-path'), command.share);
    await copyTree(command.share, join(stage, 'share'), command.leaveOut ?? []);
  }
  const usedMiB = Number((await runOk('du', ['-sm', stage])).split('\t')[0]);
  const disk = join(runDir, 'control.img');
  await runOk('truncate', ['-s', `${usedMiB * 2 + 512}M`, disk]);
  await runOk('mkfs.ext4', ['-q', '-F', '-L', 'cgprocfs-v2-control', '-E', 'root_owner=0:0', '-d', stage, disk], { timeoutMs: 10 * 60_000 });
  rmSync(stage, { recursive: true, force: true });
  return disk;
}

function qemuArgs(image: GuestImage, disk: string): string[] {
  return [
    '-machine', 'q35,accel=tcg', '-cpu', CPU_MODEL, '-smp', String(GUEST_CPUS), '-m', String(MEMORY_MIB),
    '-kernel', image.kernel.vmlinuz, '-append', KERNEL_COMMAND_LINE,
    // The root is the only NVMe disk (6.12 names NVMe disks in probe order), the control disk the only virtio one.
    '-device', 'nvme,id=nvme0,serial=cgprocfs-v2',
    '-drive', `file=${image.rootfs},if=none,id=root,format=raw,snapshot=on,cache=unsafe`,
    '-device', 'nvme-ns,drive=root,bus=nvme0,nsid=1',
    '-drive', `file=${disk},if=none,id=control,format=raw,cache=unsafe`, '-device', 'virtio-blk-pci,drive=control',
    '-nic', 'none', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
  ];
}

/** SIGKILL to qemu by its pid, unless it has exited. */
function killQemu(qemu: ChildProcess): void {
  try {
    if (qemu.pid !== undefined && qemu.exitCode === null && qemu.signalCode === null) process.kill(qemu.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills `qemu` by pid when we leave in any way, until disarm() is called. */
function killOnAnyExit(qemu: ChildProcess): () => void {
  const kill = () => killQemu(qemu);
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    log(`${signal}: the guest was killed`);
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, onSignal);
  process.on('exit', kill);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
    process.off('exit', kill);
  };
}

/** Boots, runs the command, powers off (or is killed at the deadline); the results come back either way. */
export async function runInGuest(image: GuestImage, command: GuestCommand): Promise<GuestOutcome> {
  mkdirSync(RUNS_DIR, { recursive: true });
  pruneRuns();
  const runDir = join(RUNS_DIR, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(runDir);
  const disk = await controlDisk(runDir, command);
  const consoleLog = join(runDir, 'console.log');
  const consoleFile = createWriteStream(consoleLog);
  const started = Date.now();
  log(`booting ${image.kernel.release} (TCG, ${GUEST_CPUS} CPUs, ${MEMORY_MIB} MiB, deadline ${command.timeoutMs / 60_000} min); console: ${consoleLog}`);
  // setpriv: qemu gets SIGKILL if this process dies, even by SIGKILL. TMPDIR: snapshot=on's overlay.
  const qemu = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...qemuArgs(image, disk)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: runDir },
  });
  const disarm = killOnAnyExit(qemu);
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    log(`the guest ran past its deadline of ${command.timeoutMs / 60_000} min: killing qemu (pid ${qemu.pid})`);
    killQemu(qemu);
  }, command.timeoutMs);
  const relay = (chunk: Buffer) => {
    const text = chunk.toString('utf8').replace(/\r/g, '');
    consoleFile.write(text);
    process.stderr.write(text);
  };
  qemu.stdout.on('data', relay);
  qemu.stderr.on('data', relay);
  const exit = await new Promise<number | null>((resolve, reject) => {
    qemu.once('error', reject);
    qemu.once('close', (code) => resolve(code));
  }).finally(() => {
    clearTimeout(deadline);
    disarm();
  });
  await new Promise<void>((resolve) => consoleFile.end(resolve));
  const text = readFileSync(consoleLog, 'utf8');
  const ready = READY.exec(text)?.[1];
  // rdump refuses an existing target directory: runDir/out must not exist yet.
  await run('debugfs', ['-R', `rdump /out ${runDir}`, disk], { timeoutMs: 5 * 60_000 });
  if (existsSync(join(runDir, 'out'))) rmSync(disk, { force: true });
  else log(`could not read the results back; the control disk stays: ${disk}`);
  const statusFile = join(runDir, 'out', 'status');
  const status = existsSync(statusFile) ? readFileSync(statusFile, 'utf8').trim() : EXIT.exec(text)?.[1];
  if (status === undefined && !timedOut) log(`qemu exited ${exit} without the guest's exit marker (a crash? see ${consoleLog})`);
  log(`guest done in ${seconds(started)}: ${status === undefined ? 'no exit status' : `exit ${status}`}`);
  return {
    status: status === undefined ? undefined : Number(status),
    timedOut,
    outDir: join(runDir, 'out'),
    consoleLog,
    bootSeconds: ready === undefined ? undefined : Number(ready),
    wallMs: Date.now() - started,
  };
}
