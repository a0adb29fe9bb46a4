// npm run bench: cgprocfs against lxcfs and a C libfuse floor (issue 8 items 1-3).
// Prepares (packages, C programs, cgroups, daemons), runs the phases, prints the
// tables, writes the JSON result, and always cleans up what it created.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchCgroups } from './cgroups.js';
import { Cleanup, cleanUpOnSignals } from './cleanup.js';
import { Progress, type BenchContext } from './context.js';
import { Cgprocfs, Floor, HostProc, Lxcfs, type Target, type TargetName } from './daemons.js';
import { isRunning } from './exec.js';
import { abortFuse, detachAll, mountsAt } from './mounts.js';
import { buildC, ensurePackages } from './native.js';
import { parseOptions, USAGE, type Options } from './options.js';
import { runContainers } from './phases/containers.js';
import { runMatrix } from './phases/matrix.js';
import { runNoisy } from './phases/noisy.js';
import { runSoak } from './phases/soak.js';
import { describeRepeat, loadWindow, OTHERS_BUSY_NOTE, quieterOfTwo, type PhaseLoad } from './host-load.js';
import { CLK_TCK, processMemory, pssAloneKb, rssSplit, sampleGroup, type ProcessMemory } from './proc.js';
import { floorRows, render, writeResult, type BenchResult, type Resources } from './report.js';
import { renderSummary, summarize } from './repeat.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DAEMON_BIN = join(REPO, 'dist', 'bin', 'cgprocfs.js');
const BIN_DIR = join(REPO, 'dist-bench', 'bin');
const WORK_PREFIX = 'cgprocfs-bench-';
const log = (line: string) => process.stderr.write(`${line}\n`);
const loadavgNow = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/**
 * cgprocfs writes every rendering to an arena file in its state directory, by default
 * /run/cgprocfs, a tmpfs on systemd hosts: the bench puts it on a tmpfs too.
 */
const STATE_PARENT = mountsAt('/dev/shm').some((m) => m.fsType === 'tmpfs') ? '/dev/shm' : '/tmp';

/** Work and state directories of benches that died without cleaning up: mounts detached, then removed. */
function removeStaleWorkDirs(): void {
  const entries = [...new Set(['/tmp', STATE_PARENT])].flatMap((parent) => readdirSync(parent).map((e) => ({ parent, entry: e })));
  for (const { parent, entry } of entries) {
    const owner = entry.startsWith(WORK_PREFIX) ? Number(entry.slice(WORK_PREFIX.length).replace(/-state$/, '')) : NaN;
    if (!Number.isInteger(owner) || isRunning(owner)) continue;
    const dir = join(parent, entry);
    for (const sub of readdirSync(dir)) {
      if (mountsAt(join(dir, sub)).length === 0) continue;
      abortFuse(join(dir, sub));
      detachAll(join(dir, sub));
    }
    log(`removing stale ${dir} (its bench, pid ${owner}, is gone)`);
    rmSync(dir, { recursive: true, force: true });
  }
}

function prerequisites(): string | undefined {
  if (process.getuid?.() !== 0) return 'the bench must run as root (it mounts, and makes cgroups and pid namespaces)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  if (!existsSync(DAEMON_BIN)) return `${DAEMON_BIN} is missing: npm run build`;
  return undefined;
}

function resources(target: Target): Resources {
  const s = sampleGroup(target.pids());
  const split = s.processes.map((p) => rssSplit(p.pid));
  const sum = (key: 'anon' | 'file' | 'shmem') => split.reduce((a, x) => a + x[key], 0);
  return {
    rssKb: s.rssKb,
    pssKb: s.pssKb,
    rssAnonKb: sum('anon'),
    rssFileKb: sum('file'),
    rssShmemKb: sum('shmem'),
    ...(target instanceof Cgprocfs && { stateDirKb: target.stateDirKb() }),
    fds: s.fds,
    processes: s.processes.length,
    ...memoryOf(s.processes.map((p) => p.pid)),
  };
}

function memoryOf(pids: readonly number[]): Pick<Resources, 'byProcess' | 'pssAloneKb'> {
  const byProcess = pids.map(processMemory).filter((m): m is ProcessMemory => m !== undefined);
  return { byProcess, pssAloneKb: pssAloneKb(byProcess) };
}

interface Started {
  targets: Map<TargetName, Target>;
  readerBin: string;
  lxcfsVersion: string | undefined;
}

