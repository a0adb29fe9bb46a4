// The command line: parses arguments with yargs and runs one command. Returns the exit
// code instead of exiting, so tests can drive it. Usage errors are one line on stderr
// and exit 2; CgprocfsErrors print their message and exit code; anything else is a bug
// and prints its stack.

import yargs, { type Argv } from 'yargs';
import { CgprocfsError, isCgprocfsError, reportFailure } from '../errors.js';
import { DEFAULT_MAX_OPEN_PER_CONTAINER, DEFAULT_STATE_DIR, DEFAULT_WORKERS, MAX_OPEN_PER_CONTAINER, MAX_WORKERS, type ServeConfig } from '../daemon/config.js';
import { LOG_LEVELS, type LogLevel } from '../daemon/logger.js';
import { requireRoot } from '../daemon/serve.js';
import { verifyStateDir } from '../daemon/state-dir.js';
import { runSupervisor } from '../daemon/supervisor-exec.js';
import { formatVerdicts, runChecks } from './check.js';
import { makeDockerFlagsCommand } from './docker-flags.js';
import { makeHealCommand } from './heal.js';
import { mountpointOption } from './options.js';
import { runRender } from './render.js';
import { makeUnmountCommand } from './unmount.js';
import { makeSetupCommand } from './setup/command.js';
import type { BtimePolicy, CpuCountMode } from '../render/cpu-files.js';
import { createViewService, type ResolvePolicy } from '../render/views.js';

