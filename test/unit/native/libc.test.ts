// The koffi bindings against the real libc: errno names, and an execve that starts the
// new program with working standard descriptors and default signal actions.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ioctlU32, setns, SyscallError, unshare } from '../../../src/native/libc.js';
import { childModule } from '../../support/child-module.js';

describe('native libc calls', () => {
  it('throws a SyscallError named after errno when a call fails', () => {
    const err = (() => {
      try {
        setns(-1, 0);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SyscallError);
    expect(err).toMatchObject({ code: 'EBADF', syscall: 'setns' });
    expect(() => ioctlU32(-1, 0, 0)).toThrow(/ioctl: EBADF/);
    expect(() => unshare(-1)).toThrow(/unshare: EINVAL/);
  });

  it('execve replaces the process with inherited stdout, the given environment and default SIGPIPE', () => {
    // Node marks fds 0-2 close-on-exec and ignores SIGPIPE: without the fix-ups the
    // shell below could not write and would inherit the ignored signal.
    const script = `
      import { execve } from ${JSON.stringify(childModule('src/native/libc.ts'))};
      execve('/bin/sh', ['sh', '-c', 'echo "$0 $GREETING"; grep SigIgn /proc/self/status', 'replaced'], { GREETING: 'hello', PATH: '/usr/bin:/bin' });
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const [greeting, sigIgn] = r.stdout.trim().split('\n');
    expect(greeting).toBe('replaced hello');
    const ignored = BigInt(`0x${sigIgn?.split(/\s+/)[1] ?? ''}`);
    expect(ignored & (1n << 12n)).toBe(0n); // SIGPIPE (13) is bit 12
    expect(r.status).toBe(0);
  });

  it('trimMalloc gives back the free pages inside malloc\'s arenas (glibc), which free() keeps', () => {
    // A child of its own: its heap has a known history. Every other buffer of 16-24 KiB is
    // freed, so the free memory lies between live blocks, where free() never returns it.
    const script = `
      import { readFileSync } from 'node:fs';
      import { trimMalloc } from ${JSON.stringify(childModule('src/native/libc.ts'))};
      const anonymousKb = () => Number(/^Anonymous:\\s+(\\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]);
      const buffers = [];
      for (let i = 0; i < 6000; i++) buffers.push(Buffer.allocUnsafeSlow(16384 + (i % 3) * 4096).fill(1));
      for (let i = 0; i < buffers.length; i += 2) buffers[i] = undefined;
      gc();
      // The buffers' memory is freed after the collection, by V8's tasks.
      await new Promise((resolve) => setTimeout(resolve, 300));
      gc();
      const before = anonymousKb();
      const trimmed = trimMalloc();
      console.log(JSON.stringify({ trimmed, before, after: anonymousKb(), live: buffers.filter(Boolean).length }));
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const { trimmed, before, after, live } = JSON.parse(r.stdout) as { trimmed: boolean; before: number; after: number; live: number };
    expect(live).toBe(3000);
    expect(trimmed).toBe(true); // Debian's node is linked against glibc
    // About 60 MiB of buffers were freed between live ones (measured: 48 MiB came back).
    expect(before - after).toBeGreaterThan(20 * 1024);
  });
});