/** Starts every target the options ask for; lxcfs or the floor that cannot be had becomes a note. */
async function startTargets(options: Options, dirs: { workDir: string; stateDir: string; logDir: string }, cleanup: Cleanup, notes: string[]): Promise<Started> {
  const targets = new Map<TargetName, Target>();
  const add = (t: Target) => {
    targets.set(t.name, t);
    cleanup.add(`stop ${t.name}`, () => t.stop());
  };
  const soak = options.soakMinutes !== undefined;
  const tools = ensurePackages(options.daemons.has('lxcfs') && !soak, options.daemons.has('floor') && !soak, log);
  const readerBin = buildC(REPO, BIN_DIR, 'reader');
  add(await Cgprocfs.start({ bin: DAEMON_BIN, ...dirs, nodeOptions: options.cgprocfsNodeOptions, serveArgs: options.cgprocfsArgs }));
  if (!soak) {
    if (tools.lxcfsMissing) notes.push(`lxcfs not compared: ${tools.lxcfsMissing}`);
    else if (options.daemons.has('lxcfs')) add(await Lxcfs.start(dirs.workDir, dirs.logDir));
    if (tools.fuseDevMissing) notes.push(`no floor: ${tools.fuseDevMissing}`);
    else if (options.daemons.has('floor')) {
      const bin = buildC(REPO, BIN_DIR, 'floor');
      add(await Floor.start({ bin, workDir: dirs.workDir, logDir: dirs.logDir, threads: 'single' }));
      add(await Floor.start({ bin, workDir: dirs.workDir, logDir: dirs.logDir, threads: 'multi' }));
    }
    targets.set('host', new HostProc());
  }
  return { targets, readerBin, lxcfsVersion: tools.lxcfsVersion };
}

/** Wrong readings and failed reads, as notes; returns how many were cgprocfs's. */
function noteProblems(result: BenchResult): number {
  const cells = [
    ...(result.matrix?.rows.flatMap((r) => Object.values(r.cells)) ?? []),
    ...Object.values(result.containers?.perTarget ?? {}).flatMap((t) => [t.single, t.spread]),
    ...Object.values(result.noisy?.perTarget ?? {}).flatMap((t) => [t.alone, t.beside, t.flood]),
    ...(result.soak ? [result.soak.load] : []),
  ];
  let cgprocfs = 0;
  for (const c of cells.filter((c) => c.bad + c.errors > 0)) {
    if (c.target === 'cgprocfs') cgprocfs += c.bad + c.errors;
    result.notes.push(`${c.target}: ${c.bad} wrong readings and ${c.errors} failed reads; first: ${c.problems[0] ?? '?'}`);
  }
  return cgprocfs;
}

