// Tries every write path on a cgprocfs tree and reports each errno ("OK" if it wrongly succeeded).
// usage: node write-attempts.mjs MOUNTPOINT -> [{"op":"...","result":"EROFS"},...]
import * as fs from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
const p = (rel) => join(root, rel);
const file = p('proc/meminfo');
const now = new Date();

const attempts = {
  'open O_WRONLY|O_TRUNC|O_CREAT': () => fs.closeSync(fs.openSync(file, 'w')),
  'open O_RDWR': () => fs.closeSync(fs.openSync(file, 'r+')),
  'open O_APPEND': () => fs.closeSync(fs.openSync(file, 'a')),
  'create in proc/': () => fs.writeFileSync(p('proc/new-file'), 'x'),
  'create in the root': () => fs.writeFileSync(p('new-file'), 'x'),
  'mkdir': () => fs.mkdirSync(p('proc/new-dir')),
  'unlink a file': () => fs.unlinkSync(file),
  'rmdir a directory': () => fs.rmdirSync(p('sys/devices/system/cpu')),
  'rename': () => fs.renameSync(file, p('proc/renamed')),
  'symlink': () => fs.symlinkSync('meminfo', p('proc/link')),
  'hard link': () => fs.linkSync(file, p('proc/hardlink')),
  'chmod': () => fs.chmodSync(file, 0o666),
  'chown': () => fs.chownSync(file, 65534, 65534),
  'truncate': () => fs.truncateSync(file, 0),
  'touch (utimes) a file': () => fs.utimesSync(file, now, now),
  'touch (utimes) a directory': () => fs.utimesSync(p('proc'), now, now),
};

const results = Object.entries(attempts).map(([op, attempt]) => {
  try {
    attempt();
    return { op, result: 'OK' };
  } catch (err) {
    return { op, result: err.code ?? String(err) };
  }
});
process.stdout.write(`${JSON.stringify(results)}\n`);
