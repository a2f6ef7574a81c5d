/**
 * The one error class of m2m. Every failure — from the native addon, the wasm
 * module or the TypeScript layer — is an `M2MError` with a stable `code`
 * from {@link ERROR_CODES}.
 */

/** Where an error code comes from. */
export type ErrorScope = 'core' | 'backend' | 'codec' | 'security' | 'session' | 'client' | 'server' | 'cli';

/** What the registry says of one code. */
export interface ErrorInfo {
  /** The HTTP status the server answers with. */
  readonly status: number;
  readonly scope: ErrorScope;
  /** One line on what it means (the README's error table shows it). */
  readonly summary: string;
}

/**
 * Every error code, once: its HTTP status, where it comes from and what it
 * means. The server's error mapping and the README's error table read it;
 * `scope: 'core'` codes are those the Rust core raises (test/errors.test.ts
 * checks them against `crates/m2m-core/src/error.rs`).
 */
export const ERROR_CODES = {
  TRUNCATED_VARINT: { status: 400, scope: 'core', summary: 'the input ends inside a varint' },
  VARINT_OVERFLOW: { status: 400, scope: 'core', summary: 'a varint is longer than 5 bytes or exceeds 2^32-1' },
  NON_CANONICAL_VARINT: { status: 400, scope: 'core', summary: 'a varint carries needless zero groups' },
  INVALID_BASE64: { status: 400, scope: 'core', summary: 'the text is not standard padded base64' },
  INVALID_BASE85: { status: 400, scope: 'core', summary: 'the payload of a `#BD|` or `#BH|` message is not base85' },
  UNKNOWN_TOKENIZER: {
    status: 400,
    scope: 'core',
    summary: 'a tokenizer id or encoding name the protocol does not define',
  },
  MISSING_SEPARATOR: { status: 400, scope: 'core', summary: 'a `|` the wire format requires is missing' },
  INVALID_PREFIX: { status: 400, scope: 'core', summary: 'the content does not start with the expected prefix' },
  CONTENT_TOO_LARGE: { status: 413, scope: 'core', summary: 'the content exceeds a size limit (the message names it)' },
  UNKNOWN_TOKEN: { status: 400, scope: 'core', summary: 'a token id the encoding does not define' },
  INVALID_UTF8: { status: 400, scope: 'core', summary: 'invalid UTF-8, or a string with a lone surrogate' },
  ENCODING_NOT_LOADED: { status: 500, scope: 'core', summary: "the encoding's rank data is not loaded" },
  RANK_DATA_CORRUPT: { status: 500, scope: 'core', summary: 'rank data does not match its checksum' },
  MODEL_DATA_CORRUPT: {
    status: 500,
    scope: 'core',
    summary: "the scanner classifier's weights do not match their checksum",
  },
  COMPRESSION_FAILED: { status: 500, scope: 'core', summary: 'the compressor failed' },
  DECOMPRESSION_FAILED: { status: 400, scope: 'core', summary: 'the payload does not decompress' },
  UNSUPPORTED_ALGORITHM: { status: 400, scope: 'core', summary: 'an algorithm name m2m does not know' },
  INVALID_OPTION: { status: 400, scope: 'core', summary: 'an option or argument has a wrong type or value' },
  UNSUPPORTED_VERSION: { status: 400, scope: 'core', summary: 'an `#M2M|<n>|` frame of a version other than 1' },
  INVALID_FRAME: {
    status: 400,
    scope: 'core',
    summary: 'a broken M2M frame: truncated, inconsistent lengths, unknown security byte, trailing bytes',
  },
  CHECKSUM_MISMATCH: { status: 400, scope: 'core', summary: "an M2M frame's CRC-32 does not match its content" },
  AUTHENTICATION_FAILED: {
    status: 401,
    scope: 'core',
    summary: "an M2M frame's HMAC or AEAD tag does not verify: altered, or the wrong key",
  },
  INVALID_KEY: { status: 400, scope: 'core', summary: 'a frame key or X25519 key of the wrong size or form' },
  DICTIONARY_UNAVAILABLE: {
    status: 422,
    scope: 'core',
    summary: 'a `#BD|` message names a trained dictionary (id, version, hash) the receiver does not have',
  },
  DICTIONARY_CORRUPT: { status: 500, scope: 'core', summary: 'a trained dictionary file is malformed' },
  HISTORY_MISMATCH: {
    status: 409,
    scope: 'core',
    summary: 'session DATA from a history state the receiver is not in (a lost message); the sender resets',
  },
  UNKNOWN_MODEL: {
    status: 400,
    scope: 'codec',
    summary: 'a model the registry does not know (pass an encoding or a fallback)',
  },
  INVALID_JSON: {
    status: 400,
    scope: 'core',
    summary: 'the content is not JSON where JSON is required (T1, M2M frames), or breaks a JSON limit',
  },
  INVALID_TOKEN_ID: { status: 400, scope: 'codec', summary: 'a token id that is not an integer in range' },
  AMBIGUOUS_PASSTHROUGH: {
    status: 400,
    scope: 'codec',
    summary: 'passthrough was asked for content that starts with an M2M prefix',
  },
  BACKEND_UNAVAILABLE: {
    status: 500,
    scope: 'backend',
    summary: 'neither the native addon nor the wasm module could be loaded',
  },
  RANK_DATA_UNAVAILABLE: { status: 500, scope: 'backend', summary: 'rank data could not be read or fetched' },
  INTERNAL_ERROR: { status: 500, scope: 'backend', summary: 'a bug: the original error is the `cause`' },
  SECURITY_VIOLATION: {
    status: 422,
    scope: 'core',
    summary:
      'blocking mode found a threat (details list the threats), or a message is not protected as the receiver requires',
  },
  SECURITY_SCAN_FAILED: { status: 500, scope: 'security', summary: 'the security scan itself failed' },
  INVALID_MESSAGE: { status: 400, scope: 'session', summary: 'a session message is malformed' },
  MESSAGE_TOO_LARGE: { status: 413, scope: 'session', summary: 'a session message exceeds the message size limit' },
  INVALID_STATE: { status: 409, scope: 'session', summary: "the message is not valid in the session's state" },
  SESSION_MISMATCH: { status: 400, scope: 'session', summary: 'the message names another session' },
  TIMESTAMP_SKEW: {
    status: 400,
    scope: 'session',
    summary: "the message's timestamp is too far from the receiver's clock",
  },
  UNKNOWN_SESSION: { status: 404, scope: 'session', summary: 'no such session' },
  SESSION_LOST: {
    status: 410,
    scope: 'session',
    summary: 'the session was lost when its store restarted without persistence; start a new one',
  },
  NOT_SESSION_OWNER: {
    status: 403,
    scope: 'session',
    summary:
      'a request on a session that does not prove it holds the session key (keyless sessions: from another client address)',
  },
  REPLAY_DETECTED: {
    status: 409,
    scope: 'session',
    summary: 'sealed DATA (or an HTTP proof) whose sequence number was already received: refused, the session goes on',
  },
  SEQUENCE_OUT_OF_WINDOW: {
    status: 409,
    scope: 'session',
    summary: 'sealed DATA (or an HTTP proof) older than the replay window: refused, the session goes on',
  },
  SECURITY_DOWNGRADE: {
    status: 400,
    scope: 'session',
    summary: 'the peer did not offer or accept the session security this side requires (no silent fallback)',
  },
  UNKNOWN_MESSAGE_TYPE: { status: 400, scope: 'session', summary: 'a message type the protocol does not define' },
  SIZE_MISMATCH: {
    status: 400,
    scope: 'session',
    summary: 'DATA whose content size differs from the size it declares',
  },
  RATE_LIMITED: { status: 429, scope: 'session', summary: 'over a rate limit; try again later' },
  SERVER_BUSY: { status: 503, scope: 'session', summary: 'the server has no room for another session' },
  VERSION_MISMATCH: { status: 400, scope: 'session', summary: 'REJECT: no common protocol version' },
  NO_COMMON_ALGORITHM: {
    status: 400,
    scope: 'session',
    summary: 'REJECT: no algorithm or encoding both peers support',
  },
  SECURITY_POLICY: {
    status: 400,
    scope: 'session',
    summary: "REJECT: the server's security policy refuses the session",
  },
  UNKNOWN: { status: 400, scope: 'session', summary: 'REJECT without a more specific code' },
  ENCODING_MISMATCH: { status: 400, scope: 'session', summary: 'DATA in an encoding the session did not negotiate' },
  ALGORITHM_MISMATCH: {
    status: 400,
    scope: 'session',
    summary: 'DATA whose wire form differs from the algorithm it names, or one the session did not negotiate',
  },
  TIMEOUT: { status: 408, scope: 'session', summary: 'a handshake or closing step did not finish in time' },
  PING_TIMEOUT: { status: 408, scope: 'client', summary: 'the peer stopped answering PINGs' },
  CLOSED: { status: 400, scope: 'client', summary: 'the session is closed' },
  CONNECTION_FAILED: { status: 502, scope: 'client', summary: 'the transport could not connect' },
  CONNECTION_CLOSED: { status: 502, scope: 'client', summary: 'the transport closed while a reply was awaited' },
  HTTP_ERROR: { status: 502, scope: 'client', summary: 'the server answered an HTTP error without an M2M error body' },
  WORKER_FAILED: { status: 500, scope: 'client', summary: 'the Web Worker failed' },
  WORKER_TERMINATED: { status: 500, scope: 'client', summary: 'the Web Worker was terminated' },
  UNKNOWN_METHOD: { status: 400, scope: 'client', summary: 'the Web Worker got a request it does not know' },
  PEER_ERROR: {
    status: 502,
    scope: 'client',
    summary: 'the peer reported an error code this version does not know (the message names it)',
  },
  INVALID_REQUEST: { status: 400, scope: 'server', summary: 'an HTTP request body that does not fit the endpoint' },
  NOT_FOUND: { status: 404, scope: 'server', summary: 'no such route' },
  FRAME_KEY_UNAVAILABLE: {
    status: 422,
    scope: 'server',
    summary: 'a request protects or opens an HMAC/AEAD M2M frame but the server has no frame key configured',
  },
  REQUEST_TIMEOUT: { status: 408, scope: 'server', summary: 'the request was not received within the deadline' },
  HEADERS_TOO_LARGE: { status: 431, scope: 'server', summary: 'the request headers exceed the size limit' },
  STORE_UNAVAILABLE: {
    status: 503,
    scope: 'server',
    summary: 'the session store (Redis) is unreachable; stateless endpoints still work',
  },
  BUDGET_EXCEEDED: { status: 503, scope: 'server', summary: 'a request ran past its time budget and was stopped' },
  UPSTREAM_UNAVAILABLE: {
    status: 502,
    scope: 'server',
    summary: "the gateway's upstream could not be reached or broke off its response",
  },
  UPSTREAM_TIMEOUT: {
    status: 504,
    scope: 'server',
    summary: "the gateway's upstream did not answer within the gateway timeout",
  },
  SERVER_START_FAILED: { status: 500, scope: 'server', summary: 'the server could not listen' },
  MISSING_DEPENDENCY: {
    status: 500,
    scope: 'server',
    summary:
      'an optional peer dependency (fastify, ws, smol-toml, ...) is not installed; the message names the command',
  },
  INVALID_CONFIG: { status: 400, scope: 'cli', summary: 'the configuration (file, environment, flags) is invalid' },
  USAGE_ERROR: { status: 400, scope: 'cli', summary: 'wrong command-line usage' },
  INPUT_ERROR: { status: 400, scope: 'cli', summary: 'an input file or stdin could not be read' },
  OUTPUT_ERROR: { status: 500, scope: 'cli', summary: 'output could not be written' },
} as const satisfies Record<string, ErrorInfo>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `code` is a registered error code. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** An error a peer reported by code: its own code when registered, else `PEER_ERROR` naming it. */
export function errorFromPeer(code: string, message: string): M2MError {
  return isErrorCode(code) ? new M2MError(code, message) : new M2MError('PEER_ERROR', `${code}: ${message}`);
}