async function bench(options: Options, cleanup: Cleanup): Promise<{ result: BenchResult; cgprocfsBad: number }> {
  const startedAt = new Date().toISOString();
  const loadavgBefore = loadavgNow();
  removeStaleWorkDirs();
  await BenchCgroups.removeStale(log);
  const workDir = join('/tmp', `${WORK_PREFIX}${process.pid}`);
  // Logs go beside the result and stay for a post-mortem.
  const logDir = join(dirname(options.out), 'logs');
  mkdirSync(workDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  cleanup.add('remove the work directory', () => {
    const mounted = readdirSync(workDir).filter((sub) => mountsAt(join(workDir, sub)).length > 0);
    if (mounted.length > 0) throw new Error(`${workDir} still has mounts (${mounted.join(', ')}); left in place`);
    rmSync(workDir, { recursive: true, force: true });
  });
  const stateDir = join(STATE_PARENT, `${WORK_PREFIX}${process.pid}-state`);
  cleanup.add('remove the state directory', () => rmSync(stateDir, { recursive: true, force: true }));
  const cgroups = new BenchCgroups();
  cleanup.add(`remove cgroups ${cgroups.name}`, () => cgroups.remove());
  const notes: string[] = [];
  const { targets, readerBin, lxcfsVersion } = await startTargets(options, { workDir, stateDir, logDir }, cleanup, notes);
  const readerStderr = openSync(join(logDir, 'readers.log'), 'w');
  cleanup.add('close readers.log', () => closeSync(readerStderr));
  const daemons = [...targets.values()].filter((t) => t.name !== 'host');
  const before = new Map(daemons.map((t) => [t.name, { res: resources(t), cpu: sampleGroup(t.pids()).cpuTicks }]));
  const ctx: BenchContext = { options, cgroups, targets, readerBin, readerStderr, cleanup, progress: new Progress(log), notes };

  const result: BenchResult = {
    version: 1,
    startedAt,
    finishedAt: '',
    machine: {},
    options: { ...options, daemons: [...options.daemons] },
    resources: {},
    notes,
  };
  const load: Record<string, PhaseLoad> = {};
  const daemonPids = () => daemons.flatMap((t) => t.pids());
  const window = () => loadWindow(daemonPids, () => cgroups.cpuSeconds());
  const noteLoad = (phase: string, l: PhaseLoad) => {
    load[phase] = l;
    if (l.othersBusy > OTHERS_BUSY_NOTE) notes.push(`others kept ${Math.round(l.othersBusy * 100)}% of the CPUs busy during ${phase}: its figures are worth repeating`);
  };
  const measured = async <T>(phase: string, run: () => Promise<T>): Promise<T> => {
    const end = window();
    const value = await run();
    noteLoad(phase, end());
    return value;
  };
  /** A phase run again when others outweighed the bench (issue 22 item 3). */
  const measuredQuietest = async <T>(phase: string, run: () => Promise<T>): Promise<T> => {
    const { value, load: l, attempts, kept } = await quieterOfTwo(window, run);
    if (attempts.length > 1) notes.push(describeRepeat(phase, attempts, kept));
    noteLoad(phase, l);
    return value;
  };
  if (options.soakMinutes !== undefined) {
    result.soak = await measured('soak', () => runSoak(ctx, options.soakMinutes!));
  } else {
    const matrix = await measured('matrix', () => runMatrix(ctx, window));
    result.matrix = { ...matrix, floor: floorRows(matrix.rows) };
    for (const s of matrix.skipped) notes.push(`${s.file}: ${s.why}`);
    if (options.containers > 0) result.containers = await measuredQuietest('many containers', () => runContainers(ctx));
    if (options.noisyFlooders > 0) result.noisy = await measured('noisy neighbour', () => runNoisy(ctx));
  }
  result.load = load;
  for (const t of daemons) {
    const b = before.get(t.name)!;
    const cpuTicks = sampleGroup(t.pids()).cpuTicks - b.cpu;
    result.resources[t.name] = { before: b.res, after: resources(t), cpuSeconds: cpuTicks / CLK_TCK, events: [...t.events] };
    for (const e of t.events) notes.push(`${t.name}: ${e}`);
  }
  const cgprocfsBad = noteProblems(result);
  notes.push('shared 2-CPU machine: +-20-30% noise between runs; compare figures within one run only');
  result.machine = { kernel: release(), cpus: cpus().length, node: process.version, lxcfs: lxcfsVersion, loadavgBefore, loadavgAfter: loadavgNow() };
  result.finishedAt = new Date().toISOString();
  return { result, cgprocfsBad };
}

async function main(): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2), join(REPO, 'bench', 'results', 'latest.json'));
  } catch (err) {
    log(`bench: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const missing = prerequisites();
  if (missing) {
    log(`bench: ${missing}`);
    return 1;
  }
  const cleanup = new Cleanup();
  cleanUpOnSignals(cleanup, log);
  let code = 0;
  try {
    const runs: BenchResult[] = [];
    let cgprocfsBad = 0;
    for (let run = 1; run <= options.repeat; run++) {
      if (options.repeat > 1) log(`run ${run} of ${options.repeat}`);
      const done = await bench(options, cleanup);
      runs.push(done.result);
      cgprocfsBad += done.cgprocfsBad;
      process.stdout.write(`${options.repeat > 1 ? `Run ${run} of ${options.repeat}\n` : ''}${render(done.result)}`);
      if (run < options.repeat) {
        // Each run starts its own daemons: this one's are stopped and its cgroups removed.
        const failures = await cleanup.runAll();
        if (failures.length > 0) throw new Error(`cleaning up after run ${run}: ${failures.join('; ')}`);
      }
    }
    if (options.repeat > 1) {
      const summary = summarize(runs);
      const first = runs[0]!;
      const last = runs.at(-1)!;
      process.stdout.write(`\n${renderSummary(summary, `cgprocfs bench - ${runs.length} runs ${first.startedAt} -> ${last.finishedAt}, load ${String(first.machine.loadavgBefore)} -> ${String(last.machine.loadavgAfter)}`)}`);
      writeResult(options.out, { version: 1, runs, summary });
    } else {
      writeResult(options.out, runs[0]!);
    }
    log(`result written to ${options.out}`);
    if (options.strict && cgprocfsBad > 0) code = 3;
  } catch (err) {
    if (cleanup.interrupted) return new Promise<number>(() => undefined); // the signal handler exits
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    code = 1;
  }
  const failures = await cleanup.runAll();
  for (const f of failures) log(`cleanup failed: ${f}`);
  return failures.length > 0 ? 1 : code;
}

// exit() rather than exitCode: a stray handle must not keep CI waiting (stdout is synchronous on Linux).
process.exit(await main());
