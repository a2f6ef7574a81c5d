/**
 * The seven session messages (HELLO, ACCEPT, REJECT, DATA, PING, PONG, CLOSE),
 * plus ERROR — this implementation's answer to a message it refuses within a
 * session (`{ code, message?, refused? }`; the spec has none, and peers that
 * do not know the type ignore it, spec §6.8.2): their TypeScript types, runtime validation with zod, and a parser for
 * untrusted text that checks size and nesting before it calls `JSON.parse`.
 *
 * Every failure is an `M2MError`:
 * - `MESSAGE_TOO_LARGE` — the text is over `maxMessageBytes` (UTF-8 bytes);
 * - `INVALID_MESSAGE` — not JSON, too deep, an array too long, a field
 *   missing or of the wrong type, a `session_id` that is not allowed for the
 *   type (HELLO must carry `null`, PING/PONG/CLOSE/ACCEPT a string);
 * - `UNKNOWN_MESSAGE_TYPE` — a well-formed envelope whose `type` is not one
 *   of the seven (the spec says to ignore such messages, so callers can);
 * - `TIMESTAMP_SKEW` — `timestamp` further than `maxClockSkewMs` from now.
 *
 * Unknown fields are dropped, not rejected, so newer peers can add fields.
 */
import { z } from 'zod';
import type { Algorithm } from '../codec/codec.js';
import type { Encoding } from '../core/encoding.js';
import { M2MError } from '../core/errors.js';
import { jsonStructure, LIMITS } from '../core/limits.js';
import { utf8Length } from '../core/utf8.js';
import { PEER_SESSION_ID_PATTERN } from './ids.js';

/** The protocol version this implementation speaks. */
export const PROTOCOL_VERSION = '1.0';

