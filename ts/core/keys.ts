/**
 * Keys for M2M frames: HKDF-SHA256 over the reference's `KeyHierarchy` paths
 * (`m2m/v1/{org}/...`, every key derived from the master key, salt absent)
 * and X25519 agreement, computed by the Rust core. Rotating a key means
 * deriving from a new master key, org or session id on both sides.
 */
import { backend } from './backend.js';

const encoder = new TextEncoder();

/** HKDF-SHA256 (RFC 5869) with salt absent: `length` bytes for `info` from `ikm`. */
export function hkdfSha256(ikm: Uint8Array, info: string | Uint8Array, length = 32): Uint8Array {
  return backend().hkdfSha256(ikm, typeof info === 'string' ? encoder.encode(info) : info, length);
}

/** What an agent key is for (the last element of its path). */
export type KeyPurpose = 'identity' | 'encryption' | 'authentication' | 'session';

/**
 * The keys of an organisation, derived from its master key (32 bytes or
 * more). Ids are 1 to 128 characters of `A-Z a-z 0-9 _ -`.
 */
export class KeyHierarchy {
  readonly #master: Uint8Array;
  readonly #org: string;

  constructor(master: Uint8Array, org: string) {
    this.#master = master;
    this.#org = org;
    this.orgKey(); // checks the master key and the org id now
  }

  #derive(kind: string, ids: string[]): Uint8Array {
    return backend().hierarchyKey(this.#master, this.#org, kind, ids);
  }

  /** `m2m/v1/{org}`. */
  orgKey(): Uint8Array {
    return this.#derive('org', []);
  }

  /** `m2m/v1/{org}/{agent}`. */
  agentKey(agent: string): Uint8Array {
    return this.#derive('agent', [agent]);
  }

  /** `m2m/v1/{org}/{agent}/{purpose}`. */
  purposeKey(agent: string, purpose: KeyPurpose): Uint8Array {
    return this.#derive('purpose', [agent, purpose]);
  }

  /** `m2m/v1/{org}/session/{lo}:{hi}/{sessionId}`: the same key whichever agent asks. */
  sessionKey(agent: string, peer: string, sessionId: string): Uint8Array {
    return this.#derive('session', [agent, peer, sessionId]);
  }

  /** `m2m/v1/{org}/shared`. */
  sharedKey(): Uint8Array {
    return this.#derive('shared', []);
  }
}

/** An X25519 key pair; the secret comes from the platform CSPRNG unless given. */
export function x25519KeyPair(secret?: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = secret ?? globalThis.crypto.getRandomValues(new Uint8Array(32));
  return { secretKey, publicKey: backend().x25519PublicKey(secretKey) };
}

/**
 * The 32-byte session key of our secret and the peer's public key:
 * HKDF-SHA256(X25519 shared secret, "m2m-session-v1"). A low-order peer key
 * (whose shared secret anyone knows) throws `INVALID_KEY`.
 */
export function x25519SessionKey(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  return backend().x25519SessionKey(secretKey, peerPublicKey);
}

/** How a session seals its messages: ChaCha20-Poly1305, or HMAC-SHA256 when confidentiality is not wanted. */
export type SealMode = 'aead' | 'hmac';

/** The keys of one session, for one side. */
export interface SessionKeys {
  /** Seals what this side sends. */
  send: Uint8Array;
  /** Opens what the peer sends. */
  receive: Uint8Array;
  /** Proves HTTP requests on the session (the client signs, the server checks). */
  proof: Uint8Array;
  /** The server's key confirmation in ACCEPT. */
  confirm: Uint8Array;
}

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

/**
 * The one derivation of a session's keys. From our X25519 secret and the
 * peer's public key, the core's `HKDF(X25519(sk, pk), "m2m-session-v1")`;
 * with a pre-shared key (a `KeyHierarchy` session key, the same on both
 * sides), `HKDF(that || preShared, "m2m-session-v1/psk")` instead, so a
 * peer without the org's master key derives other keys. Then one key per
 * purpose and direction: `HKDF(base, "m2m-session-v1/{c2s|s2c|http|confirm}/{sessionId}")`.
 */
export function deriveSessionKeys(input: {
  secretKey: Uint8Array;
  peerPublicKey: Uint8Array;
  sessionId: string;
  role: 'client' | 'server';
  preShared?: Uint8Array;
}): SessionKeys {
  let base = x25519SessionKey(input.secretKey, input.peerPublicKey);
  if (input.preShared !== undefined) base = hkdfSha256(concat(base, input.preShared), 'm2m-session-v1/psk');
  const key = (purpose: string) => hkdfSha256(base, `m2m-session-v1/${purpose}/${input.sessionId}`);
  const c2s = key('c2s');
  const s2c = key('s2c');
  return {
    send: input.role === 'client' ? c2s : s2c,
    receive: input.role === 'client' ? s2c : c2s,
    proof: key('http'),
    confirm: key('confirm'),
  };
}

/** Seals `plaintext` as message `seq` (the core's `seal`): AEAD ciphertext and tag, or the 32-byte HMAC tag. */
export function sessionSeal(mode: SealMode, key: Uint8Array, seq: number, aad: Uint8Array, plaintext: Uint8Array) {
  return backend().sessionSeal(mode, key, seq, aad, plaintext);
}

/** Opens what {@link sessionSeal} made (HMAC: the plaintext followed by its tag); `AUTHENTICATION_FAILED` if it does not verify. */
export function sessionOpen(mode: SealMode, key: Uint8Array, seq: number, aad: Uint8Array, sealed: Uint8Array) {
  return backend().sessionOpen(mode, key, seq, aad, sealed);
}
