/**
 * The M2M v1 frame (`#M2M|1|`): a header a gateway can read without the key
 * or decompressing (`inspect`), a CRC-32, and a Brotli payload, optionally
 * authenticated (HMAC-SHA256) or encrypted (ChaCha20-Poly1305). The Rust core
 * does the work; this module checks options, draws AEAD nonces from the
 * platform CSPRNG and shapes results.
 */
import { backend } from '../core/backend.js';
import { M2MError } from '../core/errors.js';
import { coreTables } from '../core/tables.js';

/** How a frame is protected. */
export type SecurityMode = 'none' | 'hmac' | 'aead';

/**
 * A frame's protection and its key: HMAC-SHA256 with a key of at least 16
 * bytes, or ChaCha20-Poly1305 with a 32-byte key. For `decompress`, the mode
 * the receiver requires: any other (weaker, stripped, or different) is
 * refused with `SECURITY_VIOLATION`.
 */
export interface FrameSecurity {
  mode: SecurityMode;
  /** The key; not needed (and refused) for `none`. */
  key?: Uint8Array;
}

const MODES: readonly SecurityMode[] = ['none', 'hmac', 'aead'];

/** The mode and key as the core takes them, after checking their shape. */
export function securityParts(security: FrameSecurity | undefined): [SecurityMode, Uint8Array | null] {
  if (security === undefined) return ['none', null];
  if (typeof security !== 'object' || security === null || !MODES.includes(security.mode)) {
    throw new M2MError('INVALID_OPTION', `security.mode must be one of ${MODES.join(', ')}`);
  }
  const { mode, key } = security;
  if (mode === 'none') {
    if (key !== undefined) throw new M2MError('INVALID_OPTION', "security mode 'none' takes no key");
    return [mode, null];
  }
  if (!(key instanceof Uint8Array)) {
    throw new M2MError('INVALID_KEY', `security mode '${mode}' needs a key (a Uint8Array)`);
  }
  return [mode, key];
}

/** A fresh nonce from the platform CSPRNG (Web Crypto, in Node and browsers). */
function nonceFor(mode: SecurityMode): Uint8Array | null {
  return mode === 'aead' ? globalThis.crypto.getRandomValues(new Uint8Array(coreTables().frame.aeadNonceBytes)) : null;
}

/** Encodes JSON as a text frame `#M2M|1|<base64>`. */
export function compressFrame(json: string, security?: FrameSecurity): string {
  const [mode, key] = securityParts(security);
  return backend().compressFrame(json, mode, key, nonceFor(mode));
}

/** Encodes JSON as a binary frame (`#M2M|1|` and the frame bytes), for binary channels. */
export function compressFrameBinary(json: string, security?: FrameSecurity): Uint8Array {
  const [mode, key] = securityParts(security);
  return backend().compressFrameBinary(json, mode, key, nonceFor(mode));
}

/** Decodes a binary frame; `security` is what the receiver requires (default: unprotected). */
export function decompressFrameBinary(bytes: Uint8Array, security?: FrameSecurity): string {
  const [mode, key] = securityParts(security);
  return backend().decompressFrameBinary(bytes, mode, key);
}

/** The readable header of a request frame. */
export interface RequestHeaderInfo {
  schema: 'request' | 'embedding-request';
  model: string;
  messageCount: number;
  /** Roles of the messages with a role the header can carry. */
  roles: ('system' | 'user' | 'assistant' | 'tool')[];
  /** UTF-8 bytes of the messages' text. */
  contentBytes: number;
  maxTokens: number | null;
  /** Estimated cost in US dollars (the sender's estimate, an f32). */
  costEstimate: number | null;
}

/** The readable header of a response frame. */
export interface ResponseHeaderInfo {
  schema: 'response' | 'embedding-response' | 'error';
  id: string;
  model: string;
  finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter' | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number | null;
  reasoningTokens: number | null;
  costEstimate: number | null;
}

/** What `inspect()` returns. */
export type FrameInfo = {
  version: 1;
  security: SecurityMode;
  /** Names of the set request or response flags (`HAS_SYSTEM_PROMPT`, `HAS_USAGE`, ...). */
  flags: string[];
  /** The payload is Brotli. */
  compressed: boolean;
  /** Bytes of fixed plus variable header. */
  headerBytes: number;
} & (RequestHeaderInfo | ResponseHeaderInfo | { schema: 'stream' | 'custom' | 'unknown' });

/**
 * Reads the routing or response header of a frame (text or binary) without
 * the key and without decompressing. In a protected frame the header is
 * authenticated, but only a receiver holding the key can check that: what
 * `inspect` returns is what the sender claims.
 */
export function inspect(wire: string | Uint8Array): FrameInfo {
  const core = backend();
  const json = typeof wire === 'string' ? core.inspectFrame(wire) : core.inspectFrameBinary(wire);
  const fields = Object.entries(JSON.parse(json) as Record<string, unknown>);
  const rank = (k: string) => (FIELD_ORDER.indexOf(k) + FIELD_ORDER.length + 1) % (FIELD_ORDER.length + 1);
  return Object.fromEntries(fields.sort(([a], [b]) => rank(a) - rank(b))) as FrameInfo;
}

/** The order `inspect` lists fields in (the core's JSON has them sorted by name). */
const FIELD_ORDER = [
  'version',
  'schema',
  'security',
  'flags',
  'compressed',
  'headerBytes',
  'id',
  'model',
  'messageCount',
  'roles',
  'contentBytes',
  'maxTokens',
  'finishReason',
  'promptTokens',
  'completionTokens',
  'cachedTokens',
  'reasoningTokens',
  'costEstimate',
];
