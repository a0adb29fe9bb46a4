// Client for scripts/file-session.mjs: a long-lived reader process a test steers one command at a time.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestCgroups } from './cgroups.js';
import { SCRIPTS } from './prerequisites.js';

type Reply = { ok: true; data?: unknown; eof?: boolean } | { ok: false; code: string; message: string };

export class FileSession {
  private readonly waiting: Array<(line: string) => void> = [];
  private stderr = '';
  /** Replies still owed to commands that timed out; they are dropped when they arrive. */
  private late = 0;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (this.late > 0) this.late--;
      else this.waiting.shift()?.(line);
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
  }

  /** Starts a session process inside cgroup `rel` (host pid namespace: it is its own reader). */
  static inCgroup(cgroups: TestCgroups, rel: string): FileSession {
    return new FileSession(cgroups.spawn(rel, process.execPath, [join(SCRIPTS, 'file-session.mjs')]));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends one command and waits for its reply; a failed command throws with its errno name. */
  async request(cmd: Record<string, unknown>, timeoutMs = 15_000): Promise<Reply & { ok: true }> {
    const line = await new Promise<string>((resolve, reject) => {
      const waiter = (l: string) => {
        clearTimeout(timer);
        resolve(l);
      };
      const timer = setTimeout(() => {
        // Replies come in order: this one, if it ever comes, is not the next command's.
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        this.late++;
        reject(new Error(`file-session: no reply to ${JSON.stringify(cmd)} in ${timeoutMs} ms\n${this.stderr}`));
      }, timeoutMs);
      this.waiting.push(waiter);
      this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    });
    const reply = JSON.parse(line) as Reply;
    if (!reply.ok) throw Object.assign(new Error(`${JSON.stringify(cmd)}: ${reply.code} ${reply.message}`), { code: reply.code });
    return reply;
  }

  async readFile(path: string): Promise<string> {
    return (await this.request({ op: 'readfile', path })).data as string;
  }

  async open(path: string): Promise<void> {
    await this.request({ op: 'open', path });
  }

  /** n sequential 1-byte reads, or to EOF with n = -1. */
  async bytes(n: number): Promise<{ data: string; eof: boolean }> {
    const reply = await this.request({ op: 'bytes', n });
    return { data: reply.data as string, eof: reply.eof === true };
  }

  async pread(at: ReadonlyArray<readonly [number, number]>): Promise<string[]> {
    return (await this.request({ op: 'pread', at })).data as string[];
  }

  async close(): Promise<void> {
    await this.request({ op: 'close' });
  }

  /** Ends the session; its cgroup's cleanup kills it anyway if this is never reached. */
  end(): void {
    this.child.stdin?.end();
  }
}
