/**
 * DATA payloads: compression with a negotiated algorithm, `original_size`,
 * and `security_status` from an injected scanner.
 *
 * Decisions:
 * - `NONE` (passthrough) is always allowed in DATA, negotiated or not: every
 *   decoder handles unprefixed content (spec §5.9.1), and content too small
 *   to compress has nowhere else to go.
 * - `auto` is the core selector of stateless `compress()` (one call), among
 *   the negotiated algorithms (TOKEN excluded — T1 is only used when asked
 *   for). Brotli uses the session prefix `#M2M[v3.0]|DATA:`.
 * - TOKEN (T1) keeps the JSON value but not its whitespace or defaults, so a
 *   T1 DATA message's `original_size` is the size of what the receiver will
 *   rebuild, and that is what it gets.
 * - The receiver checks that the content's prefix is the declared algorithm
 *   (`ALGORITHM_MISMATCH`), that TokenNative uses the negotiated encoding
 *   (`ENCODING_MISMATCH`), sizes against the negotiated `max_payload_size`
 *   (`CONTENT_TOO_LARGE`) and `original_size` (`SIZE_MISMATCH`).
 * - The receiver scans with its own scanner whenever it has one (its defence
 *   never depends on what the peer says); the sender scans and attaches
 *   `security_status` when security scanning was negotiated. A blocking
 *   verdict is `SECURITY_VIOLATION` on either side.
 */
import { type Algorithm, compress, compressAmong, decompressBinary, decompressDetailed } from '../codec/codec.js';
import {
  afterSend,
  appendHistory,
  compressWithHistory,
  decompressWithHistory,
  type HistoryParams,
  historyLabel,
  mayUseBothDirections,
  preferHistory,
  receivedText,
  type SessionHistory,
} from '../codec/history.js';
import { backend } from '../core/backend.js';
import type { Encoding } from '../core/encoding.js';
import { M2MError } from '../core/errors.js';
import { encodingOfByte, tokenNativeEncoding, wirePrefix } from '../core/tables.js';
import { utf8Length } from '../core/utf8.js';
import { packTokenNativeBinary, unpackTokenNative } from '../core/wire.js';
import { ALGORITHM_WIRE_NAMES, algorithmFromWire, type DataPayload, type SecurityStatus } from './messages.js';
import type { SessionParams } from './negotiate.js';

/** One threat a scanner reports. */
export interface ScannerThreat {
  type: string;
  confidence: number;
  [key: string]: unknown;
}

/** What a scanner returns (the shape of the project's `scan()`). */
export interface ScanResult {
  safe: boolean;
  /** True when the scanner, in blocking mode, refuses the content. */
  blocked?: boolean;
  threats: ScannerThreat[];
}

/** A content scanner, e.g. `(c) => scan(c, { mode: 'blocking', threshold: 0.8 })`. */
export type Scanner = (content: string) => ScanResult;

/** How an endpoint scans. */
export interface SecurityOptions {
  scanner?: Scanner;
  /** When the scanner does not say `blocked`, whether unsafe content is refused. Default true. */
  blocking: boolean;
}

/** Options of a single send. */
export interface SendOptions {
  /** A negotiated algorithm (or `none`), or `auto` (default). */
  algorithm?: Algorithm | 'auto';
  /** Auto's size bands, as in `compress()` (when the negotiated set allows auto): passthrough below this many bytes. */
  minSize?: number;
  /** Auto's size bands, as in `compress()`: Brotli is tried from this many bytes. */
  brotliThreshold?: number;
}

/** A session's history for encodeData/decodeData (the session negotiated the history extension). */
export interface HistoryContext {
  history: SessionHistory;
  /** Attach `history_ack` (the receive state): clients do. */
  ack?: boolean;
  /**
   * A client with no other message in flight: it may compress against both
   * directions (when negotiated and its receive state is confirmed).
   */
  bothDirections?: boolean;
}

