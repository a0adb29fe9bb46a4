// The heal as `serve` runs it: a process of its own, started by the supervisor once the
// first server serves, logging one line per container and a summary. Its own process
// because the heal looks up files of the mount (to clone them): the supervisor never
// touches the mount, and a heal stuck on it can be killed without touching anything else.

import { createLogger } from './logger.js';
import { healDeadBinds, type NamespaceOutcome } from './heal.js';
import { HEAL_INPUT_ENV, type HealInput } from './messages.js';

function methods(outcome: NamespaceOutcome): string[] {
  return [...new Set(outcome.healed.map((bind) => (bind.how === 'beneath' ? 'mounted beneath the dead bind, then detached it' : 'detached the dead bind, then mounted (no MOVE_MOUNT_BENEATH)')))];
}

async function main(): Promise<number> {
  const input = JSON.parse(process.env[HEAL_INPUT_ENV] ?? 'null') as HealInput | null;
  if (!input) throw new Error(`${HEAL_INPUT_ENV} is not set: this process is started by cgprocfs serve`);
  const log = createLogger(input.logLevel, { component: 'heal' });
  const summary = await healDeadBinds({
    mountpoint: input.mountpoint,
    legacyDevices: input.legacyDevices,
    onNamespace: (outcome) => {
      const where = { containerPid: outcome.pid, namespace: outcome.namespace, cgroup: outcome.cgroup };
      if (outcome.failed.length === 0) {
        log.info({ ...where, binds: outcome.healed.length, how: methods(outcome) }, 'healed a mount namespace (a container, or a sandboxed service in one): its files read from the live mount again');
      } else {
        log.warn({ ...where, healed: outcome.healed.map((b) => b.target), failed: outcome.failed }, 'could not heal a mount namespace: the files listed still fail until its container restarts');
      }
    },
  });
  const level = summary.failedNamespaces > 0 ? 'warn' : 'info';
  log[level]({ ...summary }, 'heal finished');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`cgprocfs heal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
