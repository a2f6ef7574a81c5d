/**
 * `M2MClient`: the client side of a session, over WebSocket or HTTP, in Node
 * and in browsers (it uses only the environment-neutral part of the library;
 * in a browser, await the wasm `init()` before connecting).
 *
 * ```ts
 * const client = new M2MClient({ url: 'ws://127.0.0.1:3000/v1/ws' });
 * await client.connect();
 * client.onData((text) => console.log(text));
 * await client.send('{"model":"gpt-4o","messages":[]}');
 * await client.close();
 * ```
 */
import { ALGORITHMS, type Algorithm } from '../../codec/codec.js';
import { checkHistoryBytes, newSessionHistory, resetHistory, type SessionHistory } from '../../codec/history.js';
import { ENCODINGS, type Encoding } from '../../core/encoding.js';
import { asM2MError, errorFromPeer, M2MError } from '../../core/errors.js';
import { x25519KeyPair } from '../../core/keys.js';
import { decodeBinaryFrame, encodeBinaryFrame } from '../../protocol/binary.js';
import { decodeData, encodeData, type Scanner, type SecurityOptions, type SendOptions } from '../../protocol/data.js';
import {
  type CloseReason,
  createMessage,
  type DataMessage,
  type Message,
  type MessageLimits,
  PROTOCOL_VERSION,
  parseMessage,
  type RejectPayload,
  resolveLimits,
  serializeMessage,
} from '../../protocol/messages.js';
import {
  type ClientCapabilities,
  checkAlgorithms,
  checkEncodings,
  helloPayload,
  paramsFromAccept,
  resolveTiming,
  type SessionParams,
  type TimingOptions,
} from '../../protocol/negotiate.js';
import {
  helloSecurity,
  openData,
  PROOF_HEADER,
  proveRequest,
  resolveSecurityPolicy,
  type SealState,
  type SessionSecurityPolicy,
  sealData,
  securityFromAccept,
} from '../../protocol/secure.js';
import { FATAL_CODES, type SessionState, StateMachine } from '../../protocol/state.js';
import { type ChannelFactory, type ClientChannel, httpChannel, webSocketChannel } from './channel.js';
import { type Clock, systemClock, Timer } from './clock.js';
import { KeepAlive } from './keepalive.js';

/** Options of {@link M2MClient}. */
export interface M2MClientOptions extends Partial<Omit<TimingOptions, 'sessionTimeoutMs'>> {
  /** `ws://host:port/v1/ws` (WebSocket) or `http://host:port[/v1]` (HTTP). */
  url: string;
  /** Default: from the URL scheme. */
  transport?: 'websocket' | 'http';
  /** A custom transport (overrides `transport`). */
  channel?: ChannelFactory;
  /** HTTP mode: the fetch to use. Default: the global one. */
  fetch?: typeof fetch;
  /** HTTP mode: timeout of one request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Algorithms to offer, most preferred first. Default: all five. */
  algorithms?: Algorithm[];
  /** Tokenizer encodings to offer (cl100k_base is always added). Default: all three. */
  encodings?: Encoding[];
  /** Default: the first of `encodings`. */
  preferredEncoding?: Encoding;
  /** Scans received content (and sent content when scanning is negotiated). */
  scanner?: Scanner;
  /** When the scanner does not say `blocked`: refuse unsafe content. Default true. */
  securityBlocking?: boolean;
  /** Offer security scanning. Default: whether there is a scanner. */
  securityScanning?: boolean;
  /** Offer binary frames (WebSocket only). Default true. */
  binaryFrames?: boolean;
  /**
   * Offer the history extension (sessions that remember, codec/history.ts):
   * the history kept per direction, in bytes; 0 does not offer it. Default 0
   * (off).
   */
  historyBytes?: number;
  /** Send PINGs when idle and close after missed PONGs. Default true. */
  keepAlive?: boolean;
  limits?: Partial<MessageLimits>;
  clock?: Clock;
  /**
   * Session security: by default the client offers X25519 keys and AEAD (then
   * HMAC) and every DATA is sealed when the server accepts; a server that does
   * not falls back to a keyless session unless `require: true`
   * (`SECURITY_DOWNGRADE`). `preShared` pins identities with an org master
   * key (and implies `require`). `false` offers nothing.
   */
  sessionSecurity?: SessionSecurityPolicy | false;
}

