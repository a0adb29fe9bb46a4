// Where the daemon's memory goes, against the Node runtime's own floor (issue 22): each
// subject a fresh process, settled, measured side by side in one run.
//   npm run build && node bench/tools/memory-floor.mjs [--json] [--settle-ms 3000]
//   node bench/tools/memory-floor.mjs --summarize run1.json run2.json ...   (min-max of --json runs)
// Subjects: a0 bare node; a node with the daemon's flags (+ the executable-pages drop the
// daemon does, which loads koffi); b a + 2 empty blocked worker threads with the daemon's
// heap limits; c b whose workers import and build a serving worker's stack (no mount,
// no /dev/fuse); d the real daemon idle after start, supervisor and server apart.
// Root is needed for d only (it mounts); run as root.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const HERE = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(HERE), '../..');
const DIST = join(ROOT, 'dist');
const dist = (path) => import(pathToFileURL(join(DIST, path)).href);
/** V8 allocates its heap in pages of this size: anonymous mappings of exactly it (Node 20). */
const V8_PAGE_KB = 256;
const SERVER_FIRST_DROP_MS = 5000; // server-process.ts EXECUTABLE_FIRST_DROP_MS
const KB = 1024;

/** WORKER_HEAP of workers.ts, read from the build so the two never differ. */
function workerHeap() {
  const text = readFileSync(join(DIST, 'daemon/workers.js'), 'utf8');
  const found = /WORKER_HEAP = (\{[^}]*\})/.exec(text);
  if (!found) throw new Error('WORKER_HEAP not found in dist/daemon/workers.js');
  return Function(`return (${found[1]})`)();
}

// ---- inside a subject's worker thread --------------------------------------------------