/** The HTTP status of an error code (400 for a code this version does not know). */
export function httpStatusFor(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code].status : 400;
}

/** Marks every M2MError, so `instanceof` holds across copies of this module (the bundled Node entries and the browser modules). */
const BRAND = Symbol.for('m2m-protocol.M2MError');

export class M2MError extends Error {
  /** Stable, machine-readable code, e.g. `INVALID_PREFIX` or `TRUNCATED_VARINT`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'M2MError';
    this.code = code;
  }

  /** True for an M2MError made by any copy of this module; subclasses keep the plain prototype test. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` asked about, a subclass such as UsageError included
    if (this !== M2MError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && BRAND in value;
  }
}
// On the prototype, once, rather than on each error.
Object.defineProperty(M2MError.prototype, BRAND, { value: true });

/** Codes raised by the Rust core (identical from the native and the wasm backend). */
export const CORE_ERROR_CODES: readonly ErrorCode[] = (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
  (code) => ERROR_CODES[code].scope === 'core',
);

const coreCodes: ReadonlySet<string> = new Set(CORE_ERROR_CODES);

/**
 * Turns whatever a backend threw into an `M2MError`. Core errors keep their
 * code; anything else (a bug, a wasm trap) becomes `INTERNAL_ERROR` with the
 * original error as `cause`.
 */
export function toM2MError(err: unknown): M2MError {
  if (err instanceof M2MError) return err;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (isErrorCode(code) && coreCodes.has(code)) return new M2MError(code, err.message);
    return new M2MError('INTERNAL_ERROR', `m2m core failed: ${err.message}`, { cause: err });
  }
  return new M2MError('INTERNAL_ERROR', `m2m core failed: ${String(err)}`, { cause: err });
}

/** Keeps an `M2MError`; anything else (a bug) becomes `INTERNAL_ERROR` with the original as `cause`. */
export function asM2MError(err: unknown): M2MError {
  if (err instanceof M2MError) return err;
  return new M2MError('INTERNAL_ERROR', `internal error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