/** How the session ended. */
export interface CloseInfo {
  reason: string;
  message?: string;
  /** Who ended it: this client, the server (CLOSE/REJECT), or the transport. */
  by: 'client' | 'server' | 'transport';
}

type Listener<T extends unknown[]> = (...args: T) => void;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // rejections are observed by whoever awaits
  return { promise, resolve, reject };
}

/** The client end of an M2M session. */
export class M2MClient {
  readonly url: string;
  readonly transport: 'websocket' | 'http' | 'custom';
  readonly #options: M2MClientOptions;
  readonly #clock: Clock;
  readonly #limits: MessageLimits;
  readonly #timing: TimingOptions;
  readonly #capabilities: Omit<ClientCapabilities, 'binaryFrames'> & { binaryFrames: boolean };
  readonly #security: SecurityOptions;
  readonly #machine: StateMachine;
  readonly #dataListeners = new Set<Listener<[string, DataMessage]>>();
  readonly #closeListeners = new Set<Listener<[CloseInfo]>>();
  readonly #errorListeners = new Set<Listener<[M2MError]>>();
  readonly #helloTimer: Timer;
  readonly #closingTimer: Timer;
  readonly #closed = deferred<CloseInfo>();
  #channel: ClientChannel | undefined;
  #handshake: Deferred<SessionParams> | undefined;
  #pongWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #keepAlive: KeepAlive | undefined;
  #sessionId: string | null = null;
  #params: SessionParams | undefined;
  /** With the history extension: what each direction carried. */
  #history: SessionHistory | undefined;
  /** DATA sends not yet settled. */
  #sending = 0;
  #rejection: RejectPayload | undefined;
  #closeInfo: CloseInfo | undefined;
  #lastError: M2MError | undefined;
  readonly #sessionPolicy: ReturnType<typeof resolveSecurityPolicy>;
  #keyPair: { secretKey: Uint8Array; publicKey: Uint8Array } | undefined;
  #seal: SealState | undefined;