export interface CliIo {
  stdout: (text: string | Buffer) => void;
  stderr: (text: string) => void;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function viewOptions<T>(y: Argv<T>) {
  return y
    .option('resolve', {
      choices: ['init', 'caller'] as const,
      default: 'init' as ResolvePolicy,
      describe: 'whose cgroup a reader sees: its pid namespace\'s init (like lxcfs) or its own',
    })
    .option('swap', { type: 'boolean', default: true, describe: 'report swap from the cgroup (--no-swap: none)' })
    .option('cgroup-root', { type: 'string', default: '/sys/fs/cgroup', describe: 'where the cgroup hierarchies are mounted' })
    .option('proc-root', { type: 'string', default: '/proc', describe: 'where procfs is mounted' })
    .option('sys-root', { type: 'string', default: '/sys', describe: 'where sysfs is mounted' })
    .option('cpu-count', {
      choices: ['quota', 'cpuset'] as const,
      default: 'quota' as CpuCountMode,
      describe: 'CPUs a container sees: its cpuset cut to ceil(quota/period), or the cpuset alone',
    })
    .option('btime', {
      choices: ['host', 'container'] as const,
      default: 'host' as BtimePolicy,
      describe: 'boot time in /proc/stat: the host\'s (ps STIME right) or the container\'s start (boot-time metrics right)',
    })
    .option('state-dir', { type: 'string', default: DEFAULT_STATE_DIR, describe: 'runtime state that outlives a server restart' });
}

function buildParser(argv: string[], io: CliIo, result: { code: number }): Argv {
  return yargs(argv)
    .scriptName('cgprocfs')
    .usage('$0 [command]\n\nA container-aware /proc: files rendered from each reader\'s own cgroup.')
    .command(
      ['serve', '$0'],
      'mount the tree and serve it in the foreground (root)',
      (y) =>
        viewOptions(mountpointOption(y))
          .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'pino log level' })
          .option('workers', {
            type: 'number',
            default: DEFAULT_WORKERS,
            describe: `threads serving the mount (1-${MAX_WORKERS})`,
          })
          .option('heal', { type: 'boolean', default: true, describe: 're-bind the files of containers a stopped daemon left broken (--no-heal: leave them; cgprocfs heal does it later)' })
          .option('max-open-per-container', {
            type: 'number',
            default: DEFAULT_MAX_OPEN_PER_CONTAINER,
            describe: `files one container may hold open at once; beyond, it gets EMFILE (1-${MAX_OPEN_PER_CONTAINER})`,
          })
          .check((a) => {
            if (!Number.isInteger(a.workers) || a.workers < 1 || a.workers > MAX_WORKERS) throw new Error(`--workers must be an integer from 1 to ${MAX_WORKERS}`);
            const open = a['max-open-per-container'];
            if (!Number.isInteger(open) || open < 1 || open > MAX_OPEN_PER_CONTAINER) throw new Error(`--max-open-per-container must be an integer from 1 to ${MAX_OPEN_PER_CONTAINER}`);
            return true;
          })
          .example('$0 serve', 'serve on /var/lib/cgprocfs')
          .example('$0 serve --mountpoint /run/cgprocfs --resolve caller', 'every reader sees its own cgroup'),
      async (args) => {
        const config: ServeConfig = {
          mountpoint: args.mountpoint,
          resolve: args.resolve,
          swap: args.swap,
          cgroupRoot: args['cgroup-root'],
          procRoot: args['proc-root'],
          logLevel: args['log-level'],
          workers: args.workers,
          stateDir: args['state-dir'],
          cpuCount: args['cpu-count'],
          btime: args.btime,
          sysRoot: args['sys-root'],
          heal: args.heal,
          maxOpenPerContainer: args['max-open-per-container'],
        };
        requireRoot();
        verifyStateDir(config.stateDir);
        // Build the views first: a bad --cgroup-root fails before anything is mounted.
        const layout = createViewService(config).describeLayout();
        result.code = await runSupervisor(config, layout);
      },
    )
    .command(
      'render [file]',
      'print a file as the mount renders it for a pid or a cgroup, without FUSE',
      (y) =>
        viewOptions(y)
          .positional('file', { type: 'string', describe: 'proc/meminfo, or just meminfo' })
          .option('list', { type: 'boolean', default: false, describe: 'print the names of the files, one per line' })
          .option('pid', { type: 'number', describe: 'render for this process (host pid)' })
          .option('cgroup', { type: 'string', describe: 'render for this cgroup path, e.g. /docker/<id>' })
          .conflicts('pid', 'cgroup')
          .check((a) => {
            if (a.list) return true;
            if (a.file === undefined) throw new Error('give a file name (cgprocfs render --list shows them)');
            if (a.pid === undefined && a.cgroup === undefined) throw new Error('give --pid or --cgroup');
            if (a.pid !== undefined && (!Number.isInteger(a.pid) || a.pid <= 0)) throw new Error('--pid must be a positive integer');
            return true;
          })
          .example('$0 render meminfo --pid 4242', 'what process 4242 (or its container) sees')
          .example('$0 render proc/swaps --cgroup /docker/abc', 'what that cgroup sees')
          .example('$0 render --list', 'the names of the files'),
      (args) => {
        const views = createViewService({
          cgroupRoot: args['cgroup-root'],
          procRoot: args['proc-root'],
          resolve: args.resolve,
          swap: args.swap,
          cpuCount: args['cpu-count'],
          stateDir: args['state-dir'],
          btime: args.btime,
          sysRoot: args['sys-root'],
        });
        runRender(views, { ...args, procRoot: args['proc-root'] }, io);
      },
    )
    .command(makeUnmountCommand(io.stdout))
    .command(makeHealCommand(io.stdout))
    .command(makeDockerFlagsCommand(io.stdout))
    .command(makeSetupCommand(io.stdout))
    .command(
      'check',
      'diagnose this host: FUSE, root, cgroups, swap accounting, the mount, the systemd fd store',
      (y) =>
        mountpointOption(y)
          .option('cgroup-root', { type: 'string', default: '/sys/fs/cgroup', describe: 'where the cgroup hierarchies are mounted' })
          .option('proc-root', { type: 'string', default: '/proc', describe: 'where procfs is mounted' })
          .example('$0 check', 'is this host ready, and is the mount serving?'),
      (args) => {
        const verdicts = runChecks({ mountpoint: args.mountpoint, cgroupRoot: args['cgroup-root'], procRoot: args['proc-root'] });
        io.stdout(formatVerdicts(verdicts));
        if (verdicts.some((v) => v.status === 'fail')) result.code = 1;
      },
    )
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      // yargs routes both validation failures (with a message) and errors thrown by
      // command handlers (without one) through here.
      if (isCgprocfsError(err) || !msg) throw err;
      throw new CgprocfsError('USAGE', msg.replace(/\s*\n\s*/g, ' '));
    });
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const result = { code: 0 };
  try {
    await buildParser(argv, io, result).parseAsync();
    return result.code;
  } catch (err) {
    return reportFailure(err, io.stderr);
  }
}
