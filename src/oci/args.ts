// cgprocfs-runc's command line. Its own options come first (Docker puts a runtime's
// runtimeArgs before runc's arguments) and are removed before runc sees them. Then runc's:
// global options (Go's flag syntax: -name or --name, a value after a space or '='), the
// subcommand, the subcommand's options, the container id.

export const MOUNTPOINT_OPTION = '--cgprocfs-mountpoint';
export const RUNC_OPTION = '--runc';

export interface WrapperArgs {
  mountpoint?: string;
  runc?: string;
  /** Everything else, unchanged, for runc. */
  runcArgs: string[];
  /** An option of ours without a value (a broken registration), said in one sentence. */
  problem?: string;
}

/** Splits the leading cgprocfs-runc options from runc's arguments; an option without a value is skipped. */
export function splitWrapperArgs(argv: readonly string[]): WrapperArgs {
  const result: WrapperArgs = { runcArgs: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (name !== MOUNTPOINT_OPTION && name !== RUNC_OPTION) break;
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') result.problem = `${name} needs a value`;
    else if (name === MOUNTPOINT_OPTION) result.mountpoint = value;
    else result.runc = value;
  }
  result.runcArgs = argv.slice(i);
  return result;
}

/** runc 1.1's global options that take a value (main.go); the others are switches. */
const GLOBAL_VALUE_OPTIONS = new Set(['log', 'log-format', 'root', 'criu', 'rootless']);
/** create's and run's options that take a value besides the bundle (create.go, run.go). */
const SUBCOMMAND_VALUE_OPTIONS = new Set(['console-socket', 'pid-file', 'preserve-fds']);
const BUNDLE_OPTIONS = new Set(['b', 'bundle']);

export interface RuncCall {
  /** The subcommand (create, start, delete...); undefined for `runc --version` and the like. */
  subcommand?: string;
  /** The global --log file and its --log-format, where runc logs for the runtime that called it. */
  log?: string;
  logFormat?: string;
  /** create's and run's --bundle, when given. */
  bundle?: string;
  /** The first argument after the subcommand's options: the container id. */
  id?: string;
}

interface Option {
  name: string;
  inline: string | undefined;
}

/** `--name=value`, `-name value`...: Go's flag package takes one or two dashes. */
function optionOf(arg: string): Option | undefined {
  if (!arg.startsWith('-') || arg === '-' || arg === '--') return undefined;
  const body = arg.replace(/^--?/, '');
  const eq = body.indexOf('=');
  return eq < 0 ? { name: body, inline: undefined } : { name: body.slice(0, eq), inline: body.slice(eq + 1) };
}

/** Reads what cgprocfs-runc needs from runc's arguments. */
export function parseRuncCall(args: readonly string[]): RuncCall {
  const call: RuncCall = {};
  let i = 0;
  for (; i < args.length; i++) {
    const option = optionOf(args[i]!);
    if (option === undefined) break;
    const value = option.inline ?? (GLOBAL_VALUE_OPTIONS.has(option.name) ? args[++i] : undefined);
    if (option.name === 'log') call.log = value;
    if (option.name === 'log-format') call.logFormat = value;
  }
  if (args[i] === '--') i++;
  call.subcommand = args[i];
  for (i++; i < args.length; i++) {
    const option = optionOf(args[i]!);
    if (option === undefined) break;
    const takesValue = BUNDLE_OPTIONS.has(option.name) || SUBCOMMAND_VALUE_OPTIONS.has(option.name);
    const value = option.inline ?? (takesValue ? args[++i] : undefined);
    if (BUNDLE_OPTIONS.has(option.name)) call.bundle = value;
  }
  if (args[i] === '--') i++;
  call.id = args[i];
  return call;
}

/** The subcommands that read a bundle's config.json and make a container from it. */
export function createsContainer(call: RuncCall): boolean {
  return call.subcommand === 'create' || call.subcommand === 'run';
}