/** Message type names. */
export const MESSAGE_TYPES = ['HELLO', 'ACCEPT', 'REJECT', 'DATA', 'PING', 'PONG', 'CLOSE', 'ERROR'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** REJECT codes (spec §4.3.3). */
export const REJECT_CODES = [
  'VERSION_MISMATCH',
  'NO_COMMON_ALGORITHM',
  'SECURITY_POLICY',
  'RATE_LIMITED',
  'SERVER_BUSY',
  'UNKNOWN',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

/** CLOSE reasons (spec §4.6.1). */
export const CLOSE_REASONS = ['NORMAL', 'TIMEOUT', 'ERROR', 'CLIENT_SHUTDOWN', 'SERVER_SHUTDOWN'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** Algorithm names as they appear on the wire, and the library's names for them. */
export const ALGORITHM_WIRE_NAMES: Readonly<Record<Algorithm, string>> = Object.freeze({
  'token-native': 'TOKEN_NATIVE',
  token: 'TOKEN',
  brotli: 'BROTLI',
  dictionary: 'DICTIONARY',
  m2m: 'M2M',
  none: 'NONE',
});

/** Encoding names as they appear on the wire (spec §6.3.4). */
export const ENCODING_WIRE_NAMES: Readonly<Record<Encoding, string>> = Object.freeze({
  cl100k_base: 'CL100K_BASE',
  o200k_base: 'O200K_BASE',
  llama3: 'LLAMA_BPE',
});

const ALGORITHM_BY_WIRE = new Map<string, Algorithm>(
  Object.entries(ALGORITHM_WIRE_NAMES).map(([k, v]) => [v, k as Algorithm]),
);
const ENCODING_BY_WIRE = new Map<string, Encoding>(
  Object.entries(ENCODING_WIRE_NAMES).map(([k, v]) => [v, k as Encoding]),
);

/** The library name of a wire algorithm name (case-insensitive), or undefined if unknown. */
export function algorithmFromWire(name: string): Algorithm | undefined {
  return ALGORITHM_BY_WIRE.get(name.toUpperCase());
}

/** The library name of a wire encoding name (case-insensitive), or undefined if unknown. */
export function encodingFromWire(name: string): Encoding | undefined {
  return ENCODING_BY_WIRE.get(name.toUpperCase());
}

/** Limits applied to untrusted message text (defaults: spec §7.6.1). */
export interface MessageLimits {
  /** Largest message, in UTF-8 bytes. Default 16 MiB. */
  maxMessageBytes: number;
  /** Deepest nesting of arrays and objects. Default 32. */
  maxDepth: number;
  /** Longest DATA `content`, in UTF-8 bytes. Default 10 MiB. */
  maxStringBytes: number;
  /** Most elements in one array. Default 10,000. */
  maxArrayLength: number;
  /** Largest accepted distance of `timestamp` from the local clock, in ms. Default 5 minutes; `Infinity` disables the check. */
  maxClockSkewMs: number;
}

export const DEFAULT_LIMITS: Readonly<MessageLimits> = Object.freeze({
  maxMessageBytes: LIMITS.maxMessageBytes,
  maxDepth: LIMITS.maxDepth,
  maxStringBytes: LIMITS.maxStringBytes,
  maxArrayLength: LIMITS.maxArrayLength,
  maxClockSkewMs: 5 * 60_000,
});

/** Fills in and checks limits; a bad value is `INVALID_OPTION`. */
export function resolveLimits(partial: Partial<MessageLimits> = {}): MessageLimits {
  const limits = { ...DEFAULT_LIMITS, ...dropUndefined(partial) };
  for (const key of ['maxMessageBytes', 'maxDepth', 'maxStringBytes', 'maxArrayLength'] as const) {
    const v = limits[key];
    if (!Number.isSafeInteger(v) || v < 1) {
      throw new M2MError('INVALID_OPTION', `${key} must be a positive integer, got ${String(v)}`);
    }
  }
  if (!(limits.maxClockSkewMs >= 0)) {
    throw new M2MError('INVALID_OPTION', `maxClockSkewMs must be >= 0 (or Infinity), got ${limits.maxClockSkewMs}`);
  }
  return limits;
}

export function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------
// Schemas

const MAX_TEXT = 4096;
const shortString = z.string().max(64);
const text = z.string().max(MAX_TEXT);
const timestamp = z.int().min(0);
const peerSessionId = z.string().regex(PEER_SESSION_ID_PATTERN, 'malformed session id');
const extensions = z
  .record(z.string().max(64), z.unknown())
  .refine((v) => Object.keys(v).length <= 64, 'at most 64 extensions');

export const HelloPayloadSchema = z.object({
  version: z.string().min(1).max(32),
  algorithms: z.array(shortString).max(64),
  security_scanning: z.boolean().optional(),
  max_payload_size: z.int().min(1).optional(),
  supports_streaming: z.boolean().optional(),
  extensions: extensions.optional(),
  /** Tokenizer encodings the client can use (spec §6.3.3). */
  encodings: z.array(shortString).max(16).optional(),
  preferred_encoding: shortString.optional(),
});

export const AcceptPayloadSchema = z.object({
  version: z.string().min(1).max(32),
  algorithms: z.array(shortString).min(1).max(64),
  security_scanning: z.boolean(),
  session_timeout_ms: z.int().min(1),
  extensions: extensions.optional(),
  /** The negotiated tokenizer encoding (spec §6.3.4). */
  encoding: shortString.optional(),
  /** The negotiated payload limit: the smaller of both sides' (spec §6.3.3). */
  max_payload_size: z.int().min(1).optional(),
  /** The server's keep-alive settings, for information. */
  ping_interval_ms: z.int().min(1).optional(),
  ping_timeout_ms: z.int().min(1).optional(),
});

export const RejectPayloadSchema = z.object({
  code: shortString,
  message: text.optional(),
});

export const SecurityStatusSchema = z.object({
  scanned: z.boolean(),
  safe: z.boolean(),
  threat_type: z.string().max(128).optional(),
  confidence: z.number().min(0).max(1).optional(),
  details: text.optional(),
});

export const DataPayloadSchema = z.object({
  algorithm: shortString,
  content: z.string(),
  original_size: z.int().min(0).optional(),
  security_status: SecurityStatusSchema.optional(),
  /** From a client, in a session that negotiated the history extension: its receive history state (see history.ts). */
  history_ack: z.string().max(64).optional(),
  /** In a session that negotiated security: the sequence number and, for HMAC, the tag (see secure.ts). */
  seal: z
    .object({
      seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
      tag: z.string().max(64).optional(),
    })
    .optional(),
});

export const EmptyPayloadSchema = z.object({});

export const ClosePayloadSchema = z.object({
  reason: shortString.optional(),
  message: text.optional(),
});

/** ERROR: why a message was refused (an `M2MError` code), and the refused message's type. */
export const ErrorPayloadSchema = z.object({
  code: shortString,
  message: text.optional(),
  refused: shortString.optional(),
});

const envelope = <T extends string, S extends z.ZodType, P extends z.ZodType>(type: T, sessionId: S, payload: P) =>
  z.object({ type: z.literal(type), session_id: sessionId, timestamp, payload });

export const HelloMessageSchema = envelope('HELLO', z.null(), HelloPayloadSchema);
export const AcceptMessageSchema = envelope('ACCEPT', peerSessionId, AcceptPayloadSchema);
export const RejectMessageSchema = envelope('REJECT', peerSessionId.nullable(), RejectPayloadSchema);
export const DataMessageSchema = envelope('DATA', peerSessionId.nullable(), DataPayloadSchema);
export const PingMessageSchema = envelope('PING', peerSessionId, EmptyPayloadSchema);
export const PongMessageSchema = envelope('PONG', peerSessionId, EmptyPayloadSchema);
export const CloseMessageSchema = envelope('CLOSE', peerSessionId, ClosePayloadSchema);
export const ErrorMessageSchema = envelope('ERROR', peerSessionId.nullable(), ErrorPayloadSchema);

export const MessageSchema = z.discriminatedUnion('type', [
  HelloMessageSchema,
  AcceptMessageSchema,
  RejectMessageSchema,
  DataMessageSchema,
  PingMessageSchema,
  PongMessageSchema,
  CloseMessageSchema,
  ErrorMessageSchema,
]);

export type HelloPayload = z.infer<typeof HelloPayloadSchema>;
export type AcceptPayload = z.infer<typeof AcceptPayloadSchema>;
export type RejectPayload = z.infer<typeof RejectPayloadSchema>;
export type SecurityStatus = z.infer<typeof SecurityStatusSchema>;
export type DataPayload = z.infer<typeof DataPayloadSchema>;
export type ClosePayload = z.infer<typeof ClosePayloadSchema>;
export type HelloMessage = z.infer<typeof HelloMessageSchema>;
export type AcceptMessage = z.infer<typeof AcceptMessageSchema>;
export type RejectMessage = z.infer<typeof RejectMessageSchema>;
export type DataMessage = z.infer<typeof DataMessageSchema>;
export type PingMessage = z.infer<typeof PingMessageSchema>;
export type PongMessage = z.infer<typeof PongMessageSchema>;
export type CloseMessage = z.infer<typeof CloseMessageSchema>;
export type ErrorPayload = z.infer<typeof ErrorPayloadSchema>;
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;
/** Any of the seven messages. */
export type Message = z.infer<typeof MessageSchema>;

// ---------------------------------------------------------------------------
// Parsing untrusted input

/** Options of {@link parseMessage} and {@link validateMessage}. */
export interface ParseOptions {
  limits?: Partial<MessageLimits>;
  /** The local time for the skew check (default `Date.now()`). */
  now?: number;
}

/**
 * Refuses hostile nesting and over-long arrays before `JSON.parse` (the
 * shared {@link jsonStructure} pass). Malformed text is left for `JSON.parse`.
 */
function checkStructure(text: string, limits: MessageLimits): void {
  const found = jsonStructure(text, limits, true);
  if (found.depthExceededAt >= 0) {
    throw new M2MError('INVALID_MESSAGE', `message nesting exceeds the limit of ${limits.maxDepth} levels`);
  }
  if (found.arrayExceededAt >= 0) {
    throw new M2MError('INVALID_MESSAGE', `an array in the message exceeds ${limits.maxArrayLength} elements`);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(message)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Validates a value (already parsed from JSON) as one of the seven messages.
 * See the module comment for the error codes.
 */
export function validateMessage(value: unknown, options: ParseOptions = {}): Message {
  const limits = resolveLimits(options.limits);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new M2MError('INVALID_MESSAGE', 'a message must be a JSON object');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new M2MError('INVALID_MESSAGE', 'type: a string is required');
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) {
    throw new M2MError('UNKNOWN_MESSAGE_TYPE', `unknown message type ${JSON.stringify(type.slice(0, 64))}`);
  }
  const result = MessageSchema.safeParse(value);
  if (!result.success) {
    throw new M2MError('INVALID_MESSAGE', `invalid ${type} message: ${describeIssues(result.error)}`);
  }
  const message = result.data;
  if (message.type === 'DATA' && utf8Length(message.payload.content) > limits.maxStringBytes) {
    throw new M2MError('MESSAGE_TOO_LARGE', `DATA content exceeds the string limit of ${limits.maxStringBytes} bytes`);
  }
  const now = options.now ?? Date.now();
  if (Math.abs(now - message.timestamp) > limits.maxClockSkewMs) {
    throw new M2MError(
      'TIMESTAMP_SKEW',
      `message timestamp ${message.timestamp} is ${now - message.timestamp} ms from local time (limit ±${limits.maxClockSkewMs} ms)`,
    );
  }
  return message;
}

/**
 * Parses untrusted message text: size first (`MESSAGE_TOO_LARGE`), then
 * nesting and array lengths, then `JSON.parse`, then the schema.
 */
export function parseMessage(input: unknown, options: ParseOptions = {}): Message {
  const limits = resolveLimits(options.limits);
  if (typeof input !== 'string') throw new M2MError('INVALID_MESSAGE', 'a message must be JSON text');
  // Every UTF-16 unit is at least one UTF-8 byte, so the length is a cheap lower bound.
  if (input.length > limits.maxMessageBytes || utf8Length(input) > limits.maxMessageBytes) {
    throw new M2MError('MESSAGE_TOO_LARGE', `message exceeds the limit of ${limits.maxMessageBytes} bytes`);
  }
  checkStructure(input, limits);
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch (err) {
    throw new M2MError('INVALID_MESSAGE', `message is not valid JSON: ${(err as Error).message}`);
  }
  return validateMessage(value, { ...options, limits });
}

/** Serialises a message for a text frame or an HTTP body. */
export function serializeMessage(message: Message): string {
  return JSON.stringify(message);
}

// ---------------------------------------------------------------------------
// Builders

type PayloadOf<T extends MessageType> = Extract<Message, { type: T }>['payload'];
type SessionIdOf<T extends MessageType> = Extract<Message, { type: T }>['session_id'];

/** Builds a message with the given timestamp (default now). */
export function createMessage<T extends MessageType>(
  type: T,
  sessionId: SessionIdOf<T>,
  payload: PayloadOf<T>,
  timestampMs: number = Date.now(),
): Extract<Message, { type: T }> {
  return { type, session_id: sessionId, timestamp: timestampMs, payload } as unknown as Extract<Message, { type: T }>;
}
