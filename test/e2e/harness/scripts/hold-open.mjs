// Opens a file again and again until refused, reads one byte of each (so the daemon
// keeps every rendering), prints what it holds, and holds it all until stdin closes:
// a container flooding the mount with open files (issue 17).
// usage: node hold-open.mjs PATH   -> {"held":N,"error":"<code of the refusal>"}
import { openSync, readSync } from 'node:fs';

const [path] = process.argv.slice(2);
const byte = Buffer.alloc(1);
const held = [];
let error = null;
for (;;) {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    error = err.code ?? String(err);
    break;
  }
  held.push(fd);
  readSync(fd, byte, 0, 1, null);
}
process.stdout.write(`${JSON.stringify({ held: held.length, error })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