async function workerMain() {
  const { kind, input, index } = workerData;
  if (kind === 'c') {
    // What worker.ts does before it blocks on /dev/fuse, minus the device itself.
    const [{ requesterClasses }, , { RequestQueue }, { readable }, { withHeapReports }, { idleCollector }, { createLogger }, { ThreadBeat }, { buildServer }] = await Promise.all([
      dist('caller/requester-class.js'),
      dist('fuse/device.js'),
      dist('fuse/request-queue.js'),
      dist('native/libc.js'),
      dist('daemon/heap-report.js'),
      dist('daemon/idle-collection.js'),
      dist('daemon/logger.js'),
      dist('daemon/heartbeat.js'),
      dist('daemon/server.js'),
    ]);
    const log = createLogger(input.config.logLevel, { worker: index });
    const { dispatcher } = buildServer({ ...input.config, loadavg: input.loadavg, renderingCache: input.renderingCache }, input.memory, log, input.mountedAtSec);
    const fair = { queue: new RequestQueue(input.requests), pending: () => readable(-1), classOf: requesterClasses(input.config.procRoot) };
    const kept = [dispatcher, fair, new ThreadBeat(input.beats, index), idleCollector(), withHeapReports(() => undefined, log)];
    globalThis.keptForMeasurement = kept;
  }
  const { heapFigures } = await dist('daemon/heap-report.js');
  parentPort.postMessage({ ready: true, heap: heapFigures() });
  // Blocked like a serving worker in read(): no event loop turns, no timers.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

// ---- inside a subject process ----------------------------------------------------------

async function subjectMain(kind, stateDir) {
  const report = { kind, heaps: [] };
  if (kind !== 'a0') {
    const { heapFigures } = await dist('daemon/heap-report.js');
    let input = {};
    if (kind === 'c') input = await serverMemory(stateDir);
    if (kind === 'b' || kind === 'c') {
      const ready = [0, 1].map(
        (index) =>
          new Promise((done, fail) => {
            const worker = new Worker(HERE, { workerData: { kind, input, index }, resourceLimits: workerHeap() });
            worker.once('message', (msg) => {
              worker.unref(); // blocked for good: the interval below keeps the process
              done(msg.heap);
            });
            worker.once('error', fail);
          }),
      );
      report.heaps = await Promise.all(ready);
    }
    report.heaps.unshift(heapFigures());
    // As serve.ts and server-process.ts do once started: give back the executable's pages.
    const [{ dropExecutablePages }, { dropMappedPages }] = await Promise.all([dist('daemon/executable-pages.js'), dist('native/libc.js')]);
    report.droppedMb = Math.round(dropExecutablePages(dropMappedPages) / KB / KB);
  }
  process.stdout.write(`ready ${JSON.stringify(report)}\n`);
  setInterval(() => undefined, 1 << 30); // an idle main thread with its event loop, as the daemon's
}

/** The shared memory server-process.ts hands its workers, made the same way. */
async function serverMemory(stateDir) {
  const [{ createHandleStore, DEFAULT_HANDLE_LIMITS, DEFAULT_OWNER_HANDLES }, libc, { allocateLoadavgMemory }, { allocateRenderingCache }, { allocateRequestQueue }, { allocateBeats }, { arenaDirOf }] = await Promise.all([
    dist('fs/handles.js'),
    dist('native/libc.js'),
    dist('load/table.js'),
    dist('shared/rendering-cache.js'),
    dist('fuse/request-queue.js'),
    dist('daemon/heartbeat.js'),
    dist('daemon/config.js'),
  ]);
  const config = {
    mountpoint: join(stateDir, 'not-mounted'),
    resolve: 'init',
    swap: true,
    cgroupRoot: '/sys/fs/cgroup',
    procRoot: '/proc',
    logLevel: 'info',
    workers: 2,
    stateDir,
    cpuCount: 'quota',
    btime: 'host',
    sysRoot: '/sys',
    heal: false,
    maxOpenPerContainer: DEFAULT_OWNER_HANDLES,
  };
  const memory = createHandleStore(arenaDirOf(config), 1, { ...DEFAULT_HANDLE_LIMITS, ownerHandles: DEFAULT_OWNER_HANDLES }, libc);
  return {
    config,
    memory,
    loadavg: allocateLoadavgMemory(),
    renderingCache: allocateRenderingCache(),
    requests: allocateRequestQueue(),
    beats: allocateBeats(2),
    mountedAtSec: Math.floor(Date.now() / 1000),
  };
}

// ---- the driver: measuring ---------------------------------------------------------------

/** kB figures of one process from smaps_rollup and smaps. */
function measure(pid) {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  const exe = readlinkSync(`/proc/${pid}/exe`);
  let nodeRss = 0;
  let v8Pages = 0;
  let v8Anon = 0;
  let current;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      current = { kb: Number((BigInt(`0x${head[2]}`) - BigInt(`0x${head[1]}`)) / 1024n), path: head[3] };
      continue;
    }
    const f = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (!f || !current) continue;
    const kb = Number(f[2]);
    if (f[1] === 'Rss' && current.path === exe) nodeRss += kb;
    if (f[1] === 'Anonymous' && current.path === '' && current.kb === V8_PAGE_KB && kb > 0) {
      v8Pages++;
      v8Anon += kb;
    }
  }
  const threads = readdirSync(`/proc/${pid}/task`).length;
  return { pss: field('Pss'), pssFile: field('Pss_File'), rss: field('Rss'), anon: field('Anonymous'), nodeRss, v8Pages, v8Anon, otherAnon: field('Anonymous') - v8Anon, threads };
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Samples every second until PSS and anonymous moved less than 64 kB over `settleMs`; the last sample. */
async function settled(pids, settleMs) {
  const history = [];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const sample = pids.map(measure);
    history.push(sample);
    const back = Math.ceil(settleMs / 1000);
    if (history.length > back) {
      const old = history[history.length - 1 - back];
      const still = sample.every((s, i) => Math.abs(s.pss - old[i].pss) < 64 && Math.abs(s.anon - old[i].anon) < 64);
      if (still || Date.now() > deadline) return { sample, settledAfterS: history.length - 1, stable: still };
    }
    await sleep(1000);
  }
}