  constructor(options: M2MClientOptions) {
    if (typeof options?.url !== 'string') throw new M2MError('INVALID_OPTION', 'url is required');
    let scheme: string;
    try {
      scheme = new URL(options.url).protocol;
    } catch {
      throw new M2MError('INVALID_OPTION', `url is not a valid URL: ${options.url}`);
    }
    this.url = options.url;
    this.#options = options;
    if (options.channel) this.transport = 'custom';
    else if (options.transport) this.transport = options.transport;
    else if (scheme === 'ws:' || scheme === 'wss:') this.transport = 'websocket';
    else if (scheme === 'http:' || scheme === 'https:') this.transport = 'http';
    else throw new M2MError('INVALID_OPTION', `unsupported URL scheme ${scheme}`);
    this.#clock = options.clock ?? systemClock;
    this.#limits = resolveLimits(options.limits);
    this.#timing = resolveTiming(options);
    const encodings = checkEncodings(options.encodings ?? [...ENCODINGS], 'encodings');
    const preferred = options.preferredEncoding ?? encodings[0] ?? 'cl100k_base';
    if (!encodings.includes(preferred)) {
      throw new M2MError('INVALID_OPTION', `preferredEncoding ${preferred} is not among encodings`);
    }
    this.#capabilities = {
      version: PROTOCOL_VERSION,
      algorithms: checkAlgorithms(options.algorithms ?? [...ALGORITHMS], 'algorithms'),
      encodings,
      preferredEncoding: preferred,
      securityScanning: options.securityScanning ?? options.scanner !== undefined,
      maxPayloadSize: this.#timing.maxPayloadSize,
      binaryFrames: options.binaryFrames ?? true,
      historyBytes: checkHistoryBytes(options.historyBytes ?? 0, 'historyBytes'),
    };
    this.#security = { scanner: options.scanner, blocking: options.securityBlocking ?? true };
    this.#sessionPolicy = resolveSecurityPolicy(options.sessionSecurity);
    this.#machine = new StateMachine('client');
    this.#helloTimer = new Timer(this.#clock, () => this.#helloTimedOut());
    this.#closingTimer = new Timer(this.#clock, () => this.#toClosed('closing_timeout', this.#closeInfo));
  }

  get state(): SessionState {
    return this.#machine.state;
  }

  /** The id the server assigned (null before ACCEPT). */
  get sessionId(): string | null {
    return this.#sessionId;
  }

  /** The negotiated parameters, once established. */
  get params(): SessionParams | undefined {
    return this.#params;
  }

  /** `aead` or `hmac` once a keyed session is established; null for a keyless one (or before ACCEPT). */
  get sessionSecurity(): 'aead' | 'hmac' | null {
    return this.#seal?.mode ?? null;
  }

  /**
   * Headers that prove this client owns its keyed session, for an HTTP
   * request of your own on it (e.g. `DELETE /v1/session/:id`): `path` without
   * the query, `body` as sent. Empty for a keyless session.
   */
  sessionProof(method: string, path: string, body = ''): Record<string, string> {
    return this.#seal ? { [PROOF_HEADER]: proveRequest(this.#seal, method, path, body) } : {};
  }

  /** The server's REJECT, if it sent one. */
  get rejection(): RejectPayload | undefined {
    return this.#rejection;
  }

  /** How the session ended, once CLOSED. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  /** The last error reported to `onError`. */
  get lastError(): M2MError | undefined {
    return this.#lastError;
  }

  /** Resolves when the session reaches CLOSED. */
  get closed(): Promise<CloseInfo> {
    return this.#closed.promise;
  }

  /** Consecutive unanswered keep-alive PINGs. */
  get missedPongs(): number {
    return this.#keepAlive?.missedPongs ?? 0;
  }

  // -------------------------------------------------------------------------
  // Events

  /** Calls `listener` with each received content. Returns an unsubscribe function. */
  onData(listener: (content: string, message: DataMessage) => void): () => void {
    this.#dataListeners.add(listener);
    return () => this.#dataListeners.delete(listener);
  }

  onClose(listener: (info: CloseInfo) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Errors that do not end the session (refused DATA, ignored messages) and those that do. */
  onError(listener: (error: M2MError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /** Received contents from now until the session closes. */
  messages(): AsyncIterableIterator<string> {
    const queue: string[] = [];
    const waiting: Array<(r: IteratorResult<string>) => void> = [];
    let done = this.state === 'CLOSED';
    const finish = () => {
      done = true;
      offData();
      offClose();
      for (const w of waiting.splice(0)) w({ value: undefined, done: true });
    };
    const offData = this.onData((content) => {
      const w = waiting.shift();
      if (w) w({ value: content, done: false });
      else queue.push(content);
    });
    const offClose = this.onClose(finish);
    if (done) finish();
    const iterator: AsyncIterableIterator<string> = {
      next: () => {
        const value = queue.shift();
        if (value !== undefined) return Promise.resolve({ value, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        finish();
        queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<string> {
    return this.messages();
  }

  #emit<T extends unknown[]>(listeners: Set<Listener<T>>, ...args: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(...args);
      } catch (err) {
        this.#error(asM2MError(err));
      }
    }
  }

  #error(error: M2MError): void {
    this.#lastError = error;
    for (const listener of [...this.#errorListeners]) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere else to report to.
      }
    }
  }

  // -------------------------------------------------------------------------
  // Operations

  /**
   * Opens the transport, sends HELLO and waits for ACCEPT (resolves with the
   * negotiated parameters) or REJECT (rejects with an `M2MError` whose code
   * is the REJECT code, e.g. `VERSION_MISMATCH`). No answer within the
   * hello timeout: `TIMEOUT`.
   */
  async connect(): Promise<SessionParams> {
    this.#machine.check('create_hello');
    const handshake = deferred<SessionParams>();
    this.#handshake = handshake;
    this.#machine.apply('create_hello'); // INITIAL → HELLO_SENT
    this.#helloTimer.start(this.#timing.helloTimeoutMs);
    const factory =
      this.#options.channel ?? (this.transport === 'http' ? httpChannel : (webSocketChannel as ChannelFactory));
    try {
      const channel = await factory(
        this.url,
        {
          message: (data) => this.#receive(data),
          close: (code, reason) => this.#transportClosed(code, reason),
        },
        {
          maxMessageBytes: this.#limits.maxMessageBytes,
          clock: this.#clock,
          requestTimeoutMs: this.#options.requestTimeoutMs ?? 30_000,
          authorize: (method, path, body) => this.sessionProof(method, path, body),
          ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
        },
      );
      if (this.state !== 'HELLO_SENT') {
        channel.close(1000, 'abandoned');
        return await handshake.promise;
      }
      this.#channel = channel;
      const payload = helloPayload({
        ...this.#capabilities,
        binaryFrames: this.#capabilities.binaryFrames && channel.binary,
      });
      if (this.#sessionPolicy.modes.length > 0) {
        this.#keyPair = x25519KeyPair();
        const offer = helloSecurity(this.#sessionPolicy, this.#keyPair.publicKey);
        if (offer) payload.extensions = { ...payload.extensions, session_security: offer };
      }
      const hello = createMessage('HELLO', null, payload, this.#clock.now());
      await this.#sendMessage(hello);
    } catch (err) {
      const error = asM2MError(err);
      this.#failHandshake(error);
    }
    return handshake.promise;
  }

  /** Sends `content` as DATA. In HTTP mode, resolves after the server's reply (if any) was delivered. */
  async send(content: string, options: SendOptions = {}): Promise<void> {
    this.#machine.check('send_data');
    const params = this.#params as SessionParams;
    // Against both directions only over HTTP (each send waits for its reply) with no other send in flight.
    const bothDirections = this.transport === 'http' && this.#sending === 0;
    let encoded = encodeData(
      content,
      params,
      this.#security,
      options,
      this.#history ? { history: this.#history, ack: true, bothDirections } : undefined,
    );
    this.#sending++;
    try {
      const at = this.#clock.now();
      if (this.#seal) encoded = sealData(this.#seal, this.#sessionId as string, at, encoded.payload, encoded.binary);
      const message = createMessage('DATA', this.#sessionId as string, encoded.payload, at);
      this.#machine.apply('send_data');
      if (encoded.binary) await this.#sendRaw(encodeBinaryFrame(message, encoded.binary), message);
      else await this.#sendMessage(message);
    } catch (err) {
      // Not sent, refused or lost: it may not be in the server's history (see the ERROR case), though it is in ours;
      // and the server's send state is no longer known.
      if (this.#history) {
        resetHistory(this.#history.send);
        this.#history.recvConfirmed = false;
      }
      throw err;
    } finally {
      this.#sending--;
    }
  }

  /** Sends PING and resolves with the round-trip time in ms when PONG arrives; `PING_TIMEOUT` after the ping timeout. */
  async ping(): Promise<number> {
    this.#machine.check('send_ping');
    const started = this.#clock.now();
    const waiter = deferred<void>();
    const entry = { resolve: () => waiter.resolve(), reject: (error: unknown) => waiter.reject(error) };
    this.#pongWaiters.push(entry);
    const timer = new Timer(this.#clock, () =>
      waiter.reject(new M2MError('PING_TIMEOUT', `no PONG within ${this.#timing.pingTimeoutMs} ms`)),
    );
    timer.start(this.#timing.pingTimeoutMs);
    try {
      this.#machine.apply('send_ping');
      await this.#sendMessage(createMessage('PING', this.#sessionId as string, {}, this.#clock.now()));
      await waiter.promise;
      return this.#clock.now() - started;
    } finally {
      timer.stop();
      this.#pongWaiters = this.#pongWaiters.filter((w) => w !== entry);
    }
  }

  /**
   * Ends the session: CLOSE with `reason`, then CLOSING until the server
   * acknowledges (by closing the connection, or with CLOSE over HTTP) or the
   * closing timeout passes. Resolves when CLOSED.
   */
  async close(reason: CloseReason = 'NORMAL', message?: string): Promise<CloseInfo> {
    const state = this.state;
    if (state === 'ESTABLISHED') {
      this.#machine.apply('close'); // → CLOSING
      this.#keepAlive?.stop();
      this.#closeInfo = { reason, by: 'client', ...(message === undefined ? {} : { message }) };
      this.#closingTimer.start(this.#timing.closingTimeoutMs);
      const payload = message === undefined ? { reason } : { reason, message };
      this.#sendMessage(createMessage('CLOSE', this.#sessionId as string, payload, this.#clock.now())).catch((err) => {
        this.#error(asM2MError(err));
        this.#toClosed('connection_lost', this.#closeInfo);
      });
    } else if (state === 'INITIAL' || state === 'HELLO_SENT') {
      this.#closeInfo = { reason, by: 'client' };
      if (state === 'HELLO_SENT') this.#failHandshake(new M2MError('CLOSED', 'closed before the handshake finished'));
      else this.#toClosed('connection_lost', this.#closeInfo);
    }
    return this.#closed.promise;
  }

  // -------------------------------------------------------------------------
  // Internals

  async #sendMessage(message: Message): Promise<void> {
    await this.#sendRaw(serializeMessage(message), message);
  }

  async #sendRaw(data: string | Uint8Array, message: Message): Promise<void> {
    const channel = this.#channel;
    if (!channel) throw new M2MError('INVALID_STATE', 'not connected');
    try {
      await channel.send(data, message);
    } catch (err) {
      throw asM2MError(err);
    }
  }

  #receive(data: string | Uint8Array): void {
    if (this.state === 'CLOSED') return;
    let message: Message;
    let body: Uint8Array | undefined;
    try {
      const options = { limits: this.#limits, now: this.#clock.now() };
      if (typeof data === 'string') message = parseMessage(data, options);
      else ({ message, body } = decodeBinaryFrame(data, options));
    } catch (err) {
      this.#protocolError(asM2MError(err));
      return;
    }
    this.#keepAlive?.received();
    try {
      this.#dispatch(message, body);
    } catch (err) {
      this.#protocolError(asM2MError(err));
    }
  }

  #dispatch(message: Message, body: Uint8Array | undefined): void {
    if (
      message.type !== 'ACCEPT' &&
      message.type !== 'REJECT' &&
      message.type !== 'HELLO' &&
      this.#sessionId !== null
    ) {
      if (this.state === 'ESTABLISHED' || this.state === 'CLOSING') {
        if (message.session_id !== this.#sessionId) {
          throw new M2MError('SESSION_MISMATCH', 'the message names another session');
        }
      }
    }
    switch (message.type) {
      case 'HELLO':
        this.#machine.check('process_hello'); // always INVALID_STATE for a client
        return;
      case 'ACCEPT': {
        this.#machine.check('process_accept');
        const params = paramsFromAccept(
          message.payload,
          { ...this.#capabilities, binaryFrames: this.#capabilities.binaryFrames && (this.#channel?.binary ?? false) },
          this.#timing,
        );
        let seal: SealState | undefined;
        try {
          seal = securityFromAccept(message.payload.extensions, this.#sessionPolicy, this.#keyPair, message.session_id);
        } catch (err) {
          // No silent fallback: a downgraded or unverifiable ACCEPT ends the handshake.
          this.#failHandshake(asM2MError(err));
          return;
        }
        this.#seal = seal;
        this.#machine.apply('process_accept'); // → ESTABLISHED
        this.#helloTimer.stop();
        this.#sessionId = message.session_id;
        this.#params = params;
        this.#history = params.history ? newSessionHistory() : undefined;
        this.#startKeepAlive(params);
        this.#handshake?.resolve(params);
        this.#handshake = undefined;
        return;
      }
      case 'REJECT': {
        this.#machine.check('process_reject');
        this.#rejection = message.payload;
        this.#failHandshake(
          errorFromPeer(message.payload.code, message.payload.message ?? `session rejected: ${message.payload.code}`),
          'process_reject',
          {
            reason: message.payload.code,
            by: 'server',
            ...(message.payload.message ? { message: message.payload.message } : {}),
          },
        );
        return;
      }
      case 'DATA': {
        this.#machine.check('receive_data');
        let payload = message.payload;
        let bytes = body;
        if (this.#seal) ({ payload, binary: bytes } = openData(this.#seal, message, body));
        const decoded = decodeData(
          payload,
          this.#params,
          this.#security,
          bytes,
          this.#history ? { history: this.#history } : undefined,
        );
        this.#emit(this.#dataListeners, decoded.content, message);
        return;
      }
      case 'PING':
        this.#machine.check('receive_ping');
        this.#sendMessage(createMessage('PONG', this.#sessionId as string, {}, this.#clock.now())).catch((err) =>
          this.#error(asM2MError(err)),
        );
        return;
      case 'PONG':
        this.#machine.check('receive_pong');
        for (const w of this.#pongWaiters.splice(0)) w.resolve();
        return;
      case 'CLOSE': {
        this.#machine.check('receive_close');
        const info: CloseInfo =
          this.state === 'CLOSING' && this.#closeInfo
            ? this.#closeInfo
            : {
                reason: message.payload.reason ?? 'NORMAL',
                by: 'server',
                ...(message.payload.message ? { message: message.payload.message } : {}),
              };
        this.#toClosed('receive_close', info);
        return;
      }
      case 'ERROR':
        // The server refused one of our messages; the session goes on.
        this.#machine.check('receive_error');
        // A refused DATA may not be in the server's history: start again from empty (the next DATA says 0.0,
        // and the server resets too), which is always safe.
        if (this.#history) resetHistory(this.#history.send);
        this.#error(errorFromPeer(message.payload.code, message.payload.message ?? message.payload.code));
        return;
    }
  }

  #protocolError(error: M2MError): void {
    this.#error(error);
    if (error.code === 'UNKNOWN_MESSAGE_TYPE') return; // ignored (spec §6.8.2)
    if (this.state === 'HELLO_SENT') {
      if (FATAL_CODES.has(error.code)) this.#failHandshake(error);
    } else if (this.state === 'ESTABLISHED' && FATAL_CODES.has(error.code)) {
      void this.close('ERROR', `${error.code}: ${error.message}`);
    }
  }

  #startKeepAlive(params: SessionParams): void {
    this.#keepAlive = new KeepAlive(
      this.#clock,
      {
        pingIntervalMs: this.#timing.pingIntervalMs,
        pingTimeoutMs: this.#timing.pingTimeoutMs,
        maxMissedPongs: this.#timing.maxMissedPongs,
        sessionTimeoutMs: params.sessionTimeoutMs,
        ping: this.#options.keepAlive ?? true,
      },
      {
        sendPing: () => {
          if (this.state !== 'ESTABLISHED') return;
          this.#machine.apply('send_ping');
          this.#sendMessage(createMessage('PING', this.#sessionId as string, {}, this.#clock.now())).catch((err) =>
            this.#error(asM2MError(err)),
          );
        },
        onDead: () => this.#timeout('no PONG to the last PINGs'),
        onExpired: () => this.#timeout('session timeout'),
      },
    );
    this.#keepAlive.start();
  }

  /** ESTABLISHED --timeout--> CLOSED, telling the server with CLOSE TIMEOUT. */
  #timeout(text: string): void {
    if (this.state !== 'ESTABLISHED') return;
    const info: CloseInfo = { reason: 'TIMEOUT', message: text, by: 'client' };
    this.#sendMessage(
      createMessage('CLOSE', this.#sessionId as string, { reason: 'TIMEOUT', message: text }, this.#clock.now()),
    ).catch(() => undefined);
    this.#toClosed('timeout', info);
  }

  #helloTimedOut(): void {
    if (this.state !== 'HELLO_SENT') return;
    this.#failHandshake(
      new M2MError('TIMEOUT', `no ACCEPT or REJECT within ${this.#timing.helloTimeoutMs} ms`),
      'hello_timeout',
      { reason: 'TIMEOUT', by: 'client' },
    );
  }

  #failHandshake(
    error: M2MError,
    event: 'process_reject' | 'hello_timeout' | 'connection_lost' = 'connection_lost',
    info: CloseInfo = { reason: 'ERROR', message: `${error.code}: ${error.message}`, by: 'transport' },
  ): void {
    this.#helloTimer.stop();
    const handshake = this.#handshake;
    this.#handshake = undefined;
    handshake?.reject(error);
    this.#toClosed(event, info);
  }

  #transportClosed(code: number, reason: string): void {
    this.#channel = undefined;
    if (this.state === 'CLOSED') return;
    const info = this.#closeInfo ?? {
      reason: 'ERROR',
      message: `connection closed (${code}${reason ? ` ${reason}` : ''})`,
      by: 'transport' as const,
    };
    if (this.state === 'HELLO_SENT') {
      this.#failHandshake(new M2MError('CONNECTION_CLOSED', `connection closed before ACCEPT (${code})`));
      return;
    }
    this.#toClosed('connection_lost', info);
  }

  /** Moves to CLOSED with `event`, releases timers and the channel, and tells listeners. */
  #toClosed(
    event: 'process_reject' | 'hello_timeout' | 'receive_close' | 'timeout' | 'closing_timeout' | 'connection_lost',
    info?: CloseInfo,
  ): void {
    if (this.state === 'CLOSED') return;
    this.#machine.apply(event);
    this.#helloTimer.stop();
    this.#closingTimer.stop();
    this.#keepAlive?.stop();
    const final = info ?? { reason: 'NORMAL', by: 'transport' as const };
    this.#closeInfo = final;
    const channel = this.#channel;
    this.#channel = undefined;
    channel?.close(1000, final.reason);
    for (const w of this.#pongWaiters.splice(0)) w.reject(new M2MError('CLOSED', 'the session closed'));
    this.#handshake?.reject(new M2MError('CLOSED', 'the session closed'));
    this.#handshake = undefined;
    this.#closed.resolve(final);
    this.#emit(this.#closeListeners, final);
  }
}
