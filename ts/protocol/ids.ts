import { M2MError } from '../core/errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Bytes at or above this value are discarded so that `byte % 62` is uniform (248 = 4 × 62). */
const REJECT_FROM = 256 - (256 % ALPHABET.length);

/** Session ids this implementation issues: `sess_` and 20 alphanumerics (spec §6.4.1). */
export const SESSION_ID_PATTERN = /^sess_[A-Za-z0-9]{20}$/;

/** Session ids accepted from peers: other implementations may issue shorter ones (the spec's examples do). */
export const PEER_SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (typeof crypto?.getRandomValues !== 'function') {
    throw new M2MError('INTERNAL_ERROR', 'no cryptographically secure random source (globalThis.crypto) is available');
  }
  crypto.getRandomValues(bytes);
  return bytes;
}

/**
 * A new random session id: `sess_` followed by 20 characters drawn uniformly
 * from [A-Za-z0-9] with a CSPRNG (rejection sampling, no modulo bias), about
 * 119 bits of entropy.
 */
export function generateSessionId(): string {
  let id = 'sess_';
  while (id.length < 25) {
    for (const byte of randomBytes(32)) {
      if (byte >= REJECT_FROM) continue;
      id += ALPHABET[byte % ALPHABET.length];
      if (id.length === 25) break;
    }
  }
  return id;
}
