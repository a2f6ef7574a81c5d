/**
 * The server side of the session protocol, independent of the transport:
 * negotiation and REJECT policies, the session store, per-session ordering,
 * DATA handling, keep-alive and closing for connections (WebSocket), and
 * request/response processing (HTTP).
 *
 * Error handling (spec §6.8.2):
 * - a malformed message (`INVALID_MESSAGE`, `MESSAGE_TOO_LARGE`), a wrong
 *   `session_id` (`SESSION_MISMATCH`) or a stale/future timestamp
 *   (`TIMESTAMP_SKEW`) closes the session: on a connection with CLOSE ERROR,
 *   over HTTP by deleting it (the response carries the error);
 * - before a session exists, any of those — or a message other than HELLO —
 *   is answered with REJECT UNKNOWN (the message names the error) and the
 *   connection is closed;
 * - an unknown message type is ignored (reported to `onError`);
 * - a message not valid in the current state (`INVALID_STATE`), and DATA
 *   that fails its checks (decompression, `SIZE_MISMATCH`,
 *   `SECURITY_VIOLATION`, ...), is refused without ending the session.
 * Every error reaches `onError`; none escapes as an exception from a
 * transport callback.
 */
import type { Algorithm } from '../../codec/codec.js';
import { ALGORITHMS } from '../../codec/codec.js';
import {
  checkHistoryBytes,
  DEFAULT_HISTORY_BYTES,
  historyLabel,
  newSessionHistory,
  resetHistory,
  type SessionHistory,
} from '../../codec/history.js';
import { ENCODINGS, type Encoding } from '../../core/encoding.js';
import { asM2MError, M2MError } from '../../core/errors.js';
import { decodeBinaryFrame, encodeBinaryFrame } from '../../protocol/binary.js';
import {
  type DecodedData,
  decodeData,
  type EncodedData,
  encodeData,
  type Scanner,
  type ScanResult,
  type SecurityOptions,
  type SendOptions,
} from '../../protocol/data.js';
import { generateSessionId, SESSION_ID_PATTERN } from '../../protocol/ids.js';
import {
  type AcceptMessage,
  ALGORITHM_WIRE_NAMES,
  type CloseReason,
  createMessage,
  type DataMessage,
  type DataPayload,
  ENCODING_WIRE_NAMES,
  type HelloMessage,
  type Message,
  type MessageLimits,
  PROTOCOL_VERSION,
  parseMessage,
  type RejectCode,
  type RejectMessage,
  resolveLimits,
  validateMessage,
} from '../../protocol/messages.js';
import {
  acceptPayload,
  checkAlgorithms,
  checkEncodings,
  negotiate,
  resolveTiming,
  type ServerCapabilities,
  type SessionParams,
  type TimingOptions,
} from '../../protocol/negotiate.js';
import {
  acceptSecurity,
  checkRequestProof,
  negotiateSecurity,
  openData,
  resolveSecurityPolicy,
  type SealState,
  type SessionSecurityPolicy,
  sealData,
} from '../../protocol/secure.js';
import { receiveEvent, SERVER_FATAL_CODES, type SessionState, transition } from '../../protocol/state.js';
import { type Clock, systemClock } from './clock.js';
import { ServerConnection } from './connection.js';
import { MemorySessionStore, type SessionRecord, type SessionStore } from './store.js';

export type Transport = 'websocket' | 'http';

/**
 * What an HTTP request on a session shows of its sender: a keyed session
 * needs the request's proof (header `m2m-session-proof`, see secure.ts), a
 * keyless one is bound to the client address that opened it.
 */
export interface RequestAuth {
  method: string;
  /** The URL path, without the query. */
  path: string;
  body: string;
  proof?: string;
  peer?: string;
}

/** Where a request or connection comes from. */
export interface PeerInfo {
  transport: Transport;
  /** Remote address, if known. */
  peer?: string;
}

/** What the DATA handler is told about a message. */
export interface DataContext extends PeerInfo {
  /** Null in stateless mode. */
  sessionId: string | null;
  params?: SessionParams;
  message: DataMessage;
  /** The local scan of the content, when the manager has a scanner. */
  scan?: ScanResult;
}

/** Handles received content; a returned string is sent back as DATA. */
export type DataHandler = (
  content: string,
  context: DataContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing sends no reply
) => string | undefined | void | Promise<string | undefined | void>;

