/**
 * Session parameters (spec §6.4) and capability negotiation (spec §6.3.3,
 * §6.3.4): version, algorithm intersection, tokenizer encoding, security
 * scanning, payload limit and the `binary_frames` and `binary_payloads` extensions.
 */
import { ALGORITHMS, type Algorithm, loadedDictionaryNames } from '../codec/codec.js';
import { type HistoryParams, historyExtension, readHistoryExtension } from '../codec/history.js';
import { ENCODINGS, type Encoding } from '../core/encoding.js';
import { M2MError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { coreTables } from '../core/tables.js';
import {
  type AcceptPayload,
  ALGORITHM_WIRE_NAMES,
  algorithmFromWire,
  ENCODING_WIRE_NAMES,
  encodingFromWire,
  type HelloPayload,
  PROTOCOL_VERSION,
  type RejectCode,
} from './messages.js';

/** Spec defaults (§4.3, §6.2.3, §6.4.2, §7.6.1). */
export const SESSION_DEFAULTS = Object.freeze({
  sessionTimeoutMs: 300_000,
  pingIntervalMs: 60_000,
  pingTimeoutMs: 10_000,
  /** HELLO_SENT → CLOSED when no ACCEPT/REJECT arrives. */
  helloTimeoutMs: 30_000,
  /** CLOSING → CLOSED when the peer does not answer a CLOSE. */
  closingTimeoutMs: 5_000,
  /** Consecutive unanswered PINGs that end a session. */
  maxMissedPongs: 3,
  maxPayloadSize: LIMITS.maxMessageBytes,
});

/** Allowed ranges, inclusive (spec §6.4.2). */
export const SESSION_RANGES = Object.freeze({
  sessionTimeoutMs: [60_000, 3_600_000] as const,
  pingIntervalMs: [10_000, 300_000] as const,
  pingTimeoutMs: [5_000, 60_000] as const,
  helloTimeoutMs: [1, 600_000] as const,
  closingTimeoutMs: [1, 600_000] as const,
  maxMissedPongs: [1, 100] as const,
  maxPayloadSize: [1, Number.MAX_SAFE_INTEGER] as const,
});

export type TimingOptions = {
  -readonly [K in keyof typeof SESSION_DEFAULTS]: number;
};

/** Fills in defaults and checks ranges: an out-of-range value is `INVALID_OPTION`. */
export function resolveTiming(options: Partial<TimingOptions> = {}): TimingOptions {
  const out = { ...SESSION_DEFAULTS } as TimingOptions;
  for (const key of Object.keys(SESSION_DEFAULTS) as (keyof TimingOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const [min, max] = SESSION_RANGES[key];
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new M2MError('INVALID_OPTION', `${key} must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
    out[key] = value;
  }
  return out;
}

/** What both sides agreed on. Plain JSON data. */
export interface SessionParams {
  version: string;
  /** Negotiated algorithms, in the client's order of preference. */
  algorithms: Algorithm[];
  /** Tokenizer encoding for TokenNative. */
  encoding: Encoding;
  securityScanning: boolean;
  maxPayloadSize: number;
  sessionTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** DATA with TokenNative content may travel as binary WebSocket frames (see binary.ts). */
  binaryFrames: boolean;
  /**
   * DATA with session Brotli or `#BH|` content may travel as binary WebSocket
   * frames, its payload as bytes (the `binary_payloads` extension, see binary.ts).
   */
  binaryPayloads?: boolean;
  /** Present when both sides keep a history per direction (history.ts). */
  history?: HistoryParams;
}

/** What a server supports and requires. */
export interface ServerCapabilities {
  versions: readonly string[];
  algorithms: readonly Algorithm[];
  encodings: readonly Encoding[];
  /** The server can scan content (it has a scanner). */
  securityScanning: boolean;
  /** Refuse clients that do not scan (REJECT SECURITY_POLICY). */
  requireSecurityScanning: boolean;
  maxPayloadSize: number;
  binaryFrames: boolean;
  sessionTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** History kept per direction when a client offers the history extension (0 or absent: not offered). */
  historyBytes?: number;
}

/** What a client offers. */
export interface ClientCapabilities {
  version: string;
  algorithms: readonly Algorithm[];
  encodings: readonly Encoding[];
  preferredEncoding: Encoding;
  securityScanning: boolean;
  maxPayloadSize: number;
  binaryFrames: boolean;
  /** History to keep per direction, offered as the history extension (0 or absent: not offered). */
  historyBytes?: number;
}

export type NegotiationResult = { ok: true; params: SessionParams } | { ok: false; code: RejectCode; message: string };

/** Checks a list of algorithms given as an option. */
export function checkAlgorithms(list: readonly string[], what: string): Algorithm[] {
  if (!Array.isArray(list) || list.length === 0) throw new M2MError('INVALID_OPTION', `${what} must not be empty`);
  for (const a of list) {
    if (!(ALGORITHMS as readonly string[]).includes(a)) {
      throw new M2MError('INVALID_OPTION', `${what}: unknown algorithm ${JSON.stringify(a)}`);
    }
  }
  return [...new Set(list as Algorithm[])];
}

/** Checks a list of encodings given as an option; cl100k_base is always included (spec §6.3.4). */
export function checkEncodings(list: readonly string[], what: string): Encoding[] {
  for (const e of list) {
    if (!(ENCODINGS as readonly string[]).includes(e)) {
      throw new M2MError('INVALID_OPTION', `${what}: unknown encoding ${JSON.stringify(e)}`);
    }
  }
  const out = [...new Set(list as Encoding[])];
  if (!out.includes('cl100k_base')) out.push('cl100k_base');
  return out;
}

/**
 * The server side of negotiation: an ACCEPT's parameters, or a REJECT code.
 * `binaryTransport` says whether the connection can carry binary frames.
 */
export function negotiate(
  hello: HelloPayload,
  server: ServerCapabilities,
  binaryTransport: boolean,
): NegotiationResult {
  if (!server.versions.includes(hello.version)) {
    return {
      ok: false,
      code: 'VERSION_MISMATCH',
      message: `protocol version ${JSON.stringify(hello.version)} is not supported (supported: ${server.versions.join(', ')})`,
    };
  }
  const algorithms: Algorithm[] = [];
  for (const name of hello.algorithms) {
    const a = algorithmFromWire(name);
    if (a !== undefined && server.algorithms.includes(a) && !algorithms.includes(a)) algorithms.push(a);
  }
  if (algorithms.length === 0) {
    return {
      ok: false,
      code: 'NO_COMMON_ALGORITHM',
      message: `no algorithm in common; the server supports ${server.algorithms.map((a) => ALGORITHM_WIRE_NAMES[a]).join(', ')}`,
    };
  }
  const clientScans = hello.security_scanning === true;
  if (server.requireSecurityScanning && !clientScans) {
    return { ok: false, code: 'SECURITY_POLICY', message: 'this server requires security_scanning' };
  }
  const offered = readHistoryExtension(hello.extensions?.history);
  const ours = offered ? availableDictionaries() : [];
  const history: HistoryParams | undefined =
    offered && (server.historyBytes ?? 0) > 0 && algorithms.includes('brotli')
      ? {
          bytes: Math.min(offered.bytes, server.historyBytes as number),
          dictionaries: offered.dictionaries.filter((name) => ours.includes(name)),
          ...(offered.bothDirections ? { bothDirections: true } : {}),
        }
      : undefined;
  return {
    ok: true,
    params: {
      ...(history ? { history } : {}),
      version: hello.version,
      algorithms,
      encoding: negotiateEncoding(hello, server.encodings),
      securityScanning: clientScans && server.securityScanning,
      maxPayloadSize: Math.min(hello.max_payload_size ?? server.maxPayloadSize, server.maxPayloadSize),
      sessionTimeoutMs: server.sessionTimeoutMs,
      pingIntervalMs: server.pingIntervalMs,
      pingTimeoutMs: server.pingTimeoutMs,
      binaryFrames:
        binaryTransport &&
        server.binaryFrames &&
        hello.extensions?.binary_frames === true &&
        algorithms.includes('token-native'),
      binaryPayloads:
        binaryTransport &&
        server.binaryFrames &&
        hello.extensions?.binary_payloads === true &&
        algorithms.includes('brotli'),
    },
  };
}

/**
 * Spec §6.3.4: the client's preferred encoding if the server has it, else the
 * first of the client's encodings the server has, else cl100k_base.
 */
export function negotiateEncoding(hello: HelloPayload, serverEncodings: readonly Encoding[]): Encoding {
  const preferred = hello.preferred_encoding === undefined ? undefined : encodingFromWire(hello.preferred_encoding);
  if (preferred !== undefined && serverEncodings.includes(preferred)) return preferred;
  for (const name of hello.encodings ?? []) {
    const e = encodingFromWire(name);
    if (e !== undefined && serverEncodings.includes(e)) return e;
  }
  return 'cl100k_base';
}

/** The ACCEPT payload for negotiated parameters. */
export function acceptPayload(params: SessionParams): AcceptPayload {
  const payload: AcceptPayload = {
    version: params.version,
    algorithms: params.algorithms.map((a) => ALGORITHM_WIRE_NAMES[a]),
    security_scanning: params.securityScanning,
    session_timeout_ms: params.sessionTimeoutMs,
    encoding: ENCODING_WIRE_NAMES[params.encoding],
    max_payload_size: params.maxPayloadSize,
    ping_interval_ms: params.pingIntervalMs,
    ping_timeout_ms: params.pingTimeoutMs,
  };
  if (params.binaryFrames) payload.extensions = { binary_frames: true };
  if (params.binaryPayloads) payload.extensions = { ...payload.extensions, binary_payloads: true };
  if (params.history) payload.extensions = { ...payload.extensions, history: historyExtension(params.history) };
  return payload;
}

/** The trained dictionaries this install has, loaded, by wire name (offered and accepted for session history). */
function availableDictionaries(): string[] {
  return loadedDictionaryNames(coreTables().dictionaries);
}

/** The HELLO payload a client sends. */
export function helloPayload(client: ClientCapabilities): HelloPayload {
  const payload: HelloPayload = {
    version: client.version,
    algorithms: client.algorithms.map((a) => ALGORITHM_WIRE_NAMES[a]),
    encodings: client.encodings.map((e) => ENCODING_WIRE_NAMES[e]),
    preferred_encoding: ENCODING_WIRE_NAMES[client.preferredEncoding],
    security_scanning: client.securityScanning,
    max_payload_size: client.maxPayloadSize,
    supports_streaming: false,
  };
  if (client.binaryFrames) payload.extensions = { binary_frames: true, binary_payloads: true };
  if ((client.historyBytes ?? 0) > 0) {
    payload.extensions = {
      ...payload.extensions,
      history: historyExtension({
        bytes: client.historyBytes as number,
        dictionaries: availableDictionaries(),
        bothDirections: true,
      }),
    };
  }
  return payload;
}

/**
 * The client side: checks an ACCEPT against what was offered and returns the
 * session parameters. A server that accepts something never offered is
 * breaking the protocol: `INVALID_MESSAGE`.
 */
export function paramsFromAccept(
  accept: AcceptPayload,
  client: ClientCapabilities,
  timing: Pick<TimingOptions, 'pingIntervalMs' | 'pingTimeoutMs'>,
): SessionParams {
  if (accept.version !== client.version) {
    throw new M2MError(
      'INVALID_MESSAGE',
      `ACCEPT names version ${JSON.stringify(accept.version)}, offered ${client.version}`,
    );
  }
  const algorithms: Algorithm[] = [];
  for (const name of accept.algorithms) {
    const a = algorithmFromWire(name);
    if (a === undefined || !client.algorithms.includes(a)) {
      throw new M2MError('INVALID_MESSAGE', `ACCEPT names algorithm ${JSON.stringify(name)}, which was not offered`);
    }
    if (!algorithms.includes(a)) algorithms.push(a);
  }
  let encoding: Encoding = 'cl100k_base';
  if (accept.encoding !== undefined) {
    const e = encodingFromWire(accept.encoding);
    if (e === undefined || !client.encodings.includes(e)) {
      throw new M2MError(
        'INVALID_MESSAGE',
        `ACCEPT names encoding ${JSON.stringify(accept.encoding)}, which was not offered`,
      );
    }
    encoding = e;
  }
  let history: HistoryParams | undefined;
  if (accept.extensions?.history !== undefined) {
    history = readHistoryExtension(accept.extensions.history);
    const offered = availableDictionaries();
    if (
      history === undefined ||
      !((client.historyBytes ?? 0) > 0) ||
      history.bytes > (client.historyBytes as number) ||
      !algorithms.includes('brotli') ||
      history.dictionaries.some((id) => !offered.includes(id))
    ) {
      throw new M2MError('INVALID_MESSAGE', 'ACCEPT names a history extension that was not offered');
    }
  }
  return {
    ...(history ? { history } : {}),
    version: accept.version,
    algorithms,
    encoding,
    securityScanning: accept.security_scanning && client.securityScanning,
    maxPayloadSize: Math.min(accept.max_payload_size ?? client.maxPayloadSize, client.maxPayloadSize),
    sessionTimeoutMs: accept.session_timeout_ms,
    pingIntervalMs: timing.pingIntervalMs,
    pingTimeoutMs: timing.pingTimeoutMs,
    binaryFrames:
      client.binaryFrames && accept.extensions?.binary_frames === true && algorithms.includes('token-native'),
    binaryPayloads: client.binaryFrames && accept.extensions?.binary_payloads === true && algorithms.includes('brotli'),
  };
}

export { PROTOCOL_VERSION };
