// npm run test:v2: the e2e and Docker tests on a live cgroup v2 kernel (issue 19). Builds or reuses the
// guest image (test/v2/image.ts), boots it once, runs the tier's files inside under CI=true, and gives
// their result as its own: the exit status, and a summary at the end. A missing prerequisite skips with
// the reason, and fails under CI=true, as the other tiers do. Nothing is left running.
//
//   npm run test:v2 [-- [--core | --files a.test.ts,b.test.ts] [--command 'SCRIPT'] [--build-only] [--timeout-min N]]
import { existsSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { removeTree } from '../runtime/images.js';
import { ensurePackages } from '../runtime/packages.js';
import { DAEMON_BIN, log, REPO_ROOT, seconds, sweepCache } from './cache.js';
import { runInGuest, type GuestOutcome } from './guest.js';
import { ensureImage, type GuestImage } from './image.js';
import { counts, parseReport, summaryLines } from './report.js';
import { CORE_FILES, GUEST_FILES, HOST_ONLY } from './tier.js';

/** Host packages the tier needs: qemu, debootstrap for the images, mkfs.ext4 -d and debugfs. */
const HOST_PACKAGES = ['qemu-system-x86', 'debootstrap', 'e2fsprogs'] as const;
/** Left out of the guest's copy of the checkout: history and other tools' output. */
const LEAVE_OUT = ['.git', 'dist-bench', 'dist-v2', 'bench/results', '.tmp'];
const USAGE = 'usage: npm run test:v2 [-- [--core | --files F1,F2] [--command SCRIPT] [--build-only] [--timeout-min N]]';
/** CI's budget is 90 minutes; the tier's guest run must end well inside it. */
const DEFAULT_TIMEOUT_MIN = 70;

interface Options {
  files: readonly string[];
  command: string | undefined;
  buildOnly: boolean;
  timeoutMin: number;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { files: GUEST_FILES, command: undefined, buildOnly: false, timeoutMin: DEFAULT_TIMEOUT_MIN };
  for (let i = 0; i < argv.length; i++) {
    const [arg, value] = [argv[i], argv[i + 1]];
    if (arg === '--build-only') options.buildOnly = true;
    else if (arg === '--core') options.files = CORE_FILES;
    else if (arg === '--files' && value) (options.files = value.split(',').filter(Boolean)), i++;
    else if (arg === '--command' && value) (options.command = value), i++;
    else if (arg === '--timeout-min' && Number(value) > 0) (options.timeoutMin = Number(value)), i++;
    else throw new Error(`${arg}: ${USAGE}`);
  }
  return options;
}

/** What this host lacks to run the tier, as sentences. */
function missingPrerequisites(files: readonly string[]): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('must run as root (debootstrap, mkfs of the images)');
  if (arch() !== 'x64') missing.push(`the guest is x86_64 and runs the host's node binary; this host is ${arch()}`);
  if (!existsSync(DAEMON_BIN)) missing.push(`${DAEMON_BIN} is absent (npm run build)`);
  for (const file of files) if (!existsSync(join(REPO_ROOT, file))) missing.push(`no test file or directory ${file}`);
  return missing;
}

/** The guest's script: the tier's runner (guest/run-tier.sh) on the files, or a command of the caller's. */
function guestScript(options: Options): string {
  if (options.command !== undefined) return options.command;
  return ['bash', 'test/v2/guest/run-tier.sh', ...options.files].map((w) => `'${w}'`).join(' ');
}

function summarize(outcome: GuestOutcome, image: GuestImage, options: Options): number {
  const reportFile = join(outcome.outDir, 'vitest.json');
  const facts = [
    `kernel ${image.kernel.release}`,
    `image ${image.key} (${image.built ? 'built by this run' : 'cached'})`,
    `boot ${outcome.bootSeconds ?? '?'} s`,
    `guest ${(outcome.wallMs / 1000).toFixed(0)} s`,
  ];
  log(facts.join(', '));
  for (const file of ['environment.txt', 'check.txt']) {
    const path = join(outcome.outDir, file);
    if (existsSync(path)) process.stderr.write(readFileSync(path, 'utf8'));
  }
  if (outcome.timedOut) log(`FAILED: the guest did not finish within ${options.timeoutMin} min (console: ${outcome.consoleLog})`);
  else if (outcome.status === undefined) log(`FAILED: the guest stopped without an exit status (console: ${outcome.consoleLog})`);
  if (options.command === undefined && existsSync(reportFile)) {
    const report = parseReport(readFileSync(reportFile, 'utf8'));
    for (const line of summaryLines(report, REPO_ROOT)) process.stderr.write(`${line}\n`);
    const c = counts(report);
    log(`on live cgroup v2 (${image.kernel.release}): ${c.files} files, ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  } else if (options.command === undefined) {
    log(`FAILED: the guest wrote no test report (${reportFile}); see ${outcome.consoleLog}`);
    return outcome.status || 1;
  }
  if (options.files !== GUEST_FILES && options.files !== CORE_FILES) return outcome.status ?? 1;
  if (options.files === CORE_FILES) {
    log('the core (--core); the full tier (npm run test:v2) also runs:');
    for (const file of GUEST_FILES.filter((f) => !CORE_FILES.includes(f))) process.stderr.write(`  ${file}\n`);
  }
  log('not run in the guest (the host runs them):');
  for (const [file, why] of Object.entries(HOST_ONLY)) process.stderr.write(`  ${file}: ${why}\n`);
  return outcome.status ?? 1;
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  const ci = process.env['CI'] === 'true';
  const missing = missingPrerequisites(options.files);
  if (missing.length > 0) {
    log(`${ci ? 'FAILED' : 'skipped'}: prerequisites missing: ${missing.join('; ')}`);
    return ci ? 1 : 0;
  }
  const started = Date.now();
  try {
    const installed = await ensurePackages(HOST_PACKAGES);
    if (installed.length > 0) log(`installed ${installed.join(' ')} in ${seconds(started)}`);
  } catch (err) {
    log(`${ci ? 'FAILED' : 'skipped'}: cannot install ${HOST_PACKAGES.join(' ')}: ${(err as Error).message}`);
    return ci ? 1 : 0;
  }
  await sweepCache(removeTree);
  const image = await ensureImage();
  log(`image ${image.key} ready after ${seconds(started)} (${image.built ? 'built' : 'cached'}): ${image.rootfs}`);
  if (options.buildOnly) return 0;
  const outcome = await runInGuest(image, {
    script: guestScript(options),
    share: REPO_ROOT,
    leaveOut: LEAVE_OUT,
    timeoutMs: options.timeoutMin * 60_000,
  });
  const status = summarize(outcome, image, options);
  log(`total ${seconds(started)}; exit ${status}`);
  return status;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (err: Error) => {
    log(`FAILED: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