/** Lines of a child's stdout until `match` finds one (or the child ends / time runs out). */
function waitForLine(child, match, timeoutMs) {
  return new Promise((done, fail) => {
    let text = '';
    const timer = setTimeout(() => fail(new Error(`no ready line in ${timeoutMs} ms: ${text.slice(-500)}`)), timeoutMs);
    child.stdout.on('data', (chunk) => {
      text += chunk;
      for (const line of text.split('\n')) {
        if (match(line)) {
          clearTimeout(timer);
          done(line);
          return;
        }
      }
    });
    child.once('exit', (code) => fail(new Error(`exited (${code}) before ready: ${text.slice(-500)}`)));
  });
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Everything the run made, undone in reverse order, also on failure or Ctrl-C. */
const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()();
    } catch (err) {
      process.stderr.write(`cleanup: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

function tempDir(prefix, base = '/tmp') {
  const dir = mkdtempSync(join(base, prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** SIGTERM, then SIGKILL after `graceMs`, each pid that is still alive. */
async function endPids(pids, graceMs) {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < until) await sleep(100);
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function runSubject(kind, nodeFlags, settleMs) {
  const stateDir = tempDir(`memfloor-${kind}-`, '/dev/shm');
  const flags = kind === 'a0' ? [] : nodeFlags;
  const child = spawn(process.execPath, [...flags, HERE, '--subject', kind, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => endPids([child.pid], 2000));
  const line = await waitForLine(child, (l) => l.startsWith('ready '), 30_000);
  const report = JSON.parse(line.slice('ready '.length));
  const { sample, settledAfterS, stable } = await settled([child.pid], settleMs);
  await endPids([child.pid], 2000); // now: the next subject starts on a machine without it
  return [{ subject: kind, process: 'one', ...sample[0], settledAfterS, stable, heaps: report.heaps, droppedMb: report.droppedMb }];
}

function mounted(path) {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === path);
}

function childrenOf(pid) {
  const kids = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      kids.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return kids;
}

const isServer = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server-process.js');
  } catch {
    return false;
  }
};

async function runDaemon(settleMs) {
  const work = tempDir('memfloor-d-');
  const stateDir = tempDir('memfloor-d-state-', '/dev/shm');
  const mountpoint = join(work, 'mnt');
  mkdirSync(mountpoint);
  // As bench/daemons.ts Cgprocfs.start: node <bin> serve, the supervisor adds its own flags.
  const child = spawn(process.execPath, [join(DIST, 'bin/cgprocfs.js'), 'serve', '--mountpoint', mountpoint, '--state-dir', stateDir], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', () => undefined);
  const known = new Set([child.pid]);
  cleanups.push(async () => {
    for (const pid of alive(child.pid) ? childrenOf(child.pid) : []) known.add(pid);
    await endPids([child.pid], 15_000);
    await endPids([...known], 2000);
    if (mounted(mountpoint)) spawnSync('umount', ['-l', mountpoint], { stdio: 'ignore' });
  });
  await waitForLine(child, (l) => l.includes('"msg":"serving"'), 60_000);
  const servedAt = Date.now();
  let server;
  while (!(server = childrenOf(child.pid).find(isServer)) && Date.now() - servedAt < 10_000) await sleep(100);
  if (!server) throw new Error('no server process under the supervisor');
  known.add(server);
  // Past the server's own first drop of the executable's pages, then settle.
  await sleep(Math.max(0, SERVER_FIRST_DROP_MS + 1000 - (Date.now() - servedAt)));
  const { sample, settledAfterS, stable } = await settled([child.pid, server], settleMs);
  await cleanUp();
  return [
    { subject: 'd', process: 'supervisor', ...sample[0], settledAfterS, stable },
    { subject: 'd', process: 'server', ...sample[1], settledAfterS, stable },
  ];
}

const mb = (kb) => (kb / KB).toFixed(1);

function table(rows) {
  const head = ['subject', 'process', 'PSS', 'PSS file', 'anon', 'node RSS', 'V8 pages', 'V8 anon', 'other anon', 'threads'];
  const lines = [head, ...rows.map((r) => [r.subject, r.process, mb(r.pss), mb(r.pssFile), mb(r.anon), mb(r.nodeRss), String(r.v8Pages), mb(r.v8Anon), mb(r.otherAnon), String(r.threads)])];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
}

async function driverMain(argv) {
  const json = argv.includes('--json');
  const settleAt = argv.indexOf('--settle-ms');
  const settleMs = settleAt >= 0 ? Number(argv[settleAt + 1]) : 3000;
  if (!(settleMs >= 1000)) throw new Error('--settle-ms must be a number of ms >= 1000');
  const { DAEMON_NODE_FLAGS } = await dist('daemon/supervisor-exec.js');
  const stop = () => {
    cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const started = new Date().toISOString();
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
  const rows = [];
  try {
    for (const kind of ['a0', 'a', 'b', 'c']) rows.push(...(await runSubject(kind, DAEMON_NODE_FLAGS, settleMs)));
    rows.push(...(await runDaemon(settleMs)));
  } finally {
    await cleanUp();
  }
  const loadAfter = readFileSync('/proc/loadavg', 'utf8').trim();
  const result = { started, node: process.version, nodeFlags: DAEMON_NODE_FLAGS, workerHeap: workerHeap(), loadBefore, loadAfter, rows };
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${started}  node ${process.version}  flags ${DAEMON_NODE_FLAGS.join(' ')}  worker heap ${JSON.stringify(result.workerHeap)}\n`);
  process.stdout.write(`loadavg before: ${loadBefore}  after: ${loadAfter}\n`);
  process.stdout.write(`MB (MiB); V8 pages = anonymous ${V8_PAGE_KB} KiB mappings with resident pages\n${table(rows)}\n`);
  for (const r of rows.filter((r) => r.heaps?.length)) {
    process.stdout.write(`${r.subject} isolates at start (MB): ${r.heaps.map((h) => `resident ${h.residentMb} used ${h.usedMb}`).join('; ')}${r.droppedMb ? `; executable mapping advised ${r.droppedMb} MB` : ''}\n`);
  }
  const unstable = rows.filter((r) => !r.stable);
  if (unstable.length > 0) process.stdout.write(`not settled within 30 s: ${unstable.map((r) => `${r.subject}/${r.process}`).join(', ')}\n`);
}