/** The history a DATA message is carried with: the session negotiated it and the caller passed its state. */
function negotiatedHistory(
  params: SessionParams | undefined,
  context: HistoryContext | undefined,
): { state: SessionHistory; params: HistoryParams } | undefined {
  return params?.history && context ? { state: context.history, params: params.history } : undefined;
}

function algorithmMismatch(declared: string, found: Algorithm): M2MError {
  return new M2MError(
    'ALGORITHM_MISMATCH',
    `DATA declares ${declared} but its content is ${ALGORITHM_WIRE_NAMES[found]}`,
  );
}

/** An encoded DATA payload; with `binary`, the content travels as a binary body (binary.ts) and `payload.content` is empty. */
export interface EncodedData {
  payload: DataPayload;
  binary?: Uint8Array;
}

/** A decoded DATA payload. */
export interface DecodedData {
  content: string;
  algorithm: Algorithm;
  /** The local scan, when there is a scanner. */
  scan?: ScanResult;
}

const SESSION_AUTO_SET: readonly Algorithm[] = ['token-native', 'dictionary', 'brotli'];

function isBlocked(result: ScanResult, security: SecurityOptions): boolean {
  return result.blocked ?? (!result.safe && security.blocking);
}

function topThreat(result: ScanResult): ScannerThreat | undefined {
  let top: ScannerThreat | undefined;
  for (const t of result.threats ?? []) if (top === undefined || t.confidence > top.confidence) top = t;
  return top;
}

/** Runs the scanner; a blocking verdict throws `SECURITY_VIOLATION`. */
export function scanContent(content: string, security: SecurityOptions, side: string): ScanResult | undefined {
  if (!security.scanner) return undefined;
  let result: ScanResult;
  try {
    result = security.scanner(content);
  } catch (err) {
    throw new M2MError(
      'SECURITY_SCAN_FAILED',
      `the security scanner failed: ${(err as Error)?.message ?? String(err)}`,
      {
        cause: err,
      },
    );
  }
  if (isBlocked(result, security)) {
    const top = topThreat(result);
    throw new M2MError(
      'SECURITY_VIOLATION',
      `content blocked by the security scanner (${side})${top ? `: ${top.type} (confidence ${top.confidence})` : ''}`,
      { cause: { threat_type: top?.type, confidence: top?.confidence } },
    );
  }
  return result;
}

function statusOf(result: ScanResult): SecurityStatus {
  const status: SecurityStatus = { scanned: true, safe: result.safe };
  const top = topThreat(result);
  if (top !== undefined) {
    status.threat_type = String(top.type).slice(0, 128);
    if (Number.isFinite(top.confidence)) status.confidence = Math.min(1, Math.max(0, top.confidence));
  }
  return status;
}

function compressOne(content: string, algorithm: Algorithm, encoding: Encoding): string {
  if (algorithm === 'token') return compress(content, { algorithm, omitDefaults: false }).wire;
  return compress(content, { algorithm, encoding, session: true }).wire;
}

/**
 * Auto among the negotiated algorithms: the same core selector as stateless
 * `compress()` (one call), with T1 left out as there, Brotli in the session
 * framing. Content starting with a wire prefix that no negotiated algorithm
 * but T1 can carry goes as T1.
 */
function compressInSession(
  content: string,
  allowed: readonly Algorithm[],
  encoding: Encoding,
  bands: SendOptions,
): { algorithm: Algorithm; wire: string } {
  const usable = SESSION_AUTO_SET.filter((a) => allowed.includes(a));
  const { minSize, brotliThreshold } = bands;
  try {
    return compressAmong(content, { encoding, session: true, minSize, brotliThreshold }, usable);
  } catch (err) {
    if (!(err instanceof M2MError && err.code === 'UNSUPPORTED_ALGORITHM' && allowed.includes('token'))) throw err;
    return { algorithm: 'token', wire: compressOne(content, 'token', encoding) };
  }
}

