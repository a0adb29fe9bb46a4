// The connection-level exchanges outside the request loop: the INIT handshake the
// kernel queues at mount time, and FUSE_NOTIFY_RESEND, which a server that takes over
// a live connection writes so the kernel re-sends every request a predecessor read
// and never answered (reference §4 and §7).

import { writeSync } from 'node:fs';
import { CgprocfsError, systemErrorCode } from '../errors.js';
import { Errno, NotifyCode } from './abi.js';
import { decodeRequest, encodeError, encodeInitOut, encodeNotify, encodeReply, type InitReply } from './codec.js';
import { readRequest } from './device.js';
import { negotiateInit, ProtocolVersionError } from './dispatcher.js';

/** Answers the INIT the kernel queues at mount time; returns what was agreed. */
export function handshake(fd: number): { kernelMinor: number; reply: InitReply } {
  const request = decodeRequest(readRequest(fd));
  if (request.kind !== 'init') {
    writeSync(fd, encodeError(request.header.unique, Errno.EIO));
    throw new CgprocfsError('PROTOCOL_VERSION', `expected INIT as the first request, got opcode ${request.header.opcode}`);
  }
  try {
    const reply = negotiateInit(request.major, request.minor, request.maxReadahead, request.flags);
    writeSync(fd, encodeReply(request.header.unique, encodeInitOut(reply)));
    return { kernelMinor: request.minor, reply };
  } catch (err) {
    if (!(err instanceof ProtocolVersionError)) throw err;
    writeSync(fd, encodeError(request.header.unique, Errno.EPROTO));
    throw new CgprocfsError('PROTOCOL_VERSION', err.message);
  }
}

/**
 * Asks the kernel to re-send every request that was read and not answered. Kernels
 * before 6.9 (protocol 7.40) do not know the notification and refuse it with EINVAL:
 * then readers a dead server left waiting stay blocked, and we say so.
 */
export function requestResend(fd: number): 'resent' | 'unsupported' {
  try {
    writeSync(fd, encodeNotify(NotifyCode.RESEND));
    return 'resent';
  } catch (err) {
    if (systemErrorCode(err) === 'EINVAL') return 'unsupported';
    throw err;
  }
}
