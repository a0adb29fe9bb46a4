// What cgprocfs-runc changes in a config.json: which containers want cgprocfs (annotation,
// environment, explicit binds), and the spec with our binds appended, on the specs Docker
// 20.10 and Podman 4.3 really write. Config in, config out; the input is never changed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindsFrom, RUNC_TARGETS } from '../../../src/files/binds.js';
import { isJsonObject, parseJson, stringifyJson, type JsonObject, type JsonValue } from '../../../src/shared/lossless-json.js';
import { addBinds, readChoice, SpecShapeError } from '../../../src/oci/spec.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'oci');
const fixture = (name: string) => parseJson(readFileSync(join(FIXTURES, name), 'utf8'));
const MP = '/var/lib/cgprocfs';
const BINDS = bindsFrom(MP, RUNC_TARGETS, () => true);
const LIBRARY = { src: '/opt/cgprocfs/dist/preload/libcgprocfs-preload.so', dst: '/usr/lib/cgprocfs/libcgprocfs-preload.so' };

/** A minimal spec: a process with `env`, `annotations`, and `mounts` after the runtime's own. */
function spec({ env = [], annotations, mounts = [] }: { env?: string[]; annotations?: Record<string, string>; mounts?: object[] } = {}): JsonValue {
  return parseJson(JSON.stringify({
    ociVersion: '1.0.2-dev',
    process: { args: ['sh'], env: ['PATH=/usr/bin:/bin', ...env] },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] }, ...mounts],
    ...(annotations ? { annotations } : {}),
  }));
}

const plain = (value: JsonValue) => JSON.parse(stringifyJson(value)) as Record<string, any>;
const destinations = (value: JsonValue) => (plain(value).mounts as { destination: string }[]).map((m) => m.destination);
const envOf = (value: JsonValue) => plain(value).process.env as string[];

describe('which containers want cgprocfs', () => {
  it.each([
    ['a spec that says nothing', spec(), { wanted: true, preload: false }],
    ['Docker 20.10\'s spec', fixture('docker-20.10.json'), { wanted: true, preload: false }],
    ['Podman 4.3\'s spec', fixture('podman-4.3.json'), { wanted: true, preload: false }],
    ['annotation io.cgprocfs.enable=false', spec({ annotations: { 'io.cgprocfs.enable': 'false' } }), { wanted: false, why: 'annotation io.cgprocfs.enable=false' }],
    ['annotation io.cgprocfs.enable=0', spec({ annotations: { 'io.cgprocfs.enable': '0' } }), { wanted: false, why: 'annotation io.cgprocfs.enable=0' }],
    ['environment CGPROCFS_ENABLE=0', spec({ env: ['CGPROCFS_ENABLE=0'] }), { wanted: false, why: 'environment CGPROCFS_ENABLE=0' }],
    ['environment CGPROCFS_ENABLE=false', spec({ env: ['CGPROCFS_ENABLE=false'] }), { wanted: false, why: 'environment CGPROCFS_ENABLE=false' }],
    ['environment CGPROCFS_ENABLE=1', spec({ env: ['CGPROCFS_ENABLE=1'] }), { wanted: true, preload: false }],
    ['an annotation io.cgprocfs.enable=true', spec({ annotations: { 'io.cgprocfs.enable': 'true' } }), { wanted: true, preload: false }],
    ['a bind over /proc/meminfo of its own (explicit flags)', spec({ mounts: [{ destination: '/proc/meminfo', type: 'bind', source: '/x' }] }), { wanted: false, why: 'it binds /proc/meminfo itself' }],
    ['a bind over proc/meminfo/ written relative', spec({ mounts: [{ destination: 'proc/meminfo/', type: 'bind', source: '/x' }] }), { wanted: false, why: 'it binds /proc/meminfo itself' }],
    ['annotation io.cgprocfs.preload=true', spec({ annotations: { 'io.cgprocfs.preload': 'true' } }), { wanted: true, preload: true }],
    ['environment CGPROCFS_PRELOAD=1', spec({ env: ['CGPROCFS_PRELOAD=1'] }), { wanted: true, preload: true }],
    ['environment CGPROCFS_PRELOAD=0', spec({ env: ['CGPROCFS_PRELOAD=0'] }), { wanted: true, preload: false }],
    ['null annotations, env and mounts (Go writes null for empty)', parseJson('{"process":{"env":null},"annotations":null,"mounts":null}'), { wanted: true, preload: false }],
  ])('%s', (_, value, choice) => {
    expect(readChoice(value)).toEqual(choice);
  });

  it('takes the last of a repeated variable', () => {
    expect(readChoice(spec({ env: ['CGPROCFS_ENABLE=0', 'CGPROCFS_ENABLE=1'] }))).toEqual({ wanted: true, preload: false });
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"x"'],
    ['mounts that are not a list', '{"mounts":{}}'],
    ['a mount that is not an object', '{"mounts":[1]}'],
    ['process.env that is not a list of strings', '{"process":{"env":[1]}}'],
    ['annotations that are not an object', '{"annotations":[]}'],
  ])('refuses %s with a SpecShapeError (the container is then left as it is)', (_, text) => {
    expect(() => readChoice(parseJson(text))).toThrow(SpecShapeError);
  });
});

