import { describe, expect, it } from 'vitest';
import { listenedFds } from '../../../src/daemon/systemd.js';

describe('listenedFds', () => {
  it('names the descriptors systemd passed to this pid, from fd 3, and leaves the environment as it was', () => {
    const env = { LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'fuse:other' };
    expect(listenedFds(env, 42)).toEqual([3, 4]);
    expect(env).toEqual({ LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'fuse:other' });
  });

  it.each([
    ['another process', { LISTEN_PID: '7', LISTEN_FDS: '1' }],
    ['no count', { LISTEN_PID: '42' }],
    ['a count that is not a number', { LISTEN_PID: '42', LISTEN_FDS: 'x' }],
    ['nothing from systemd', {}],
  ])('names none when the variables are for %s', (_, env) => {
    expect(listenedFds(env, 42)).toEqual([]);
  });
});
