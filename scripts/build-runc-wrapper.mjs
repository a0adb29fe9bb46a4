#!/usr/bin/env node
// Makes dist/bin/cgprocfs-runc.js (compiled by tsc) a file that /bin/sh and node both run:
//
//   #!/bin/sh
//   ":" /*            sh: the no-op command ':' (its arguments, /*, are ignored); node: a
//   ...               string statement, then a comment holding src/oci/pass-through.sh,
//   */                which sh runs and which always ends in exec or exit
//   <tsc's output>    node: the wrapper
//
// so that runtimes' calls other than create and run reach runc without starting Node.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = `${ROOT}dist/bin/cgprocfs-runc.js`;
const SHELL = `${ROOT}src/oci/pass-through.sh`;
const NODE_SHEBANG = '#!/usr/bin/env node\n';

const js = readFileSync(BIN, 'utf8');
const sh = readFileSync(SHELL, 'utf8');
if (!js.startsWith(NODE_SHEBANG)) {
  console.error(`build-runc-wrapper: ${BIN} does not start with ${JSON.stringify(NODE_SHEBANG)} (built twice without tsc?)`);
  process.exit(1);
}
if (sh.includes('*/')) {
  console.error(`build-runc-wrapper: ${SHELL} contains "*/", which would end the JavaScript comment around it`);
  process.exit(1);
}
writeFileSync(BIN, `#!/bin/sh\n":" /*\n${sh.endsWith('\n') ? sh : `${sh}\n`}*/\n${js.slice(NODE_SHEBANG.length)}`);
chmodSync(BIN, 0o755);
