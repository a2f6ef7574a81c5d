/**
 * Sessions with keys: the `session_security` extension of HELLO and ACCEPT,
 * sealed DATA with sequence numbers and a replay window, and the proofs
 * that HTTP requests on a keyed session carry.
 *
 * Handshake (both in `extensions.session_security`, so a peer that does not
 * know it ignores it and the session is keyless, unless a side requires it):
 *
 * ```text
 * HELLO   { modes: ["AEAD","HMAC"], public_key: b64(X25519 pk), agent?: id, required?: true }
 * ACCEPT  { mode: "AEAD"|"HMAC", public_key: b64(X25519 pk), agent?: id, confirm: b64(tag) }
 * ```
 *
 * Both derive the session's keys with `deriveSessionKeys` (core/keys.ts, the
 * one derivation); with a pre-shared org master key both also mix in the
 * `KeyHierarchy` session key of the two agents and the session id. `confirm`
 * is an HMAC over both public keys and the session id with the confirmation
 * key: a client whose keys differ (a man in the middle when keys are
 * pre-shared, a wrong master key) refuses the ACCEPT with
 * `AUTHENTICATION_FAILED`.
 *
 * Sealed DATA: `payload.seal = { seq, tag? }`. AEAD: the content (or a
 * binary frame's body) is replaced by its ChaCha20-Poly1305 encryption
 * (base64 in text frames); HMAC: content stays, `tag` is its HMAC-SHA256.
 * The associated data covers the session id, timestamp, algorithm,
 * `original_size` and `security_status`; the sequence number is the nonce.
 * Each direction has its own key and counts from 1. The receiver refuses a
 * number already seen (`REPLAY_DETECTED`), one more than
 * {@link REPLAY_WINDOW} behind the highest (`SEQUENCE_OUT_OF_WINDOW`), a
 * failed tag (`AUTHENTICATION_FAILED`) and unsealed DATA
 * (`SECURITY_VIOLATION`); none of these ends the session, and a refused
 * message does not move the window.
 */
import { M2MError } from '../core/errors.js';
import {
  deriveSessionKeys,
  KeyHierarchy,
  type SealMode,
  type SessionKeys,
  sessionOpen,
  sessionSeal,
  x25519KeyPair,
} from '../core/keys.js';
import { base64Decode, base64Encode } from '../core/wire.js';
import type { DataMessage, DataPayload } from './messages.js';

/** How many sequence numbers behind the highest one received are still accepted (once each). */
export const REPLAY_WINDOW = 64;

/** The extension key in HELLO and ACCEPT. */
export const SESSION_SECURITY_EXTENSION = 'session_security';

const WIRE_MODE: Readonly<Record<SealMode, string>> = { aead: 'AEAD', hmac: 'HMAC' };
const MODE_BY_WIRE = new Map(Object.entries(WIRE_MODE).map(([k, v]) => [v, k as SealMode]));

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const AGENT = /^[A-Za-z0-9_-]{1,128}$/;

/** A pre-shared org master key (the `KeyHierarchy`) and this side's agent id. */
export interface PreSharedKey {
  /** The org's master key, 32 bytes or more: from a file or the environment (`readKeyMaterial`), never a flag. */
  master: Uint8Array;
  org: string;
  agent: string;
}

/** What one side wants of session security. */
export interface SessionSecurityPolicy {
  /** Modes offered (client: in order of preference) or accepted (server). Default `['aead', 'hmac']`; `[]` offers none. */
  modes?: SealMode[];
  /** Refuse a peer that does not offer (server) or accept (client) security. Default false; true with a pre-shared key. */
  require?: boolean;
  /** Pin identities with an org master key: both sides must hold it. */
  preShared?: PreSharedKey;
}

/** A receive window: the highest number seen and a bitmap of the {@link REPLAY_WINDOW} below it. Plain JSON. */
export interface ReplayWindow {
  max: number;
  /** Bit i set: `max - i` was received (hex of a 64-bit mask). */
  seen: string;
}

/** A keyed session's state on one side. Plain JSON data (a session store keeps it). */
export interface SealState {
  mode: SealMode;
  /** Base64 keys (see `SessionKeys`). */
  send: string;
  receive: string;
  proof: string;
  /** The last number this side sealed. */
  sent: number;
  received: ReplayWindow;
  /** Client: the last proof number used. Server: the window of proofs received. */
  proofsSent: number;
  proofs: ReplayWindow;
}

