// `cgprocfs heal`: what `serve` does when it starts, on demand (issue 16). Every
// container that still binds files of a dead connection of the mountpoint gets the live
// mount's files re-bound in place; one line per container, then a summary. Exit 1 when
// a container could not be healed.

import type { CommandModule } from 'yargs';
import { CgprocfsError } from '../errors.js';
import { healDeadBinds, type HealSummary, type NamespaceOutcome } from '../daemon/heal.js';
import { assertLiveMount } from '../fuse/mount.js';
import { mountpointOption } from './options.js';

function where(outcome: NamespaceOutcome): string {
  return `pid ${outcome.pid} (cgroup ${outcome.cgroup}, ${outcome.namespace})`;
}

export function formatOutcome(outcome: NamespaceOutcome): string {
  const count = outcome.healed.length;
  const beneath = outcome.healed.filter((bind) => bind.how === 'beneath').length;
  const how =
    beneath === count
      ? 'each mounted beneath the dead one, which was then detached'
      : beneath === 0
        ? 'each after detaching the dead one (the kernel refused MOVE_MOUNT_BENEATH)'
        : `${beneath} beneath the dead ones, ${count - beneath} after detaching them`;
  const lines = outcome.healed.length > 0 ? [`healed ${where(outcome)}: ${count} file${count === 1 ? "" : "s"} re-bound, ${how}`] : [];
  for (const { target, reason } of outcome.failed) lines.push(`NOT healed ${where(outcome)}: ${target}: ${reason}`);
  return lines.map((line) => `${line}\n`).join('');
}

export function formatSummary(summary: HealSummary): string {
  const holding = summary.healedNamespaces + summary.failedNamespaces;
  if (holding === 0) return `heal: no container holds files of a dead connection of ${summary.mountpoint} (${summary.namespaces} mount namespaces looked at)\n`;
  return (
    `heal: ${summary.healedNamespaces} of ${holding} mount namespaces (containers, and sandboxed services in them) healed ` +
    `(${summary.healedBinds} files re-bound, ${summary.failedBinds} not); ${summary.namespaces} looked at in ${summary.ms} ms\n`
  );
}

export function makeHealCommand(stdout: (text: string) => void): CommandModule<object, { mountpoint: string }> {
  return {
    command: 'heal',
    describe: 're-bind the live mount\'s files in containers still bound to a stopped daemon\'s (serve does it when it starts)',
    builder: (y) => mountpointOption(y).example('$0 heal', 'containers that read "Transport endpoint is not connected" read right again'),
    handler: async (args) => {
      if (process.getuid?.() !== 0) throw new CgprocfsError('NOT_ROOT', 'cgprocfs heal must run as root (it enters containers\' mount namespaces)');
      assertLiveMount(args.mountpoint);
      const summary = await healDeadBinds({ mountpoint: args.mountpoint, onNamespace: (outcome) => stdout(formatOutcome(outcome)) });
      stdout(formatSummary(summary));
      if (summary.failedNamespaces > 0) throw new CgprocfsError('MOUNT_FAILED', `${summary.failedNamespaces} mount namespaces could not be healed (see above)`);
    },
  };
}