describe('the spec with our binds', () => {
  it('appends a read-only bind per target after the runtime\'s own /proc and /sys mounts', () => {
    const { spec: edited, bound } = addBinds(fixture('docker-20.10.json'), { binds: BINDS });
    const all = destinations(edited);
    expect(all.slice(-BINDS.length)).toEqual(BINDS.map((b) => b.dst));
    expect(all.indexOf('/proc')).toBeLessThan(all.indexOf('/proc/meminfo'));
    expect(all.indexOf('/sys')).toBeLessThan(all.indexOf('/sys/devices/system/cpu'));
    expect(bound).toEqual(BINDS.map((b) => b.dst));
    expect(plain(edited).mounts.at(-1)).toEqual({
      destination: '/sys/devices/system/node', type: 'bind', source: '/var/lib/cgprocfs/sys/devices/system/node', options: ['rbind', 'ro', 'rprivate'],
    });
  });

  it('changes nothing else in Docker\'s spec: every other value, the 2^64-1 rlimit included, stays', () => {
    const input = readFileSync(join(FIXTURES, 'docker-20.10.json'), 'utf8');
    const { spec: edited } = addBinds(parseJson(input), { binds: BINDS });
    const text = stringifyJson(edited);
    expect(text).toContain('"hard":18446744073709551615');
    const before = JSON.parse(input);
    const after = JSON.parse(text);
    after.mounts = after.mounts.slice(0, -BINDS.length);
    expect(after).toEqual(before);
  });

  it('does not change the spec it was given', () => {
    const input = fixture('podman-4.3.json');
    const text = stringifyJson(input);
    addBinds(input, { binds: BINDS, preload: LIBRARY });
    expect(stringifyJson(input)).toBe(text);
  });

  it('leaves out a target the container already mounts something at or below, which stays visible', () => {
    const value = spec({ mounts: [
      { destination: '/proc/cpuinfo', type: 'bind', source: '/mine' },
      { destination: '/sys/devices/system/cpu/online', type: 'bind', source: '/mine-too' },
    ] });
    const { bound } = addBinds(value, { binds: BINDS });
    expect(bound).toEqual(BINDS.map((b) => b.dst).filter((d) => d !== '/proc/cpuinfo' && d !== '/sys/devices/system/cpu'));
  });

  it('binds the preload library and puts it first in LD_PRELOAD, keeping the image\'s', () => {
    const { spec: edited } = addBinds(spec({ env: ['LD_PRELOAD=/lib/theirs.so'] }), { binds: BINDS, preload: LIBRARY });
    expect(destinations(edited).at(-1)).toBe(LIBRARY.dst);
    expect(envOf(edited).filter((e) => e.startsWith('LD_PRELOAD='))).toEqual([`LD_PRELOAD=${LIBRARY.dst}:/lib/theirs.so`]);
    const bind = plain(edited).mounts.at(-1);
    expect(bind.options).not.toContain('noexec');
  });

  it('sets LD_PRELOAD to the library alone when the image has none', () => {
    const { spec: edited } = addBinds(spec(), { binds: BINDS, preload: LIBRARY });
    expect(envOf(edited)).toEqual(['PATH=/usr/bin:/bin', `LD_PRELOAD=${LIBRARY.dst}`]);
  });

  it('adds no preload bind to a spec without a process (runc refuses it anyway)', () => {
    const { spec: edited } = addBinds(parseJson('{"mounts":[]}'), { binds: BINDS, preload: LIBRARY });
    expect(destinations(edited)).toEqual(BINDS.map((b) => b.dst));
    expect(isJsonObject(edited) && edited.process).toBeUndefined();
  });

  it('creates the mounts list when the spec has none', () => {
    expect(destinations(addBinds(parseJson('{}'), { binds: BINDS }).spec)).toEqual(BINDS.map((b) => b.dst));
  });

  it('is idempotent: a spec already edited gets nothing more', () => {
    const once = addBinds(spec(), { binds: BINDS, preload: LIBRARY }).spec;
    const twice = addBinds(once, { binds: BINDS, preload: LIBRARY });
    expect(twice.bound).toEqual([]);
    expect(stringifyJson(twice.spec)).toBe(stringifyJson(once as JsonObject));
    expect(readChoice(once)).toEqual({ wanted: false, why: 'it binds /proc/meminfo itself' });
  });
});