/** The `session_security` extension of a HELLO or ACCEPT, as received (unchecked shape). */
type Extension = Record<string, unknown>;

function checkModes(modes: readonly string[] | undefined): SealMode[] {
  const list = modes ?? ['aead', 'hmac'];
  if (!Array.isArray(list)) throw new M2MError('INVALID_OPTION', 'session security modes must be an array');
  for (const m of list) {
    if (m !== 'aead' && m !== 'hmac') throw new M2MError('INVALID_OPTION', `unknown session security mode ${m}`);
  }
  return [...new Set(list as SealMode[])];
}

/** Checks a policy given as an option and fills in defaults. */
export function resolveSecurityPolicy(policy: SessionSecurityPolicy | false | undefined): Required<
  Omit<SessionSecurityPolicy, 'preShared'>
> & {
  preShared?: PreSharedKey;
} {
  if (policy === false) return { modes: [], require: false };
  const modes = checkModes(policy?.modes);
  const preShared = policy?.preShared;
  if (preShared !== undefined) {
    if (!(preShared.master instanceof Uint8Array) || preShared.master.length < 32) {
      throw new M2MError('INVALID_KEY', 'a pre-shared master key is a Uint8Array of 32 bytes or more');
    }
    if (!AGENT.test(preShared.agent ?? '') || !AGENT.test(preShared.org ?? '')) {
      throw new M2MError('INVALID_OPTION', 'pre-shared key org and agent ids are 1 to 128 of A-Z a-z 0-9 _ -');
    }
    if (modes.length === 0) throw new M2MError('INVALID_OPTION', 'a pre-shared key needs a session security mode');
  }
  const require = policy?.require ?? preShared !== undefined;
  if (require && modes.length === 0) {
    throw new M2MError('INVALID_OPTION', 'requiring session security needs at least one mode');
  }
  return { modes, require, ...(preShared ? { preShared } : {}) };
}

type Policy = ReturnType<typeof resolveSecurityPolicy>;

/** The client's offer for HELLO's extensions, or undefined when it offers nothing. */
export function helloSecurity(policy: Policy, publicKey: Uint8Array): Extension | undefined {
  if (policy.modes.length === 0) return undefined;
  const ext: Extension = { modes: policy.modes.map((m) => WIRE_MODE[m]), public_key: base64Encode(publicKey) };
  if (policy.preShared) ext.agent = policy.preShared.agent;
  if (policy.require) ext.required = true;
  return ext;
}

function publicKeyOf(ext: Extension, who: string): Uint8Array {
  const text = ext.public_key;
  let key: Uint8Array | undefined;
  if (typeof text === 'string' && text.length === 44) {
    try {
      key = base64Decode(text);
    } catch {
      key = undefined;
    }
  }
  if (key?.length !== 32)
    throw new M2MError('INVALID_MESSAGE', `${who} session_security.public_key is not 32 bytes of base64`);
  return key;
}

function agentOf(ext: Extension, who: string): string | undefined {
  if (ext.agent === undefined) return undefined;
  if (typeof ext.agent !== 'string' || !AGENT.test(ext.agent)) {
    throw new M2MError('INVALID_MESSAGE', `${who} session_security.agent is not a valid id`);
  }
  return ext.agent;
}

function extensionOf(extensions: Record<string, unknown> | undefined): Extension | undefined {
  const ext = extensions?.[SESSION_SECURITY_EXTENSION];
  if (ext === undefined) return undefined;
  if (typeof ext !== 'object' || ext === null || Array.isArray(ext)) {
    throw new M2MError('INVALID_MESSAGE', 'extensions.session_security must be an object');
  }
  return ext as Extension;
}

function preSharedKey(psk: PreSharedKey | undefined, peerAgent: string | undefined, sessionId: string) {
  if (psk === undefined) return undefined;
  if (peerAgent === undefined) {
    throw new M2MError(
      'SECURITY_DOWNGRADE',
      'this side pins identities with a pre-shared key; the peer named no agent',
    );
  }
  return new KeyHierarchy(psk.master, psk.org).sessionKey(psk.agent, peerAgent, sessionId);
}

