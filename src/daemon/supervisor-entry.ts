// The supervisor's own program: `cgprocfs serve` parses its arguments with the whole
// CLI, then replaces itself with this module (supervisor-exec.ts), which loads only
// what supervising needs. The CLI, yargs and the views never stay in the long-lived
// process that holds the mount (issue 22).

import { reportFailure } from '../errors.js';
import { SUPERVISOR_INPUT_ENV, type SupervisorInput } from './messages.js';
import { serve } from './serve.js';

const text = process.env[SUPERVISOR_INPUT_ENV];
// The server and heal processes it starts must not mistake themselves for a supervisor.
delete process.env[SUPERVISOR_INPUT_ENV];
try {
  if (text === undefined) throw new Error(`${SUPERVISOR_INPUT_ENV} is not set: this program is started by cgprocfs serve`);
  const { config, layout } = JSON.parse(text) as SupervisorInput;
  process.exitCode = await serve(config, layout);
} catch (err) {
  process.exitCode = reportFailure(err, (line) => process.stderr.write(line));
}