/** The table of several --json runs, each figure min-max. */
function summarize(files) {
  const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const span = (values, f) => {
    const [lo, hi] = [f(Math.min(...values)), f(Math.max(...values))];
    return lo === hi ? lo : `${lo}-${hi}`;
  };
  const fields = [['PSS', 'pss', mb], ['PSS file', 'pssFile', mb], ['anon', 'anon', mb], ['node RSS', 'nodeRss', mb], ['V8 pages', 'v8Pages', String], ['V8 anon', 'v8Anon', mb], ['other anon', 'otherAnon', mb]];
  const lines = [`| subject | process | ${fields.map((f) => f[0]).join(' | ')} |`, `|---|---|${fields.map(() => '---:').join('|')}|`];
  for (const [i, row] of runs[0].rows.entries()) {
    const same = runs.map((r) => r.rows[i]);
    lines.push(`| ${row.subject} | ${row.process} | ${fields.map(([, key, f]) => span(same.map((r) => r[key]), f)).join(' | ')} |`);
  }
  process.stdout.write(`${runs.map((r) => `${r.started} load ${r.loadBefore.split(' ').slice(0, 3).join(' ')} -> ${r.loadAfter.split(' ').slice(0, 3).join(' ')}`).join('\n')}\n${lines.join('\n')}\n`);
}

if (!isMainThread) {
  await workerMain();
} else if (process.argv[2] === '--summarize') {
  summarize(process.argv.slice(3));
} else if (process.argv[2] === '--subject') {
  await subjectMain(process.argv[3], process.argv[5]);
} else {
  await driverMain(process.argv.slice(2));
}