function confirmTag(keys: SessionKeys, clientPk: Uint8Array, serverPk: Uint8Array, sessionId: string): Uint8Array {
  const aad = encoder.encode(`m2m-session-v1/accept/${sessionId}`);
  const transcript = new Uint8Array(64);
  transcript.set(clientPk);
  transcript.set(serverPk, 32);
  return sessionSeal('hmac', keys.confirm, 1, aad, transcript);
}

/** The seal state a session starts with: its keys, no message sent or received. */
export function newState(mode: SealMode, keys: SessionKeys): SealState {
  return {
    mode,
    send: base64Encode(keys.send),
    receive: base64Encode(keys.receive),
    proof: base64Encode(keys.proof),
    sent: 0,
    received: { max: 0, seen: '0' },
    proofsSent: 0,
    proofs: { max: 0, seen: '0' },
  };
}

/** What the server decided about a HELLO's security. */
export type ServerSecurity =
  | { ok: true; keyed: false }
  | { ok: true; keyed: true; mode: SealMode; peerPublicKey: Uint8Array; peerAgent?: string }
  | { ok: false; message: string };

/** The server side: which mode, if any, a HELLO gets; a refusal is REJECT SECURITY_POLICY. */
export function negotiateSecurity(extensions: Record<string, unknown> | undefined, policy: Policy): ServerSecurity {
  const ext = extensionOf(extensions);
  if (ext === undefined || policy.modes.length === 0) {
    if (policy.require) return { ok: false, message: 'this server requires session security (session_security)' };
    if (ext?.required === true) return { ok: false, message: 'this server offers no session security' };
    return { ok: true, keyed: false };
  }
  const offered = Array.isArray(ext.modes) ? ext.modes.map((m) => MODE_BY_WIRE.get(String(m))) : [];
  const mode = offered.find((m): m is SealMode => m !== undefined && policy.modes.includes(m));
  if (mode === undefined) {
    if (policy.require || ext.required === true) {
      return {
        ok: false,
        message: `no session security mode in common (the server accepts ${policy.modes.join(', ')})`,
      };
    }
    return { ok: true, keyed: false };
  }
  const peerPublicKey = publicKeyOf(ext, 'HELLO');
  const peerAgent = agentOf(ext, 'HELLO');
  if (policy.preShared && peerAgent === undefined) {
    return { ok: false, message: 'this server pins identities: session_security.agent is required' };
  }
  return { ok: true, keyed: true, mode, peerPublicKey, ...(peerAgent ? { peerAgent } : {}) };
}

/** The server's ACCEPT extension and its state, once the session id is known. */
export function acceptSecurity(
  decided: Extract<ServerSecurity, { keyed: true }>,
  policy: Policy,
  sessionId: string,
): { extension: Extension; state: SealState } {
  const pair = x25519KeyPair();
  const keys = deriveSessionKeys({
    secretKey: pair.secretKey,
    peerPublicKey: decided.peerPublicKey,
    sessionId,
    role: 'server',
    ...(policy.preShared ? { preShared: preSharedKey(policy.preShared, decided.peerAgent, sessionId) } : {}),
  });
  const extension: Extension = {
    mode: WIRE_MODE[decided.mode],
    public_key: base64Encode(pair.publicKey),
    confirm: base64Encode(confirmTag(keys, decided.peerPublicKey, pair.publicKey, sessionId)),
  };
  if (policy.preShared) extension.agent = policy.preShared.agent;
  return { extension, state: newState(decided.mode, keys) };
}

/**
 * The client side: the state of a keyed session from the ACCEPT's
 * extension, or undefined for a keyless one. A required security the server
 * did not accept is `SECURITY_DOWNGRADE`; a confirmation that does not
 * verify is `AUTHENTICATION_FAILED`.
 */