/**
 * Says whether a HELLO or a DATA message may proceed (false refuses with
 * RATE_LIMITED). For DATA, `sessionId` is `''` in stateless mode, and
 * `bytes` is the size of the payload as received (binary frame bytes, or the
 * wire string's length).
 */
export type RateLimiter = (
  context: PeerInfo & { kind: 'hello' | 'message'; sessionId?: string; bytes?: number },
) => boolean | Promise<boolean>;

/** Options of {@link SessionManager}. */
export interface SessionManagerOptions extends Partial<TimingOptions> {
  // helloTimeoutMs: how long a new connection may stay without a HELLO (and idle in stateless mode).
  /** Default: a {@link MemorySessionStore} on the manager's clock. */
  store?: SessionStore;
  clock?: Clock;
  /** Protocol versions accepted. Default ['1.0']. */
  versions?: string[];
  /** Algorithms offered. Default: all five. */
  algorithms?: Algorithm[];
  /** Tokenizer encodings offered (cl100k_base is always added). Default: all three. */
  encodings?: Encoding[];
  limits?: Partial<MessageLimits>;
  /** Offer binary frames on WebSocket connections. Default true. */
  binaryFrames?: boolean;
  /**
   * History kept per direction for clients that offer the history extension
   * (sessions that remember, see codec/history.ts), in bytes; 0 turns it
   * off. Default `DEFAULT_HISTORY_BYTES` (24 KiB).
   */
  historyBytes?: number;
  /** Scans received content (and sent content when security scanning is negotiated). */
  scanner?: Scanner;
  /** When the scanner does not say `blocked`: refuse unsafe content. Default true. */
  securityBlocking?: boolean;
  /** REJECT SECURITY_POLICY for clients that do not offer security_scanning. Needs a scanner. */
  requireSecurityScanning?: boolean;
  /** REJECT SERVER_BUSY when this many sessions are live in the store. */
  maxSessions?: number;
  /** REJECT RATE_LIMITED when the client address already holds this many live sessions (spec §7.6.1: 100). */
  maxSessionsPerPeer?: number;
  rateLimiter?: RateLimiter;
  /** Auto's size bands for the DATA this manager sends (see `compress()`'s `minSize` and `brotliThreshold`). */
  send?: Pick<SendOptions, 'minSize' | 'brotliThreshold'>;
  /** What to do with received content. Default: nothing (no reply). */
  onData?: DataHandler;
  /** Answer DATA with a null session_id before any HELLO on a connection (spec §4.7.3). Default true. */
  allowStateless?: boolean;
  /** Messages queued on one connection before it is closed as abusive. Default 256. */
  maxPendingMessages?: number;
  /** PING idle WebSocket clients. Default true. */
  keepAlive?: boolean;
  /** How many issued ids are remembered to guarantee no reuse (beyond the live ones in the store). Default 65,536. */
  idHistorySize?: number;
  /**
   * Session security (X25519 keys in HELLO/ACCEPT, sealed DATA): by default
   * accepted from clients that offer it; `require: true` refuses keyless
   * clients (REJECT SECURITY_POLICY); `preShared` pins identities with an org
   * master key; `false` offers none.
   */
  sessionSecurity?: SessionSecurityPolicy | false;
  /** Receives every error that is handled internally (for logging). */
  onError?: (error: M2MError, info: PeerInfo & { sessionId?: string }) => void;
  /**
   * Decodes received DATA and encodes replies elsewhere (a worker thread)
   * from a size on, so a large message does not stall the other clients.
   * It must scan as `scanner` and `securityBlocking` say.
   */
  offload?: CodecOffload;
}

/** Received DATA to decode off the event loop: what `decodeData` takes, as plain data. */
export interface DecodeJob {
  payload: DataPayload;
  params?: SessionParams;
  binary?: Uint8Array;
  /** The session's history (the job works on a copy and gives back the result). */
  history?: SessionHistory;
}

/** A reply to encode off the event loop: what `encodeData` takes, as plain data. */
export interface EncodeJob {
  content: string;
  params?: SessionParams;
  send: SendOptions;
  history?: SessionHistory;
}

/** An offloaded job's result or error, and the session's history after it (also after an error). */
export interface CodecJobResult<T> {
  result?: T;
  error?: M2MError;
  history?: SessionHistory;
}

