// cgprocfs-runc's command line, on the argument lists the engines here really pass
// (captured from Docker 20.10's shim, Podman 4.3's conmon and ctr 1.6): its own options
// come off the front, runc's subcommand, --log, --bundle and id are found past runc's
// global options in Go's flag syntax.
import { describe, expect, it } from 'vitest';
import { createsContainer, parseRuncCall, splitWrapperArgs } from '../../../src/oci/args.js';

const ID = '69ba54dcef6c1c90a41bb3e44b2d039985ba4aea8aa8b6fc2b78f90a08455deb';
const TASK = `/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/${ID}`;
const DOCKER_GLOBAL = ['--root', '/run/docker/runtime-runc/moby', '--log', `${TASK}/log.json`, '--log-format', 'json'];

describe('the wrapper\'s own options', () => {
  it.each([
    ['none', ['start', ID], { runcArgs: ['start', ID] }],
    ['--cgprocfs-mountpoint DIR (Docker runtimeArgs)', ['--cgprocfs-mountpoint', '/run/cg', 'start', ID], { mountpoint: '/run/cg', runcArgs: ['start', ID] }],
    ['--runc=PATH and --cgprocfs-mountpoint=DIR', ['--runc=/usr/bin/crun', '--cgprocfs-mountpoint=/run/cg', ...DOCKER_GLOBAL, 'delete', ID], {
      mountpoint: '/run/cg', runc: '/usr/bin/crun', runcArgs: [...DOCKER_GLOBAL, 'delete', ID],
    }],
    ['a later one winning', ['--runc', '/a', '--runc', '/b', 'state', ID], { runc: '/b', runcArgs: ['state', ID] }],
  ])('%s', (_, argv, expected) => {
    expect(splitWrapperArgs(argv)).toEqual(expected);
  });

  it('leaves options of ours that come after runc\'s arguments to runc', () => {
    expect(splitWrapperArgs(['start', '--runc', '/x'])).toEqual({ runcArgs: ['start', '--runc', '/x'] });
  });

  it.each([
    ['at the end', ['--cgprocfs-mountpoint'], []],
    ['empty', ['--runc=', 'start', ID], ['start', ID]],
  ])('says so, and passes the rest on, for an option without a value %s', (_, argv, rest) => {
    const split = splitWrapperArgs(argv);
    expect(split.problem).toMatch(/needs a value$/);
    expect(split.runcArgs).toEqual(rest);
  });
});

describe('runc\'s arguments', () => {
  it('reads Docker\'s create: global --root/--log/--log-format, then --bundle and --pid-file', () => {
    const call = parseRuncCall([...DOCKER_GLOBAL, 'create', '--bundle', TASK, '--pid-file', `${TASK}/init.pid`, ID]);
    expect(call).toEqual({ subcommand: 'create', log: `${TASK}/log.json`, logFormat: 'json', bundle: TASK, id: ID });
    expect(createsContainer(call)).toBe(true);
  });

  it('reads Podman\'s (conmon\'s) create, without global options', () => {
    const bundle = `/var/lib/containers/storage/overlay-containers/${ID}/userdata`;
    expect(parseRuncCall(['create', '--bundle', bundle, '--pid-file', '/run/x/pidfile', ID])).toEqual({ subcommand: 'create', bundle, id: ID });
  });

  it.each([
    ['-b DIR', ['run', '-b', '/b', 'x'], '/b'],
    ['--bundle=DIR', ['run', '--bundle=/b', 'x'], '/b'],
    ['-bundle DIR (one dash, as Go allows)', ['create', '-bundle', '/b', 'x'], '/b'],
    ['--console-socket before -b', ['create', '--console-socket', '/s', '-b', '/b', 'x'], '/b'],
    ['no bundle (the working directory)', ['create', '--pid-file', '/p', 'x'], undefined],
  ])('finds the bundle given as %s', (_, args, bundle) => {
    const call = parseRuncCall(args);
    expect(call.bundle).toBe(bundle);
    expect(call.id).toBe('x');
  });

  it.each([
    ['--debug --systemd-cgroup switches', ['--debug', '--systemd-cgroup', 'create', 'x'], 'create'],
    ['-root=DIR (one dash, inline value)', ['-root=/r', 'run', 'x'], 'run'],
    ['--log-format text', ['--log-format', 'text', 'start', 'create'], 'start'],
    ['a -- before the subcommand', ['--root', '/r', '--', 'create', 'x'], 'create'],
    ['--version (no subcommand)', ['--version'], undefined],
  ])('finds the subcommand past %s', (_, args, subcommand) => {
    expect(parseRuncCall(args).subcommand).toBe(subcommand);
  });

  it('does not take a container named "create" for the create subcommand', () => {
    const call = parseRuncCall([...DOCKER_GLOBAL, 'delete', '--force', 'create']);
    expect(call).toMatchObject({ subcommand: 'delete', id: 'create' });
    expect(createsContainer(call)).toBe(false);
  });

  it.each(['start', 'delete', 'state', 'kill', 'exec', 'features', 'ps', 'update', 'pause'])('passes %s through untouched', (subcommand) => {
    expect(createsContainer(parseRuncCall([subcommand, ID]))).toBe(false);
  });
});