/**
 * Builds a DATA payload for `content` within a session (or, with `params`
 * undefined, for stateless mode, where any algorithm may be used and Brotli
 * uses `#BR|`).
 */
export function encodeData(
  content: string,
  params: SessionParams | undefined,
  security: SecurityOptions,
  options: SendOptions = {},
  context?: HistoryContext,
): EncodedData {
  if (typeof content !== 'string') throw new M2MError('INVALID_OPTION', 'content must be a string');
  const originalBytes = utf8Length(content);
  if (params && originalBytes > params.maxPayloadSize) {
    throw new M2MError(
      'CONTENT_TOO_LARGE',
      `content of ${originalBytes} bytes exceeds the negotiated max_payload_size of ${params.maxPayloadSize}`,
    );
  }
  let status: SecurityStatus | undefined;
  if (params?.securityScanning) {
    const result = scanContent(content, security, 'sender');
    if (result) status = statusOf(result);
  }
  const requested = options.algorithm ?? 'auto';
  const stateless = (): { algorithm: Algorithm; wire: string } => {
    if (!params) {
      const { minSize, brotliThreshold } = options;
      const r = compress(content, { algorithm: requested, session: false, minSize, brotliThreshold });
      return { algorithm: r.algorithm, wire: r.wire };
    }
    if (requested === 'auto') return compressInSession(content, params.algorithms, params.encoding, options);
    if (requested !== 'none' && !params.algorithms.includes(requested)) {
      throw new M2MError(
        'UNSUPPORTED_ALGORITHM',
        `algorithm ${requested} was not negotiated (negotiated: ${params.algorithms.join(', ')})`,
      );
    }
    return { algorithm: requested, wire: compressOne(content, requested, params.encoding) };
  };
  const history = negotiatedHistory(params, context);
  let withHistory = false;
  let chosen: { algorithm: Algorithm; wire: string } | undefined;
  if (history && (requested === 'auto' || requested === 'brotli')) {
    const both = context?.ack === true && context.bothDirections === true && mayUseBothDirections(history);
    const wire = compressWithHistory(
      content,
      history.state.send,
      history.params,
      originalBytes,
      both ? history.state.recv : undefined,
    );
    const alone = preferHistory(wire, originalBytes, stateless);
    chosen = alone ?? { algorithm: 'brotli', wire: wire as string };
    withHistory = alone === undefined;
  } else chosen = stateless();
  // What the receiver rebuilds (T1 drops whitespace and defaults): its size is the original size.
  const carried = receivedText(chosen.wire, content);
  const originalSize = chosen.algorithm === 'token' ? utf8Length(carried) : originalBytes;
  const payload: DataPayload = {
    algorithm: ALGORITHM_WIRE_NAMES[chosen.algorithm],
    content: chosen.wire,
    original_size: originalSize,
  };
  if (status) payload.security_status = status;
  if (history) {
    if (context?.ack) payload.history_ack = historyLabel(history.state.recv);
    afterSend(history.state.send, carried, withHistory, history.params.bytes);
  }
  if (params?.binaryFrames && chosen.algorithm === 'token-native') {
    // The binary form of the ids already chosen (no second tokenization).
    const { ids, encoding } = unpackTokenNative(chosen.wire);
    return { payload: { ...payload, content: '' }, binary: packTokenNativeBinary(ids, encoding) };
  }
  // In a session, Brotli is session framing or #BH|: both have a binary form (the core's codec::binary).
  if (params?.binaryPayloads && chosen.algorithm === 'brotli') {
    return { payload: { ...payload, content: '' }, binary: backend().wireToBinary(chosen.wire) };
  }
  return { payload };
}

/**
 * Decodes a received DATA payload (or, with `binary`, its binary body) and
 * runs the checks listed in the module comment.
 */