/** Where large DATA is decoded and encoded (the server's work pool). */
export interface CodecOffload {
  /** From this size on (received: wire characters or binary bytes; sent: content characters). */
  minBytes: number;
  decode(job: DecodeJob): Promise<CodecJobResult<DecodedData>>;
  encode(job: EncodeJob): Promise<CodecJobResult<EncodedData>>;
}

/** A session as `GET /session/:id` shows it. */
export interface SessionInfo {
  session_id: string;
  state: SessionState;
  transport: Transport;
  version: string;
  algorithms: string[];
  encoding: string;
  security_scanning: boolean;
  max_payload_size: number;
  session_timeout_ms: number;
  ping_interval_ms: number;
  ping_timeout_ms: number;
  binary_frames: boolean;
  /** `aead` or `hmac` for a keyed session, null for a keyless one. */
  session_security: 'aead' | 'hmac' | null;
  created_at: number;
  last_activity: number;
  expires_at: number;
  messages_received: number;
  messages_sent: number;
}

/** What a transport must provide to carry a connection. */
export interface ConnectionSink {
  sendText(text: string): void;
  sendBinary(bytes: Uint8Array): void;
  /** Closes the underlying connection (WebSocket close code and reason). */
  close(code: number, reason: string): void;
}

/** A message to send, with its binary form when it travels as a binary frame. */
export interface Outgoing {
  message: Message;
  binary?: Uint8Array;
}

/** The result of processing one message in a session. */
interface Processed {
  replies: Outgoing[];
  /** The session ended (CLOSED) while processing. */
  closed: boolean;
  /** A PONG was received. */
  pong?: boolean;
}

let managerCounter = 0;

/** An offloaded job's result: the history it left copied into the record's, then the result or the error thrown. */
function settle<T>(done: CodecJobResult<T>, history: SessionHistory | undefined): T {
  if (history !== undefined && done.history !== undefined) Object.assign(history, done.history);
  if (done.error !== undefined) throw done.error;
  if (done.result === undefined) throw new M2MError('INTERNAL_ERROR', 'an offloaded DATA job returned nothing');
  return done.result;
}

/**
 * Server-side sessions. One manager serves any number of WebSocket
 * connections ({@link SessionManager.openConnection}) and HTTP requests
 * ({@link SessionManager.handleHello}, {@link SessionManager.handleMessage}).
 */
export class SessionManager {
  /** Identifies this manager's sessions in a shared store. */
  readonly instanceId: string;
  readonly store: SessionStore;
  readonly clock: Clock;
  readonly limits: MessageLimits;
  readonly timing: TimingOptions;
  readonly capabilities: ServerCapabilities;
  readonly security: SecurityOptions;
  readonly #sessionSecurity: ReturnType<typeof resolveSecurityPolicy>;
  readonly #options: SessionManagerOptions;
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #connections = new Set<ServerConnection>();
  readonly #bySession = new Map<string, ServerConnection>();
  readonly #issued = new Set<string>();
  readonly #idHistorySize: number;
  readonly #maxPending: number;
  #shuttingDown = false;

