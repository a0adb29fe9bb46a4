// One errno vocabulary end to end (issue 20): whatever a filesystem throws, the reader
// gets the errno its error names, never a silent EIO; the dispatcher is driven with a
// plain fake filesystem, since fuse defines the interface and knows nothing of fs.
import { describe, expect, it } from 'vitest';
import { CgprocfsError, ErrorCodes, type ErrorCode } from '../../src/errors.js';
import { Errno } from '../../src/fuse/abi.js';
import { Dispatcher } from '../../src/fuse/dispatcher.js';
import { ErrnoError, type RawFilesystem } from '../../src/fuse/filesystem-api.js';
import { parseReply, req } from '../support/requests.js';

const SILENT = { debug: () => undefined, warn: () => undefined, error: () => undefined, isLevelEnabled: () => false };

/** A filesystem whose GETATTR throws `error`; nothing else is called. */
function throwing(error: unknown): RawFilesystem {
  const unused = (): never => {
    throw new Error('not called');
  };
  return {
    lookup: unused, open: unused, read: unused, release: unused, readlink: unused, opendir: unused,
    readdir: unused, access: unused, getxattr: unused, listxattr: unused, nodeCount: unused,
    getattr: () => {
      throw error;
    },
  };
}

const errnoOf = (error: unknown): number => parseReply(new Dispatcher(throwing(error), SILENT).handle(req.getattr(2n))).errno;

describe('the errno a reader sees', () => {
  it.each(Object.keys(ErrorCodes) as ErrorCode[])('is the catalogue\'s own for %s', (code) => {
    expect(errnoOf(new CgprocfsError(code, 'x'))).toBe(Errno[ErrorCodes[code].errno]);
  });

  it('is ENODEV (19), not EIO, for an error that names ENODEV', () => {
    expect(errnoOf(new CgprocfsError('NO_FUSE_DEVICE', 'x'))).toBe(19);
    expect(errnoOf(new ErrnoError('ENODEV', 'x'))).toBe(19);
  });

  it.each(Object.keys(Errno) as (keyof typeof Errno)[])('is %s for a filesystem refusal naming it', (name) => {
    expect(errnoOf(new ErrnoError(name, 'x'))).toBe(Errno[name]);
  });

  it('is EIO for anything that is no refusal (a bug)', () => {
    expect(errnoOf(new TypeError('bug'))).toBe(Errno.EIO);
  });
});
