import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Errno, OpenOutFlag, Opcode, Size } from '../../src/fuse/abi.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHandleStore } from '../../src/fs/handles.js';
import { nodeIdOf, ROOT_ID } from '../../src/fs/tree.js';
import { buildServer, type ServerStack } from '../../src/daemon/server.js';
import { CGROUP_V1, meminfoField, PROC_ROOT, useFixtureCopies } from '../unit/helpers/fixtures.js';
import { VIEW_DEFAULTS } from '../unit/helpers/render-context.js';
import { parseReply, req, request } from '../support/requests.js';

/** Fixture processes (test/fixtures/README.md): 2150 is a child in docker container A (512 MiB). */
const CONTAINER_CHILD = { pid: 2150, uid: 1000, gid: 1000 };
const HOST_SHELL = { pid: 1200 };
const MEMINFO = nodeIdOf('proc/meminfo');
const PROC = nodeIdOf('proc');
const O_WRONLY = 1;
const O_RDWR = 2;
const O_TRUNC = 0o1000;
const O_LARGEFILE = 0o100000;

const arenas = mkdtempSync(join(tmpdir(), 'cgprocfs-protocol-'));
afterAll(() => rmSync(arenas, { recursive: true, force: true }));

/** Each stack gets an arena of its own, as each server start does. */
let nextEpoch = 1;

function stack(cgroupRoot = CGROUP_V1, procRoot = PROC_ROOT, ownerHandles?: number, log = pino({ level: 'silent' })): ServerStack {
  const memory = createHandleStore(arenas, nextEpoch++, { slots: 64, arenaBytes: 256 * 4096, ownerHandles });
  return buildServer({ ...VIEW_DEFAULTS, cgroupRoot, procRoot, cacheMs: 0 }, memory, log, 1_700_000_000);
}