export function securityFromAccept(
  extensions: Record<string, unknown> | undefined,
  policy: Policy,
  pair: { secretKey: Uint8Array; publicKey: Uint8Array } | undefined,
  sessionId: string,
): SealState | undefined {
  const ext = extensionOf(extensions);
  if (ext === undefined) {
    if (policy.require) {
      throw new M2MError(
        'SECURITY_DOWNGRADE',
        'the server accepted without session security, which this client requires',
      );
    }
    return undefined;
  }
  const mode = MODE_BY_WIRE.get(String(ext.mode));
  if (pair === undefined || mode === undefined || !policy.modes.includes(mode)) {
    throw new M2MError(
      'INVALID_MESSAGE',
      `ACCEPT names session security ${JSON.stringify(ext.mode)}, which was not offered`,
    );
  }
  const serverPk = publicKeyOf(ext, 'ACCEPT');
  const keys = deriveSessionKeys({
    secretKey: pair.secretKey,
    peerPublicKey: serverPk,
    sessionId,
    role: 'client',
    ...(policy.preShared ? { preShared: preSharedKey(policy.preShared, agentOf(ext, 'ACCEPT'), sessionId) } : {}),
  });
  let confirm: Uint8Array | undefined;
  try {
    confirm = typeof ext.confirm === 'string' ? base64Decode(ext.confirm) : undefined;
  } catch {
    confirm = undefined;
  }
  const transcript = new Uint8Array(64);
  transcript.set(pair.publicKey);
  transcript.set(serverPk, 32);
  const sealed = new Uint8Array(64 + (confirm?.length ?? 0));
  sealed.set(transcript);
  if (confirm) sealed.set(confirm, 64);
  sessionOpen('hmac', keys.confirm, 1, encoder.encode(`m2m-session-v1/accept/${sessionId}`), sealed);
  return newState(mode, keys);
}

// ---------------------------------------------------------------------------
// The replay window

/** Throws unless `seq` may be accepted by `window` (does not change it). */
export function checkSequence(window: ReplayWindow, seq: number, what = 'DATA'): void {
  if (!Number.isSafeInteger(seq) || seq < 1)
    throw new M2MError('INVALID_MESSAGE', `${what} sequence number ${seq} is not valid`);
  if (seq > window.max) return;
  const behind = window.max - seq;
  if (behind >= REPLAY_WINDOW) {
    throw new M2MError(
      'SEQUENCE_OUT_OF_WINDOW',
      `${what} number ${seq} is ${behind} behind the highest received (window ${REPLAY_WINDOW})`,
    );
  }
  if ((BigInt(`0x${window.seen}`) >> BigInt(behind)) & 1n) {
    throw new M2MError('REPLAY_DETECTED', `${what} number ${seq} was already received`);
  }
}

/** `window` with `seq` marked as received (call after {@link checkSequence} and authentication). */
export function markSequence(window: ReplayWindow, seq: number): ReplayWindow {
  const mask = (1n << BigInt(REPLAY_WINDOW)) - 1n;
  let seen = BigInt(`0x${window.seen}`);
  if (seq > window.max) {
    const shift = seq - window.max;
    seen = shift >= REPLAY_WINDOW ? 1n : ((seen << BigInt(shift)) | 1n) & mask;
    return { max: seq, seen: seen.toString(16) };
  }
  seen |= 1n << BigInt(window.max - seq);
  return { max: window.max, seen: seen.toString(16) };
}

// ---------------------------------------------------------------------------
// Sealed DATA

function dataAad(sessionId: string | null, message: Pick<DataMessage, 'timestamp'>, p: DataPayload, binary: boolean) {
  const s = p.security_status;
  return encoder.encode(
    JSON.stringify([
      'm2m-data-v1',
      sessionId,
      message.timestamp,
      p.algorithm,
      p.original_size ?? null,
      binary,
      s ? [s.scanned, s.safe, s.threat_type ?? null, s.confidence ?? null, s.details ?? null] : null,
    ]),
  );
}

/**
 * Seals an encoded DATA payload (and its binary body, if it travels as a
 * binary frame) as this side's next message. Mutates `state.sent`.
 */
export function sealData(
  state: SealState,
  sessionId: string,
  timestamp: number,
  payload: DataPayload,
  binary?: Uint8Array,
): { payload: DataPayload; binary?: Uint8Array } {
  const seq = state.sent + 1;
  const key = base64Decode(state.send);
  const aad = dataAad(sessionId, { timestamp }, payload, binary !== undefined);
  const plaintext = binary ?? encoder.encode(payload.content);
  const sealed = sessionSeal(state.mode, key, seq, aad, plaintext);
  state.sent = seq;
  if (state.mode === 'hmac') {
    return { payload: { ...payload, seal: { seq, tag: base64Encode(sealed) } }, ...(binary ? { binary } : {}) };
  }
  if (binary !== undefined) return { payload: { ...payload, seal: { seq } }, binary: sealed };
  return { payload: { ...payload, content: base64Encode(sealed), seal: { seq } } };
}

