// The handle store's refusals, which the filesystem turns into errno: a full store
// (ENFILE) and a container beyond its share (EMFILE, issue 17).

import type { Holding, ShareLimits } from './shares.js';

/** Raised when the store has no slot or no arena room left. */
export class StoreFullError extends Error {}

/** Raised when a container would hold more than its share; says what it holds. */
export class ShareExceededError extends Error {
  constructor(readonly held: Holding, readonly limits: ShareLimits) {
    super(`this container holds ${held.handles} open files (${held.pages} pages of renderings); its share is ${limits.ownerHandles}`);
  }
}