describe('dispatcher', () => {
  let server: ServerStack;
  const send = (bytes: Buffer) => server.dispatcher.handle(bytes);
  const call = (bytes: Buffer) => parseReply(send(bytes));
  beforeEach(() => {
    server = stack();
  });

  /** OPEN meminfo as `who`, READ it to EOF in `chunk`-byte reads, RELEASE. */
  function readWhole(who: { pid: number }, chunk = 128 * 1024): string {
    const open = call(req.open(MEMINFO, O_LARGEFILE, who));
    expect(open.errno).toBe(0);
    const fh = open.payload.readBigUInt64LE(0);
    const parts: Buffer[] = [];
    for (let offset = 0n; ; ) {
      const reply = call(req.read(MEMINFO, fh, offset, chunk, who));
      expect(reply.errno).toBe(0);
      if (reply.payload.length === 0) break;
      parts.push(Buffer.from(reply.payload));
      offset += BigInt(reply.payload.length);
    }
    expect(call(req.release(MEMINFO, fh)).errno).toBe(0);
    return Buffer.concat(parts).toString();
  }

  describe('INIT', () => {
    it('answers 7.45 and takes only flags the kernel offered', () => {
      const reply = call(req.init(7, 45, 0x1 /* ASYNC_READ only */));
      expect(reply.errno).toBe(0);
      expect(reply.payload).toHaveLength(Size.INIT_OUT);
      expect([reply.payload.readUInt32LE(0), reply.payload.readUInt32LE(4)]).toEqual([7, 45]);
      expect(reply.payload.readUInt32LE(12)).toBe(0x1);
      expect(reply.payload.readUInt32LE(20)).toBeGreaterThan(0);
    });

    it('accepts the oldest supported kernel (7.31) and a newer one (7.50)', () => {
      expect(call(req.init(7, 31)).errno).toBe(0);
      expect(call(req.init(7, 50)).errno).toBe(0);
    });

    it.each([[7, 30], [6, 45], [8, 0]])('refuses protocol %d.%d with EPROTO', (major, minor) => {
      expect(call(req.init(major, minor)).errno).toBe(Errno.EPROTO);
    });
  });

  describe('the tree', () => {
    it('looks up proc and proc/meminfo with deterministic node ids', () => {
      const proc = call(req.lookup(ROOT_ID, 'proc'));
      expect(proc.errno).toBe(0);
      expect(proc.payload.readBigUInt64LE(0)).toBe(PROC);
      const meminfo = call(req.lookup(PROC, 'meminfo'));
      expect(meminfo.payload.readBigUInt64LE(0)).toBe(MEMINFO);
      expect(meminfo.payload.readUInt32LE(40 + 60)).toBe(0o100444);
      expect(meminfo.payload.readBigUInt64LE(40 + 8)).toBe(0n);
    });

    it.each([
      ['a missing name', ROOT_ID, 'nope', Errno.ENOENT],
      ['a name below a file', MEMINFO, 'x', Errno.ENOTDIR],
      ['an unknown parent', 12345n, 'proc', Errno.ENOENT],
    ])('answers LOOKUP of %s with an errno', (_what, parent, name, errno) => {
      expect(call(req.lookup(parent, name)).errno).toBe(errno);
    });

    it('reports directories 0555 and files 0444 with size 0', () => {
      expect(call(req.getattr(ROOT_ID)).payload.readUInt32LE(16 + 60)).toBe(0o040555);
      const file = call(req.getattr(MEMINFO)).payload;
      expect(file.readUInt32LE(16 + 60)).toBe(0o100444);
      expect(file.readBigUInt64LE(16 + 8)).toBe(0n);
    });

    it('lists a directory with . and .. first and resumes at the offset the kernel sends back', () => {
      const names = (payload: Buffer): string[] => {
        const out: string[] = [];
        for (let at = 0; at < payload.length; ) {
          const len = payload.readUInt32LE(at + 16);
          out.push(payload.toString('utf8', at + 24, at + 24 + len));
          at += Math.ceil((24 + len) / 8) * 8;
        }
        return out;
      };
      expect(call(req.opendir(ROOT_ID)).errno).toBe(0);
      expect(names(call(req.read(ROOT_ID, 0n, 0n, 4096, {}, Opcode.READDIR)).payload)).toEqual(['.', '..', 'proc', 'sys']);
      expect(names(call(req.read(ROOT_ID, 0n, 2n, 4096, {}, Opcode.READDIR)).payload)).toEqual(['proc', 'sys']);
      expect(call(req.read(ROOT_ID, 0n, 4n, 4096, {}, Opcode.READDIR)).payload).toHaveLength(0);
      const proc = names(call(req.read(PROC, 0n, 0n, 4096, {}, Opcode.READDIR)).payload);
      expect(proc.slice(0, 4)).toEqual(['.', '..', 'meminfo', 'swaps']);
      expect(names(call(req.read(PROC, 0n, 3n, 4096, {}, Opcode.READDIR)).payload)).toEqual(proc.slice(3));
      expect(call(req.release(ROOT_ID, 0n, Opcode.RELEASEDIR)).errno).toBe(0);
    });

    it('answers STATFS with a full statfs struct', () => {
      const reply = call(request(Opcode.STATFS, ROOT_ID));
      expect(reply.errno).toBe(0);
      expect(reply.payload).toHaveLength(Size.STATFS_OUT);
    });

    it('has no extended attributes', () => {
      expect(call(req.getxattr(MEMINFO, 'security.selinux', 255)).errno).toBe(Errno.ENODATA);
      const list = call(req.listxattr(MEMINFO, 0));
      expect([list.errno, list.payload.readUInt32LE(0)]).toEqual([0, 0]);
    });
  });

  describe('symlinks of the CPU tree (issue 21)', () => {
    const CPU_DIR = 'sys/devices/system/cpu';
    const node = (path: string): bigint => nodeIdOf(`${CPU_DIR}/${path}`);
    const readlink = (path: string, who: { pid: number } = CONTAINER_CHILD) => call(request(Opcode.READLINK, node(path), undefined, who));
    /** READDIR's entries as name -> d_type. */
    const dirents = (payload: Buffer): Map<string, number> => {
      const out = new Map<string, number>();
      for (let at = 0; at < payload.length; ) {
        const len = payload.readUInt32LE(at + 16);
        out.set(payload.toString('utf8', at + 24, at + 24 + len), payload.readUInt32LE(at + 20));
        at += Math.ceil((24 + len) / 8) * 8;
      }
      return out;
    };

    it('looks up cpu1/node0 as a symlink (S_IFLNK|0777, size of its target) and READLINK answers the host\'s relative target', () => {
      const entry = call(req.lookup(node('cpu1'), 'node0', CONTAINER_CHILD));
      expect(entry.errno).toBe(0);
      expect(entry.payload.readBigUInt64LE(0)).toBe(node('cpu1/node0'));
      expect(entry.payload.readUInt32LE(40 + 60)).toBe(0o120777);
      expect(entry.payload.readBigUInt64LE(40 + 8)).toBe(BigInt('../../node/node0'.length));
      const reply = readlink('cpu1/node0');
      expect([reply.errno, reply.payload.toString()]).toEqual([0, '../../node/node0']);
      expect(readlink('cpu1/subsystem').payload.toString()).toBe('../../../../bus/cpu');
      expect(readlink('cpu1/cpufreq').payload.toString()).toBe('../cpufreq/policy1');
    });

    it('lists symlinks with DT_LNK beside DT_DIR and DT_REG entries', () => {
      const types = dirents(call(req.read(node('cpu1'), 0n, 0n, 4096, CONTAINER_CHILD, Opcode.READDIR)).payload);
      expect(Object.fromEntries(types)).toMatchObject({ node0: 10, subsystem: 10, cpufreq: 10, topology: 4, uevent: 8 });
    });

    it('hides the symlinks of a CPU outside the reader\'s view (container A sees CPUs 1-2)', () => {
      expect(readlink('cpu0/node0').errno).toBe(Errno.ENOENT);
      expect(call(req.lookup(node('cpu0'), 'node0', CONTAINER_CHILD)).errno).toBe(Errno.ENOENT);
      expect(readlink('cpu0/node0', HOST_SHELL).payload.toString()).toBe('../../node/node0');
    });

    it('answers READLINK of a file or a directory with EINVAL, as readlink(2) does', () => {
      expect(readlink('cpu1/uevent').errno).toBe(Errno.EINVAL);
      expect(readlink('cpu1').errno).toBe(Errno.EINVAL);
      expect(call(request(Opcode.READLINK, MEMINFO)).errno).toBe(Errno.EINVAL);
    });
  });

  describe('per-reader content', () => {
    it('renders meminfo for the reader\'s container at OPEN with direct I/O and no FLUSH', () => {
      const open = call(req.open(MEMINFO, O_LARGEFILE, CONTAINER_CHILD));
      expect(open.payload.readUInt32LE(8)).toBe(OpenOutFlag.DIRECT_IO | OpenOutFlag.NOFLUSH);
      const fh = open.payload.readBigUInt64LE(0);
      const text = call(req.read(MEMINFO, fh, 0n, 65536, CONTAINER_CHILD)).payload.toString();
      expect(meminfoField(text, 'MemTotal')).toBe(512 * 1024);
    });

    it('gives a host reader and a container reader their own MemTotal', () => {
      expect(meminfoField(readWhole(CONTAINER_CHILD), 'MemTotal')).toBe(512 * 1024);
      expect(meminfoField(readWhole(HOST_SHELL), 'MemTotal')).not.toBe(512 * 1024);
    });

    it('serves 1-byte reads that concatenate to the same rendering as one large read', () => {
      expect(readWhole(CONTAINER_CHILD, 1)).toBe(readWhole(CONTAINER_CHILD));
    });

    it.each([
      ['tid 0 (a caller outside our pid namespace)', 0],
      ['a tid that does not exist', 99999],
    ])('refuses OPEN by %s with EACCES', (_what, pid) => {
      expect(call(req.open(MEMINFO, 0, { pid })).errno).toBe(Errno.EACCES);
    });

    it('answers READ of an unknown handle with EBADF and RELEASE of one with success', () => {
      expect(call(req.read(MEMINFO, 0xdeadn, 0n, 100)).errno).toBe(Errno.EBADF);
      expect(call(req.release(MEMINFO, 0xdeadn)).errno).toBe(0);
    });

    it('serves a READ of a predecessor\'s handle that has no record (its arena could not be written) from a new rendering of the node it names (issue 18)', () => {
      const reply = call(req.read(MEMINFO, (77n << 48n) | 0xdeadn, 0n, 100, CONTAINER_CHILD));
      expect(reply.errno).toBe(0);
      expect(reply.payload.toString()).toMatch(/^MemTotal:/);
    });

    it('releases every handle it opened', () => {
      readWhole(CONTAINER_CHILD);
      readWhole(HOST_SHELL, 7);
      expect(server.handles.openCount()).toBe(0);
    });
  });

  describe('re-rendering on rewind', () => {
    const copy = useFixtureCopies();

    it('serves later offsets from the OPEN\'s rendering and renders anew at a second READ at offset 0', () => {
      const cgroups = copy(CGROUP_V1);
      server = stack(cgroups);
      const fh = call(req.open(MEMINFO, 0, CONTAINER_CHILD)).payload.readBigUInt64LE(0);
      const first = call(req.read(MEMINFO, fh, 0n, 40, CONTAINER_CHILD)).payload.toString();
      writeFileSync(join(cgroups, 'memory/system.slice/docker-a1b2c3.scope/memory.limit_in_bytes'), `${256 * 1024 * 1024}\n`);
      const rest = call(req.read(MEMINFO, fh, 40n, 65536, CONTAINER_CHILD)).payload.toString();
      expect(meminfoField(first + rest, 'MemTotal')).toBe(512 * 1024);
      const again = call(req.read(MEMINFO, fh, 0n, 65536, CONTAINER_CHILD)).payload.toString();
      expect(meminfoField(again, 'MemTotal')).toBe(256 * 1024);
    });
  });

  describe('each container\'s share of open files (issue 17)', () => {
    it('answers EMFILE to a container holding its share, logs which container and how to raise it, and serves the others', () => {
      const lines: string[] = [];
      const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
      server = stack(CGROUP_V1, PROC_ROOT, 2, log);
      for (let i = 0; i < 2; i++) expect(call(req.open(MEMINFO, 0, CONTAINER_CHILD)).errno).toBe(0);
      expect(call(req.open(MEMINFO, 0, CONTAINER_CHILD)).errno).toBe(Errno.EMFILE);
      expect(call(req.open(MEMINFO, 0, CONTAINER_CHILD)).errno).toBe(Errno.EMFILE);
      expect(readWhole(HOST_SHELL)).toContain('MemTotal');
      // One line per container per minute, naming it and the option.
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, container: '/system.slice/docker-a1b2c3.scope', open: 2, share: 2 });
      expect(lines[0]).toContain('--max-open-per-container');
    });

    it('gives the share back when the container\'s files are released', () => {
      server = stack(CGROUP_V1, PROC_ROOT, 1);
      const fh = call(req.open(MEMINFO, 0, CONTAINER_CHILD)).payload.readBigUInt64LE(0);
      expect(call(req.open(MEMINFO, 0, CONTAINER_CHILD)).errno).toBe(Errno.EMFILE);
      expect(call(req.release(MEMINFO, fh)).errno).toBe(0);
      expect(call(req.open(MEMINFO, 0, CONTAINER_CHILD)).errno).toBe(0);
    });
  });

  describe('nothing is writable', () => {
    it.each([
      ['O_WRONLY', O_WRONLY],
      ['O_RDWR', O_RDWR],
      ['O_TRUNC', O_TRUNC],
    ])('refuses OPEN with %s with EROFS', (_name, flags) => {
      expect(call(req.open(MEMINFO, flags, HOST_SHELL)).errno).toBe(Errno.EROFS);
    });

    it('refuses OPEN of a directory as a file with EISDIR', () => {
      expect(call(req.open(PROC, 0, HOST_SHELL)).errno).toBe(Errno.EISDIR);
    });

    it.each(['SETATTR', 'SYMLINK', 'MKNOD', 'MKDIR', 'UNLINK', 'RMDIR', 'RENAME', 'LINK', 'WRITE', 'SETXATTR', 'REMOVEXATTR', 'CREATE', 'FALLOCATE', 'RENAME2', 'COPY_FILE_RANGE', 'TMPFILE'] as const)(
      'refuses %s with EROFS',
      (op) => {
        expect(call(request(Opcode[op], MEMINFO, Buffer.alloc(64))).errno).toBe(Errno.EROFS);
      },
    );

    it('answers ACCESS: readable yes, writable EROFS, a file not executable', () => {
      expect(call(req.access(MEMINFO, 4)).errno).toBe(0);
      expect(call(req.access(MEMINFO, 2)).errno).toBe(Errno.EROFS);
      expect(call(req.access(MEMINFO, 1)).errno).toBe(Errno.EACCES);
      expect(call(req.access(PROC, 1)).errno).toBe(0);
    });
  });

  describe('unknown, unimplemented and malformed requests', () => {
    it.each(['STATX', 'IOCTL', 'LSEEK', 'POLL', 'BMAP', 'FSYNC', 'READDIRPLUS'] as const)('answers %s with ENOSYS', (op) => {
      expect(call(request(Opcode[op], MEMINFO, Buffer.alloc(16))).errno).toBe(Errno.ENOSYS);
    });

    it('answers an opcode it has never heard of with ENOSYS', () => {
      expect(call(request(4242, ROOT_ID)).errno).toBe(Errno.ENOSYS);
    });

    it('sends no reply to FORGET, BATCH_FORGET and INTERRUPT', () => {
      expect(send(req.forget(MEMINFO))).toBeNull();
      expect(send(request(Opcode.BATCH_FORGET, 0n, Buffer.alloc(8)))).toBeNull();
      expect(send(req.interrupt(100n))).toBeNull();
    });

    it.each([
      ['a READ whose body is cut short', request(Opcode.READ, MEMINFO, Buffer.alloc(8))],
      ['a LOOKUP name without its NUL', request(Opcode.LOOKUP, ROOT_ID, Buffer.from('proc'))],
      ['a len field larger than the bytes', (() => {
        const b = req.getattr(ROOT_ID);
        b.writeUInt32LE(b.length + 8, 0);
        return b;
      })()],
    ])('answers %s with EINVAL and keeps serving', (_what, bytes) => {
      const unique = bytes.readBigUInt64LE(8);
      const reply = call(bytes);
      expect([reply.errno, reply.unique]).toEqual([Errno.EINVAL, unique]);
      expect(call(req.getattr(ROOT_ID)).errno).toBe(0);
    });

    it('drops bytes too short to hold a header and keeps serving', () => {
      expect(send(Buffer.alloc(12))).toBeNull();
      expect(call(req.lookup(ROOT_ID, 'proc')).errno).toBe(0);
    });

    it('echoes a re-sent unique with bit 63 set', () => {
      const resent = req.getattr(ROOT_ID);
      resent.writeBigUInt64LE(0x8000000000000010n, 8);
      expect(call(resent).unique).toBe(0x8000000000000010n);
    });
  });
});
