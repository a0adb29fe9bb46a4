#!/usr/bin/env node
// Builds dist/preload/libcgprocfs-preload.so from preload/*.c (docs/preload.md). Optional:
// without a working C compiler it prints one line saying so and exits 0, because the
// daemon and everything else work without the library. $CC overrides `cc`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SOURCES = ['preload/hooks.c', 'preload/files.c'].map((f) => join(ROOT, f));
const OUT_DIR = join(ROOT, 'dist/preload');
const OUT = join(OUT_DIR, 'libcgprocfs-preload.so');
const CFLAGS = ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-Werror', '-fvisibility=hidden'];
const HOW_TO_GET = 'apt-get install gcc libc6-dev';
// The headers the library needs: a compiler without libc6-dev fails here, not on our code.
const PROBE = '#include <dlfcn.h>\n#include <sys/sysinfo.h>\n#include <unistd.h>\nint main(void) { return 0; }\n';

const cc = process.env.CC || 'cc';

function skip(why) {
  console.log(`build-preload: skipped ${OUT} (${why}; to build it: ${HOW_TO_GET}); everything else works without it`);
  process.exit(0);
}

const probe = spawnSync(cc, ['-fsyntax-only', '-x', 'c', '-'], { input: PROBE, encoding: 'utf8' });
if (probe.error?.code === 'ENOENT') skip(`no C compiler: ${cc} is not on PATH`);
if (probe.error) skip(`${cc} did not run: ${probe.error.message}`);
if (probe.status !== 0) skip(`${cc} cannot find the C library headers: ${probe.stderr.split('\n')[0]}`);

mkdirSync(OUT_DIR, { recursive: true });
// Built beside the target and renamed over it: a process that has the old one mapped keeps it intact.
const tmp = `${OUT}.${process.pid}.tmp`;
// libdl.so.2 as a real dependency: before glibc 2.34 dlsym lives there (preload/hooks.c).
const build = spawnSync(cc, [...CFLAGS, '-o', tmp, ...SOURCES, '-Wl,--no-as-needed', '-l:libdl.so.2'], { stdio: 'inherit' });
if (build.error || build.status !== 0) {
  console.error(`build-preload: ${cc} failed to build ${OUT} (${build.error?.message ?? `exit ${build.status}`})`);
  rmSync(tmp, { force: true });
  process.exit(1);
}
renameSync(tmp, OUT);
console.log(`build-preload: built ${OUT}`);