  constructor(options: SessionManagerOptions = {}) {
    this.#options = options;
    this.clock = options.clock ?? systemClock;
    this.store = options.store ?? new MemorySessionStore({ clock: this.clock });
    this.limits = resolveLimits(options.limits);
    this.timing = resolveTiming(options);
    this.instanceId = `mgr_${++managerCounter}_${generateSessionId().slice(5, 13)}`;
    const algorithms = checkAlgorithms(options.algorithms ?? [...ALGORITHMS], 'algorithms');
    const encodings = checkEncodings(options.encodings ?? [...ENCODINGS], 'encodings');
    const versions = options.versions ?? [PROTOCOL_VERSION];
    if (versions.length === 0) throw new M2MError('INVALID_OPTION', 'versions must not be empty');
    if (options.requireSecurityScanning && !options.scanner) {
      throw new M2MError('INVALID_OPTION', 'requireSecurityScanning needs a scanner');
    }
    for (const key of ['maxSessions', 'maxSessionsPerPeer'] as const) {
      const value = options[key];
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
        throw new M2MError('INVALID_OPTION', `${key} must be a non-negative integer, got ${value}`);
      }
    }
    this.#idHistorySize = options.idHistorySize ?? 65_536;
    this.#maxPending = options.maxPendingMessages ?? 256;
    this.security = { scanner: options.scanner, blocking: options.securityBlocking ?? true };
    this.#sessionSecurity = resolveSecurityPolicy(options.sessionSecurity);
    this.capabilities = {
      versions,
      algorithms,
      encodings,
      securityScanning: options.scanner !== undefined,
      requireSecurityScanning: options.requireSecurityScanning ?? false,
      maxPayloadSize: this.timing.maxPayloadSize,
      binaryFrames: options.binaryFrames ?? true,
      historyBytes: checkHistoryBytes(options.historyBytes ?? DEFAULT_HISTORY_BYTES, 'historyBytes'),
      sessionTimeoutMs: this.timing.sessionTimeoutMs,
      pingIntervalMs: this.timing.pingIntervalMs,
      pingTimeoutMs: this.timing.pingTimeoutMs,
    };
  }

  /** Open connections (WebSocket), including those still before HELLO. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Sessions being processed right now (for leak checks: 0 when idle). */
  get pendingLocks(): number {
    return this.#locks.size;
  }

  // -------------------------------------------------------------------------
  // Handshake

  /**
   * Processes a HELLO (text or parsed value) and registers the session:
   * ACCEPT, or REJECT for a version or algorithm mismatch and the policies.
   *
   * @throws M2MError for a malformed message, or `INVALID_STATE` for a message other than HELLO.
   */
  async handleHello(
    input: unknown,
    info: PeerInfo = { transport: 'http' },
    binaryTransport = false,
  ): Promise<AcceptMessage | RejectMessage> {
    const message = this.#parse(input);
    if (message.type !== 'HELLO') {
      throw new M2MError('INVALID_STATE', `a session starts with HELLO, not ${message.type}`);
    }
    return (await this.#hello(message, info, binaryTransport)).reply;
  }

  async #hello(
    message: HelloMessage,
    info: PeerInfo,
    binaryTransport: boolean,
  ): Promise<{ reply: AcceptMessage | RejectMessage; params?: SessionParams }> {
    const result = await this.#negotiate(message, info, binaryTransport);
    if (!result.ok) return { reply: this.#reject(result.code, result.message) };
    let decided: ReturnType<typeof negotiateSecurity>;
    try {
      decided = negotiateSecurity(message.payload.extensions, this.#sessionSecurity);
    } catch (err) {
      return { reply: this.#reject('SECURITY_POLICY', asM2MError(err).message) };
    }
    if (!decided.ok) return { reply: this.#reject('SECURITY_POLICY', decided.message) };
    let extension: Record<string, unknown> | undefined;
    const record = await this.#register(result.params, info, (id) => {
      if (!decided.keyed) return undefined;
      const made = acceptSecurity(decided, this.#sessionSecurity, id);
      extension = made.extension;
      return made.state;
    });
    const payload = acceptPayload(result.params);
    if (extension) payload.extensions = { ...payload.extensions, session_security: extension };
    return {
      reply: createMessage('ACCEPT', record.id, payload, this.clock.now()),
      params: result.params,
    };
  }

  async #negotiate(message: HelloMessage, info: PeerInfo, binaryTransport: boolean) {
    const opt = this.#options;
    if (this.#shuttingDown) {
      return { ok: false as const, code: 'SERVER_BUSY' as RejectCode, message: 'the server is shutting down' };
    }
    if (opt.rateLimiter && !(await opt.rateLimiter({ ...info, kind: 'hello' }))) {
      return { ok: false as const, code: 'RATE_LIMITED' as RejectCode, message: 'too many new sessions; retry later' };
    }
    if (opt.maxSessions !== undefined && (await this.countSessions()) >= opt.maxSessions) {
      return { ok: false as const, code: 'SERVER_BUSY' as RejectCode, message: 'the server is at capacity' };
    }
    const perPeer = opt.maxSessionsPerPeer;
    if (
      perPeer !== undefined &&
      info.peer !== undefined &&
      (await this.store.countPeerSessions(info.peer, perPeer)) >= perPeer
    ) {
      return {
        ok: false as const,
        code: 'RATE_LIMITED' as RejectCode,
        message: `this client address already has ${perPeer} open sessions (the limit); close one and retry`,
      };
    }
    return negotiate(message.payload, this.capabilities, binaryTransport);
  }

  #reject(code: RejectCode, text: string): RejectMessage {
    return createMessage('REJECT', null, { code, message: text }, this.clock.now());
  }

  /** A fresh id: never one issued before by this manager, nor one live in the store. */
  async #allocateId(): Promise<string> {
    for (;;) {
      const id = generateSessionId();
      if (this.#issued.has(id) || (await this.store.get(id)) !== undefined) continue;
      this.#issued.add(id);
      if (this.#issued.size > this.#idHistorySize) {
        const oldest = this.#issued.values().next().value;
        if (oldest !== undefined) this.#issued.delete(oldest);
      }
      return id;
    }
  }

  async #register(
    params: SessionParams,
    info: PeerInfo,
    makeSeal: (id: string) => SealState | undefined,
  ): Promise<SessionRecord> {
    const id = await this.#allocateId();
    const seal = makeSeal(id);
    const now = this.clock.now();
    // INITIAL --process_hello--> ESTABLISHED
    const state = transition('server', 'INITIAL', 'process_hello');
    const record: SessionRecord = {
      id,
      state,
      transport: info.transport,
      params,
      owner: this.instanceId,
      createdAt: now,
      lastActivity: now,
      expiresAt: now + params.sessionTimeoutMs,
      messagesReceived: 1,
      messagesSent: 1,
      bytesReceived: 0,
      bytesSent: 0,
    };
    if (info.peer !== undefined) record.peer = info.peer;
    if (seal !== undefined) record.seal = seal;
    if (params.history) record.history = newSessionHistory();
    await this.store.set(id, record, params.sessionTimeoutMs);
    if (info.peer !== undefined) await this.store.addPeerSession(info.peer, id);
    return record;
  }

  // -------------------------------------------------------------------------
  // Messages in a session

  #parse(input: unknown, binary?: Uint8Array): Message {
    const options = { limits: this.limits, now: this.clock.now() };
    if (binary !== undefined) return decodeBinaryFrame(binary, options).message;
    return typeof input === 'string' ? parseMessage(input, options) : validateMessage(input, options);
  }

  /** Runs `fn` after every earlier call for the same session id has finished. */
  async #withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const locked = this.store.lock ? () => this.#withStoreLock(id, fn) : fn;
    const run = previous.then(locked, locked);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#locks.set(id, tail);
    void tail.then(() => {
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    });
    return run;
  }

  /** Runs `fn` holding the store's cross-process lock on `id` (see `SessionStore.lock`). */
  async #withStoreLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const release = await (this.store.lock as (id: string) => Promise<() => Promise<void>>)(id);
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  /**
   * Processes one message of an HTTP session (text or parsed value) and
   * returns the replies (DATA, PONG, or the CLOSE acknowledgement).
   *
   * @throws M2MError — `UNKNOWN_SESSION` if it does not exist (or expired);
   *   a fatal error (see the module comment) closes the session first.
   */
  async handleMessage(
    sessionId: string,
    input: unknown,
    info: PeerInfo = { transport: 'http' },
    auth?: RequestAuth,
  ): Promise<Message[]> {
    if (!SESSION_ID_PATTERN.test(sessionId)) throw new M2MError('UNKNOWN_SESSION', 'no such session');
    return this.#withLock(sessionId, async () => {
      if (auth !== undefined) await this.#authorize(sessionId, auth);
      let message: Message;
      try {
        message = this.#parse(input);
      } catch (err) {
        const error = asM2MError(err);
        if (SERVER_FATAL_CODES.has(error.code) && (await this.store.get(sessionId))?.transport === 'http') {
          await this.store.delete(sessionId);
        }
        throw error;
      }
      try {
        const out = await this.#process(sessionId, message, undefined, info);
        return out.replies.map((r) => r.message);
      } catch (err) {
        const error = asM2MError(err);
        const gone = error.code === 'UNKNOWN_SESSION' || error.code === 'SESSION_LOST';
        if (SERVER_FATAL_CODES.has(error.code) && !gone) await this.store.delete(sessionId);
        throw error;
      }
    });
  }

  /**
   * Checks that an HTTP request on session `id` comes from its owner: the
   * request's proof for a keyed session (the proof window is saved), the
   * client address for a keyless one. The caller holds the session's lock.
   *
   * @throws M2MError `UNKNOWN_SESSION`, `NOT_SESSION_OWNER`, or the replay codes for a reused proof.
   */
  async #authorize(id: string, auth: RequestAuth): Promise<SessionRecord> {
    const record = await this.store.get(id);
    if (record === undefined) throw await this.missing(id);
    if (record.seal !== undefined) {
      checkRequestProof(record.seal, auth.proof, auth.method, auth.path, auth.body);
      await this.store.set(id, record, Math.max(1, record.expiresAt - this.clock.now()));
    } else if (record.peer !== undefined && auth.peer !== record.peer) {
      throw new M2MError('NOT_SESSION_OWNER', 'this session belongs to another client');
    }
    return record;
  }

  /**
   * Checks that an HTTP request (`GET` or `DELETE /session/:id`) comes from
   * the session's owner; see {@link RequestAuth}.
   */
  async authorizeRequest(id: string, auth: RequestAuth): Promise<void> {
    if (!SESSION_ID_PATTERN.test(id)) throw new M2MError('UNKNOWN_SESSION', 'no such session');
    await this.#withLock(id, () => this.#authorize(id, auth));
  }

  /**
   * The core of message processing for an established session. The caller
   * holds the session's lock (or is its connection's queue).
   */
  async #process(id: string, message: Message, binary: Uint8Array | undefined, info: PeerInfo): Promise<Processed> {
    const record = await this.store.get(id);
    if (record === undefined) throw await this.missing(id);
    if (record.transport !== info.transport) {
      throw new M2MError('INVALID_STATE', `this session belongs to a ${record.transport} connection`);
    }
    const state = record.state;
    // Out-of-order or duplicated messages are INVALID_STATE before anything else.
    const next = transition('server', state, receiveEvent(message.type));
    if (message.session_id !== id) {
      throw new M2MError('SESSION_MISMATCH', 'the message names another session');
    }
    const now = this.clock.now();
    const out: Processed = { replies: [], closed: false };
    switch (message.type) {
      case 'PING':
        out.replies.push({ message: createMessage('PONG', id, {}, now) });
        break;
      case 'PONG':
        out.pong = true;
        break;
      case 'CLOSE': {
        record.state = next;
        out.closed = true;
        await this.store.delete(id);
        if (info.transport === 'http') {
          out.replies.push({
            message: createMessage('CLOSE', id, { reason: message.payload.reason ?? 'NORMAL' }, now),
          });
        }
        return out;
      }
      case 'DATA': {
        const received = binary?.length ?? message.payload.content.length;
        await this.#checkRate(info, id, received);
        let payload = message.payload;
        let body = binary;
        if (record.seal !== undefined) {
          // Refused (tampered, replayed, unsealed): nothing is saved, the window does not move.
          ({ payload, binary: body } = openData(record.seal, message, binary));
        }
        // A client whose receive state is not our send state lost or refused a reply: start again from empty.
        if (
          record.history &&
          payload.history_ack !== undefined &&
          payload.history_ack !== historyLabel(record.history.send)
        ) {
          resetHistory(record.history.send);
        }
        let decoded: DecodedData;
        try {
          decoded = await this.#decode(payload, record.params, body, record.history);
        } catch (err) {
          // Authentic but refused content: its number is used up all the same (and a decoded one is in the history).
          if (record.seal !== undefined || record.history !== undefined) {
            await this.store.set(id, record, record.params.sessionTimeoutMs);
          }
          throw err;
        }
        let reply: string | undefined;
        try {
          reply = await this.#callHandler(decoded.content, {
            ...info,
            sessionId: id,
            params: record.params,
            message,
            ...(decoded.scan ? { scan: decoded.scan } : {}),
          });
        } catch (err) {
          // The message was received: its history stays in step with the sender's.
          if (record.history !== undefined) await this.store.set(id, record, record.params.sessionTimeoutMs);
          throw err;
        }
        if (reply !== undefined) {
          transition('server', record.state, 'send_data');
          let encoded = await this.#encode(reply, record.params, record.history);
          const at = this.clock.now();
          if (record.seal !== undefined) encoded = sealData(record.seal, id, at, encoded.payload, encoded.binary);
          const data = createMessage('DATA', id, encoded.payload, at);
          out.replies.push(
            encoded.binary ? { message: data, binary: encodeBinaryFrame(data, encoded.binary) } : { message: data },
          );
          record.bytesSent += encoded.binary?.length ?? encoded.payload.content.length;
        }
        record.bytesReceived += received;
        break;
      }
    }
    record.messagesReceived++;
    record.messagesSent += out.replies.length;
    record.lastActivity = now;
    record.expiresAt = now + record.params.sessionTimeoutMs;
    await this.store.set(id, record, record.params.sessionTimeoutMs);
    return out;
  }

  /**
   * `decodeData` with this manager's security, off the event loop when the
   * payload is large and there is an offload. `history` (the record's) is
   * updated in place, as `decodeData` updates it.
   */
  async #decode(
    payload: DataPayload,
    params: SessionParams | undefined,
    binary?: Uint8Array,
    history?: SessionHistory,
  ): Promise<DecodedData> {
    const offload = this.#options.offload;
    if (offload === undefined || (binary?.length ?? payload.content.length) < offload.minBytes) {
      return decodeData(payload, params, this.security, binary, history ? { history } : undefined);
    }
    return settle(
      await offload.decode({
        payload,
        ...(params ? { params } : {}),
        ...(binary ? { binary } : {}),
        ...(history ? { history } : {}),
      }),
      history,
    );
  }

  /** `encodeData` of a reply, as {@link SessionManager.#decode} does it. */
  async #encode(content: string, params: SessionParams | undefined, history?: SessionHistory): Promise<EncodedData> {
    const offload = this.#options.offload;
    const send = this.#options.send ?? {};
    if (offload === undefined || content.length < offload.minBytes) {
      return encodeData(content, params, this.security, send, history ? { history } : undefined);
    }
    return settle(
      await offload.encode({ content, send, ...(params ? { params } : {}), ...(history ? { history } : {}) }),
      history,
    );
  }

  async #checkRate(info: PeerInfo, sessionId: string, bytes: number): Promise<void> {
    const limiter = this.#options.rateLimiter;
    if (limiter && !(await limiter({ ...info, kind: 'message', sessionId, bytes }))) {
      throw new M2MError(
        'RATE_LIMITED',
        'rate limit exceeded for this session (DATA messages per minute or payload bytes per second); retry later',
      );
    }
  }

  async #callHandler(content: string, context: DataContext): Promise<string | undefined> {
    const handler = this.#options.onData;
    if (!handler) return undefined;
    let reply: unknown;
    try {
      reply = await handler(content, context);
    } catch (err) {
      throw asM2MError(err);
    }
    if (reply === undefined || reply === null) return undefined;
    if (typeof reply !== 'string')
      throw new M2MError('INTERNAL_ERROR', 'the DATA handler must return a string or nothing');
    return reply;
  }

  /** Stateless DATA (spec §4.7.3): decoded, handled, answered with a null session_id. */
  async handleStateless(message: DataMessage, info: PeerInfo): Promise<Outgoing[]> {
    await this.#checkRate(info, '', message.payload.content.length);
    const decoded = await this.#decode(message.payload, undefined);
    const reply = await this.#callHandler(decoded.content, {
      ...info,
      sessionId: null,
      message,
      ...(decoded.scan ? { scan: decoded.scan } : {}),
    });
    if (reply === undefined) return [];
    const encoded = await this.#encode(reply, undefined);
    return [{ message: createMessage('DATA', null, encoded.payload, this.clock.now()) }];
  }

  // -------------------------------------------------------------------------
  // Queries and administration

  /**
   * The error for a session id the store does not have: `SESSION_LOST` when
   * the store lost its contents within the last session timeout (a restart
   * without persistence), else `UNKNOWN_SESSION`.
   */
  async missing(id: string): Promise<M2MError> {
    const lostAt = await this.store.lostAt?.().catch(() => undefined);
    if (lostAt !== undefined && this.clock.now() - lostAt < this.timing.sessionTimeoutMs) {
      return new M2MError(
        'SESSION_LOST',
        `session ${id} is not in the session store, which restarted at ${new Date(lostAt).toISOString()} and lost the sessions it held; start a new session`,
      );
    }
    return new M2MError('UNKNOWN_SESSION', 'no such session (closed or expired)');
  }

  /** A session's public view, or undefined if there is none. */
  async getSession(id: string): Promise<SessionInfo | undefined> {
    if (!SESSION_ID_PATTERN.test(id)) return undefined;
    const r = await this.store.get(id);
    if (r === undefined) return undefined;
    return {
      session_id: r.id,
      state: r.state,
      transport: r.transport,
      version: r.params.version,
      algorithms: r.params.algorithms.map((a) => ALGORITHM_WIRE_NAMES[a]),
      encoding: ENCODING_WIRE_NAMES[r.params.encoding],
      security_scanning: r.params.securityScanning,
      max_payload_size: r.params.maxPayloadSize,
      session_timeout_ms: r.params.sessionTimeoutMs,
      ping_interval_ms: r.params.pingIntervalMs,
      ping_timeout_ms: r.params.pingTimeoutMs,
      binary_frames: r.params.binaryFrames,
      session_security: r.seal?.mode ?? null,
      created_at: r.createdAt,
      last_activity: r.lastActivity,
      expires_at: r.expiresAt,
      messages_received: r.messagesReceived,
      messages_sent: r.messagesSent,
    };
  }

  /** Ids of the live sessions in the store. */
  listSessions(): Promise<string[]> {
    return this.store.list();
  }

  /** How many sessions are live in the store (its count, or its list's length). */
  async countSessions(): Promise<number> {
    return this.store.count ? this.store.count() : (await this.store.list()).length;
  }

  /**
   * Ends a session from the server side. A WebSocket session is sent CLOSE
   * with `reason` and goes through CLOSING; an HTTP session (which has no
   * channel to tell) is deleted at once. False if there was no such session.
   */
  async closeSession(id: string, reason: CloseReason = 'NORMAL', text?: string): Promise<boolean> {
    const connection = this.#bySession.get(id);
    if (connection) {
      await connection.close(reason, text);
      return true;
    }
    if (!SESSION_ID_PATTERN.test(id)) return false;
    return this.#withLock(id, async () => {
      const record = await this.store.get(id);
      if (record === undefined || record.transport !== 'http') return false;
      return this.store.delete(id);
    });
  }

  /**
   * Stops accepting sessions (HELLO gets REJECT SERVER_BUSY), closes every
   * connection with CLOSE `reason` and waits for them (at most the closing
   * timeout), then deletes the remaining sessions this manager created.
   */
  async shutdown(reason: CloseReason = 'SERVER_SHUTDOWN'): Promise<void> {
    this.#shuttingDown = true;
    await Promise.all([...this.#connections].map((c) => c.close(reason)));
    for (const id of await this.store.list()) {
      const record = await this.store.get(id);
      if (record?.owner === this.instanceId) await this.store.delete(id);
    }
  }

  // -------------------------------------------------------------------------
  // Connections

  /**
   * Starts a connection (e.g. one WebSocket). Feed it what arrives with
   * {@link ServerConnection.receive} and call
   * {@link ServerConnection.transportClosed} when the transport closes.
   */
  openConnection(sink: ConnectionSink, info: Omit<PeerInfo, 'transport'> = {}): ServerConnection {
    const connection = new ServerConnection(this, sink, { ...info, transport: 'websocket' }, this.#maxPending);
    this.#connections.add(connection);
    return connection;
  }

  /** @internal */
  _report(err: unknown, info: PeerInfo & { sessionId?: string }): void {
    const error = asM2MError(err);
    try {
      this.#options.onError?.(error, info);
    } catch {
      // A logging hook must not break the session.
    }
  }

  /** @internal */
  _bind(connection: ServerConnection, id: string): void {
    this.#bySession.set(id, connection);
  }

  /** @internal */
  _forget(connection: ServerConnection): void {
    this.#connections.delete(connection);
    const id = connection.sessionId;
    if (id !== undefined && this.#bySession.get(id) === connection) this.#bySession.delete(id);
  }

  /** @internal */
  _hello(message: HelloMessage, info: PeerInfo) {
    return this.#hello(message, info, true);
  }

  /** @internal */
  _process(id: string, message: Message, binary: Uint8Array | undefined, info: PeerInfo): Promise<Processed> {
    return this.#withLock(id, () => this.#process(id, message, binary, info));
  }

  /** @internal */
  _parse(data: string | Uint8Array): { message: Message; body?: Uint8Array } {
    const options = { limits: this.limits, now: this.clock.now() };
    if (typeof data === 'string') return { message: parseMessage(data, options) };
    return decodeBinaryFrame(data, options);
  }

  /** @internal Moves a session to CLOSING in the store (TTL: the closing timeout). */
  async _markClosing(id: string, reason: string): Promise<void> {
    await this.#withLock(id, async () => {
      const record = await this.store.get(id);
      if (record === undefined) return;
      record.state = 'CLOSING';
      record.closeReason = reason;
      record.expiresAt = this.clock.now() + this.timing.closingTimeoutMs;
      await this.store.set(id, record, this.timing.closingTimeoutMs);
    });
  }

  /** @internal */
  async _delete(id: string): Promise<void> {
    await this.#withLock(id, () => this.store.delete(id));
  }

  /** @internal */
  get _options(): SessionManagerOptions {
    return this.#options;
  }
}
