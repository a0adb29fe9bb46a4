// Preload for profiling the cgprocfs daemon, which Node 20 cannot do with NODE_OPTIONS
// (--cpu-prof is refused there, and the supervisor spawns its server without execArgv):
//   npm run bench -- --cgprocfs-node-options="--require $PWD/bench/tools/cpu-profile.cjs" ...
// Every thread of every node process (supervisor, server, its workers) starts the V8
// profiler and writes <CPU_PROF_DIR or /tmp/cgprocfs-prof>/<pid>-<thread>.cpuprofile
// when it exits. Same-thread inspector sessions answer synchronously, so 'exit' works.
'use strict';
const { Session } = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const { threadId } = require('node:worker_threads');

const dir = process.env.CPU_PROF_DIR || '/tmp/cgprocfs-prof';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 200 });
session.post('Profiler.start');
process.on('exit', () => {
  session.post('Profiler.stop', (err, result) => {
    if (err) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/${process.pid}-${threadId}.cpuprofile`, JSON.stringify(result.profile));
  });
});