/**
 * Checks and opens received DATA of a keyed session; returns the payload
 * (and binary body) as sent before sealing. Mutates `state.received` only
 * when the message is authentic and new.
 */
export function openData(
  state: SealState,
  message: DataMessage,
  binary?: Uint8Array,
): { payload: DataPayload; binary?: Uint8Array } {
  const { seal, ...payload } = message.payload;
  if (seal === undefined) {
    throw new M2MError('SECURITY_VIOLATION', 'unsealed DATA in a session that negotiated security: refused');
  }
  checkSequence(state.received, seal.seq);
  const key = base64Decode(state.receive);
  const aad = dataAad(message.session_id, message, payload, binary !== undefined);
  let body: Uint8Array;
  if (state.mode === 'hmac') {
    let tag: Uint8Array;
    try {
      tag = base64Decode(seal.tag ?? '');
    } catch {
      throw new M2MError('AUTHENTICATION_FAILED', 'the DATA tag is not base64');
    }
    const data = binary ?? encoder.encode(payload.content);
    body = new Uint8Array(data.length + tag.length);
    body.set(data);
    body.set(tag, data.length);
  } else if (binary !== undefined) {
    body = binary;
  } else {
    try {
      body = base64Decode(payload.content);
    } catch {
      throw new M2MError('AUTHENTICATION_FAILED', 'sealed DATA content is not base64');
    }
  }
  const plaintext = sessionOpen(state.mode, key, seal.seq, aad, body);
  state.received = markSequence(state.received, seal.seq);
  if (binary !== undefined) return { payload: { ...payload, content: '' }, binary: plaintext };
  if (state.mode === 'hmac') return { payload };
  let content: string;
  try {
    content = decoder.decode(plaintext);
  } catch {
    throw new M2MError('INVALID_MESSAGE', 'sealed DATA content is not UTF-8');
  }
  return { payload: { ...payload, content } };
}

// ---------------------------------------------------------------------------
// HTTP proofs

/** The header an HTTP request on a keyed session carries: `<seq>.<base64 HMAC>`. */
export const PROOF_HEADER = 'm2m-session-proof';

function proofAad(method: string, path: string): Uint8Array {
  return encoder.encode(`m2m-http-v1\n${method.toUpperCase()}\n${path}`);
}

/** The client's proof for one request (method, path without query, body). Mutates `state.proofsSent`. */
export function proveRequest(state: SealState, method: string, path: string, body: string): string {
  const seq = state.proofsSent + 1;
  const tag = sessionSeal('hmac', base64Decode(state.proof), seq, proofAad(method, path), encoder.encode(body));
  state.proofsSent = seq;
  return `${seq}.${base64Encode(tag)}`;
}

/**
 * The server's check of a request's proof; `NOT_SESSION_OWNER` when it is
 * missing or does not verify, the replay codes when reused. Mutates
 * `state.proofs` when it verifies.
 */
export function checkRequestProof(
  state: SealState,
  header: string | undefined,
  method: string,
  path: string,
  body: string,
): void {
  const match = /^([1-9][0-9]{0,15})\.([A-Za-z0-9+/]{43}=)$/.exec(header ?? '');
  if (!match) {
    throw new M2MError('NOT_SESSION_OWNER', `this session is keyed: the request needs a valid ${PROOF_HEADER} header`);
  }
  const seq = Number(match[1]);
  checkSequence(state.proofs, seq, 'request proof');
  const data = encoder.encode(body);
  const tag = base64Decode(match[2] as string);
  const sealed = new Uint8Array(data.length + tag.length);
  sealed.set(data);
  sealed.set(tag, data.length);
  try {
    sessionOpen('hmac', base64Decode(state.proof), seq, proofAad(method, path), sealed);
  } catch {
    throw new M2MError('NOT_SESSION_OWNER', 'the request does not prove it holds the session key');
  }
  state.proofs = markSequence(state.proofs, seq);
}