export function decodeData(
  payload: DataPayload,
  params: SessionParams | undefined,
  security: SecurityOptions,
  binary?: Uint8Array,
  context?: HistoryContext,
): DecodedData {
  const history = negotiatedHistory(params, context);
  const algorithm = algorithmFromWire(payload.algorithm);
  if (algorithm === undefined) {
    throw new M2MError('UNSUPPORTED_ALGORITHM', `unknown algorithm ${JSON.stringify(payload.algorithm)}`);
  }
  if (params && algorithm !== 'none' && !params.algorithms.includes(algorithm)) {
    throw new M2MError('UNSUPPORTED_ALGORITHM', `algorithm ${payload.algorithm} was not negotiated for this session`);
  }
  const limit = params?.maxPayloadSize;
  let content: string;
  // Confirmed again only by a #BH| message that decodes.
  if (history) history.state.recvConfirmed = false;
  let wire = payload.content;
  let tokenBody = binary;
  if (binary !== undefined) {
    if (limit !== undefined && binary.length > limit) {
      throw new M2MError('CONTENT_TOO_LARGE', `content exceeds the negotiated max_payload_size of ${limit}`);
    }
    if (algorithm === 'brotli' && (!params || params.binaryPayloads)) {
      // The text form, byte for byte as the sender had it: every check below applies to it.
      wire = backend().binaryToWire(binary);
      tokenBody = undefined;
    } else if (algorithm !== 'token-native' || (params && !params.binaryFrames)) {
      throw new M2MError(
        'INVALID_MESSAGE',
        'binary DATA frames carry TOKEN_NATIVE content (binary_frames) or BROTLI content (binary_payloads), as negotiated',
      );
    }
  } else if (limit !== undefined && wire.length > limit && utf8Length(wire) > limit) {
    throw new M2MError('CONTENT_TOO_LARGE', `content exceeds the negotiated max_payload_size of ${limit}`);
  }
  if (tokenBody !== undefined) {
    const encoding = encodingOfByte(tokenBody[0]);
    if (params && encoding !== params.encoding) {
      throw new M2MError(
        'ENCODING_MISMATCH',
        `TokenNative content uses ${encoding ?? 'an unknown encoding'}, negotiated ${params.encoding}`,
      );
    }
    content = decompressBinary(tokenBody);
  } else {
    if (algorithm === 'token-native' && params && wire.startsWith(wirePrefix('TOKEN_NATIVE'))) {
      const encoding = tokenNativeEncoding(wire);
      if (encoding !== params.encoding) {
        throw new M2MError(
          'ENCODING_MISMATCH',
          `TokenNative content uses ${encoding ?? 'an unknown encoding'}, negotiated ${params.encoding}`,
        );
      }
    }
    if (history && wire.startsWith(wirePrefix('HISTORY'))) {
      if (algorithm !== 'brotli') throw algorithmMismatch(payload.algorithm, 'brotli');
      // Against both directions: only where negotiated, at the state of ours the sender acknowledged.
      const ours =
        history.params.bothDirections && payload.history_ack === history.state.send.hash
          ? history.state.send
          : undefined;
      content = decompressWithHistory(wire, history.state.recv, ours);
      history.state.recvConfirmed = true;
    } else {
      const decoded = decompressDetailed(wire);
      if (decoded.algorithm !== algorithm) throw algorithmMismatch(payload.algorithm, decoded.algorithm);
      content = decoded.text;
    }
  }
  // Decoded: appended as the sender appended it, even if a check below refuses it.
  if (history) appendHistory(history.state.recv, content, history.params.bytes);
  const size = utf8Length(content);
  if (limit !== undefined && size > limit) {
    throw new M2MError('CONTENT_TOO_LARGE', `decompressed content of ${size} bytes exceeds max_payload_size ${limit}`);
  }
  if (payload.original_size !== undefined && payload.original_size !== size) {
    throw new M2MError('SIZE_MISMATCH', `original_size is ${payload.original_size} but the content is ${size} bytes`);
  }
  const scan = scanContent(content, security, 'receiver');
  return scan ? { content, algorithm, scan } : { content, algorithm };
}
