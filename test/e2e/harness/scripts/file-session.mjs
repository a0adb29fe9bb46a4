// A reader driven over stdin, one JSON command per line, one JSON reply per line: lets a test
// interleave reads of ONE open file with host-side changes (cgroup moves, limit changes).
//   {"op":"readfile","path":P}          open, read to EOF, close        -> {"ok":true,"data":S}
//   {"op":"open","path":P}              keep one fd open                -> {"ok":true}
//   {"op":"bytes","n":N}                N sequential 1-byte reads (-1: to EOF) -> {"ok":true,"data":S,"eof":B}
//   {"op":"pread","at":[[off,len],...]} positioned reads on the open fd -> {"ok":true,"data":[S,...]}
//   {"op":"close"}
// Errors reply {"ok":false,"code":ERRNO_NAME,"message":M}.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';

let fd;
const one = Buffer.alloc(1);

const ops = {
  readfile: ({ path }) => ({ data: readFileSync(path, 'latin1') }),
  open: ({ path }) => {
    fd = openSync(path, 'r');
    return {};
  },
  bytes: ({ n }) => {
    let data = '';
    while (n < 0 || data.length < n) {
      // position null: the fd's own offset, i.e. read(2), the way a streaming reader advances.
      if (readSync(fd, one, 0, 1, null) === 0) return { data, eof: true };
      data += one.toString('latin1');
    }
    return { data, eof: false };
  },
  pread: ({ at }) => ({
    data: at.map(([off, len]) => {
      const buf = Buffer.alloc(len);
      return buf.toString('latin1', 0, readSync(fd, buf, 0, len, off));
    }),
  }),
  close: () => {
    closeSync(fd);
    return {};
  },
};

for await (const line of createInterface({ input: process.stdin })) {
  let reply;
  try {
    const cmd = JSON.parse(line);
    reply = { ok: true, ...ops[cmd.op](cmd) };
  } catch (err) {
    reply = { ok: false, code: err.code ?? 'ERROR', message: err.message };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
