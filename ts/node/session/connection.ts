/**
 * One WebSocket connection on the server side of the session protocol; the
 * sessions themselves live in {@link SessionManager}.
 */
import { asM2MError, M2MError } from '../../core/errors.js';
import { type CloseReason, createMessage, type Message, serializeMessage } from '../../protocol/messages.js';
import { receiveEvent, SERVER_FATAL_CODES, type SessionState, StateMachine } from '../../protocol/state.js';
import { Timer } from './clock.js';
import { KeepAlive } from './keepalive.js';
import type { ConnectionSink, Outgoing, PeerInfo, SessionManager } from './manager.js';

const WS_NORMAL = 1000;
const WS_PROTOCOL_ERROR = 1002;
const WS_TRY_AGAIN = 1013;

/**
 * One connection (a WebSocket) on the server: INITIAL until its HELLO is
 * accepted, then one session, with keep-alive and the closing handshake.
 * Messages are processed strictly one after another.
 */
export class ServerConnection {
  readonly #manager: SessionManager;
  readonly #sink: ConnectionSink;
  readonly #info: PeerInfo;
  readonly #machine = new StateMachine('server');
  readonly #maxPending: number;
  readonly #closingTimer: Timer;
  /** Closes a connection that sends no HELLO (slowloris, spec §7.6.3). */
  readonly #initialTimer: Timer;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #keepAlive: KeepAlive | undefined;
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #overflowed = false;
  #sessionId: string | undefined;
  #transportOpen = true;

  constructor(manager: SessionManager, sink: ConnectionSink, info: PeerInfo, maxPending: number) {
    this.#manager = manager;
    this.#sink = sink;
    this.#info = info;
    this.#maxPending = maxPending;
    this.#closingTimer = new Timer(manager.clock, () => this.#enqueue(() => this.#finish('closing_timeout')));
    this.#initialTimer = new Timer(manager.clock, () =>
      this.#enqueue(async () => {
        if (this.state !== 'INITIAL') return;
        this.#report(new M2MError('TIMEOUT', `no HELLO within ${manager.timing.helloTimeoutMs} ms`));
        this.#closeTransport(WS_NORMAL, 'no HELLO');
        await this.#finish('connection_lost');
      }),
    );
    this.#initialTimer.start(manager.timing.helloTimeoutMs);
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get state(): SessionState {
    return this.#machine.state;
  }

  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** Resolves when the connection reaches CLOSED. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** A text frame (string) or a binary frame (bytes) arrived. */
  receive(data: string | Uint8Array): void {
    if (this.state === 'CLOSED' || this.#overflowed) return;
    if (this.#pending >= this.#maxPending) {
      this.#overflowed = true;
      const error = new M2MError('RATE_LIMITED', `more than ${this.#maxPending} messages queued on this connection`);
      this.#report(error);
      this.#enqueue(() => this.#fail(error));
      return;
    }
    this.#pending++;
    this.#enqueue(async () => {
      this.#pending = Math.max(0, this.#pending - 1);
      await this.#handle(data);
    });
  }

  /** The transport closed (by the peer or after our close). */
  transportClosed(): void {
    this.#transportOpen = false;
    this.#enqueue(() => this.#finish('connection_lost'));
  }

  /** Server-initiated close: CLOSE `reason`, then CLOSING until the peer answers or the closing timeout. */
  close(reason: CloseReason = 'NORMAL', text?: string): Promise<void> {
    this.#enqueue(async () => {
      if (this.state === 'INITIAL') {
        this.#closeTransport(WS_TRY_AGAIN, reason);
        await this.#finish('connection_lost');
      } else if (this.state === 'ESTABLISHED') {
        await this.#startClosing(reason, text);
      }
    });
    return this.#closed;
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(fn).catch((err) => this.#report(err));
    this.#queue = next;
    return next;
  }

  #report(err: unknown): void {
    this.#manager._report(err, { ...this.#info, ...(this.#sessionId ? { sessionId: this.#sessionId } : {}) });
  }

  #send(out: Outgoing): void {
    if (!this.#transportOpen) return;
    try {
      if (out.binary) this.#sink.sendBinary(out.binary);
      else this.#sink.sendText(serializeMessage(out.message));
    } catch (err) {
      this.#report(err);
    }
  }

  #closeTransport(code: number, reason: string): void {
    if (!this.#transportOpen) return;
    this.#transportOpen = false;
    try {
      this.#sink.close(code, reason);
    } catch (err) {
      this.#report(err);
    }
  }

  async #handle(data: string | Uint8Array): Promise<void> {
    if (this.state === 'CLOSED') return;
    let message: Message;
    let body: Uint8Array | undefined;
    try {
      ({ message, body } = this.#manager._parse(data));
    } catch (err) {
      await this.#protocolError(asM2MError(err));
      return;
    }
    this.#keepAlive?.received();
    if (this.state === 'INITIAL') {
      await this.#handleInitial(message);
      return;
    }
    const id = this.#sessionId as string;
    try {
      if (message.type === 'CLOSE' || this.state === 'ESTABLISHED') {
        const out = await this.#manager._process(id, message, body, this.#info);
        if (out.closed) {
          // receive_close: ESTABLISHED or CLOSING → CLOSED; acknowledge by closing the connection.
          this.#machine.apply('receive_close');
          this.#closeTransport(WS_NORMAL, 'closed');
          this.#end();
          return;
        }
        for (const reply of out.replies) this.#send(reply);
      } else {
        // CLOSING: nothing but the peer's CLOSE is processed.
        this.#machine.check(receiveEvent(message.type));
      }
    } catch (err) {
      await this.#protocolError(asM2MError(err), message.type);
    }
  }

  async #handleInitial(message: Message): Promise<void> {
    if (message.type === 'HELLO') {
      let hello: Awaited<ReturnType<SessionManager['_hello']>>;
      try {
        hello = await this.#manager._hello(message, this.#info);
      } catch (err) {
        // E.g. STORE_UNAVAILABLE: the client hears why, and may retry.
        const error = asM2MError(err);
        this.#report(error);
        hello = {
          reply: createMessage(
            'REJECT',
            null,
            { code: 'SERVER_BUSY', message: `${error.code}: ${error.message}` },
            this.#manager.clock.now(),
          ),
        };
      }
      const { reply, params } = hello;
      this.#send({ message: reply });
      if (reply.type === 'REJECT') {
        this.#closeTransport(WS_NORMAL, reply.payload.code);
        await this.#finish('connection_lost');
        return;
      }
      this.#machine.apply('process_hello');
      this.#initialTimer.stop();
      this.#sessionId = reply.session_id;
      this.#manager._bind(this, reply.session_id);
      if (!this.#transportOpen) {
        // The peer went away while we negotiated.
        await this.#finish('connection_lost');
        return;
      }
      if (params === undefined) return;
      this.#keepAlive = new KeepAlive(
        this.#manager.clock,
        {
          pingIntervalMs: params.pingIntervalMs,
          pingTimeoutMs: params.pingTimeoutMs,
          maxMissedPongs: this.#manager.timing.maxMissedPongs,
          sessionTimeoutMs: params.sessionTimeoutMs,
          ping: this.#manager._options.keepAlive ?? true,
        },
        {
          sendPing: () =>
            this.#enqueue(async () => {
              if (this.state !== 'ESTABLISHED' || this.#sessionId === undefined) return;
              this.#machine.check('send_ping');
              this.#send({ message: createMessage('PING', this.#sessionId, {}, this.#manager.clock.now()) });
            }),
          onDead: () => this.#enqueue(() => this.#timeout('no PONG to the last PINGs')),
          onExpired: () => this.#enqueue(() => this.#timeout('session timeout')),
        },
      );
      this.#keepAlive.start();
      return;
    }
    if (message.type === 'DATA' && message.session_id === null && (this.#manager._options.allowStateless ?? true)) {
      this.#initialTimer.start(this.#manager.timing.helloTimeoutMs);
      try {
        for (const reply of await this.#manager.handleStateless(message, this.#info)) this.#send(reply);
      } catch (err) {
        const error = asM2MError(err);
        this.#report(error);
        this.#send({ message: this.#errorMessage(null, error, 'DATA') });
      }
      return;
    }
    await this.#protocolError(new M2MError('INVALID_STATE', `expected HELLO, got ${message.type}`));
  }

  /** ERROR: a refused message, with the code and the refused message's type. */
  #errorMessage(sessionId: string | null, error: M2MError, refused?: string): Message {
    const payload = { code: error.code, message: error.message.slice(0, 4096), ...(refused ? { refused } : {}) };
    return createMessage('ERROR', sessionId, payload, this.#manager.clock.now());
  }

  async #protocolError(error: M2MError, refused?: string): Promise<void> {
    this.#report(error);
    if (error.code === 'UNKNOWN_MESSAGE_TYPE') return; // spec §6.8.2: ignore
    if (this.state === 'INITIAL') {
      this.#send({
        message: createMessage(
          'REJECT',
          null,
          { code: 'UNKNOWN', message: `${error.code}: ${error.message}` },
          this.#manager.clock.now(),
        ),
      });
      this.#closeTransport(WS_NORMAL, 'rejected');
      await this.#finish('connection_lost');
    } else if (this.state === 'ESTABLISHED' && SERVER_FATAL_CODES.has(error.code)) {
      await this.#startClosing('ERROR', `${error.code}: ${error.message}`);
    } else if (this.state === 'ESTABLISHED' || this.state === 'CLOSING') {
      // Refused, the session goes on: the client hears why (a DATA over budget, a second HELLO, ...).
      this.#send({ message: this.#errorMessage(this.#sessionId ?? null, error, refused) });
    }
  }

  async #fail(error: M2MError): Promise<void> {
    if (this.state === 'ESTABLISHED') await this.#startClosing('ERROR', `${error.code}: ${error.message}`);
    else {
      this.#closeTransport(WS_PROTOCOL_ERROR, error.code);
      await this.#finish('connection_lost');
    }
  }

  /** ESTABLISHED --close--> CLOSING: send CLOSE, wait for the peer (closing timeout). */
  async #startClosing(reason: string, text?: string): Promise<void> {
    if (this.state !== 'ESTABLISHED' || this.#sessionId === undefined) return;
    this.#machine.apply('close');
    this.#keepAlive?.stop();
    const payload = text === undefined ? { reason } : { reason, message: text.slice(0, 4096) };
    this.#send({ message: createMessage('CLOSE', this.#sessionId, payload, this.#manager.clock.now()) });
    await this.#manager._markClosing(this.#sessionId, reason);
    if (!this.#transportOpen) {
      await this.#finish('connection_lost');
      return;
    }
    this.#closingTimer.start(this.#manager.timing.closingTimeoutMs);
  }

  /** ESTABLISHED --timeout--> CLOSED, telling the peer with CLOSE TIMEOUT. */
  async #timeout(text: string): Promise<void> {
    if (this.state !== 'ESTABLISHED' || this.#sessionId === undefined) return;
    this.#machine.apply('timeout');
    this.#send({
      message: createMessage('CLOSE', this.#sessionId, { reason: 'TIMEOUT', message: text }, this.#manager.clock.now()),
    });
    this.#closeTransport(WS_NORMAL, 'timeout');
    await this.#manager._delete(this.#sessionId);
    this.#end();
  }

  /** connection_lost / closing_timeout → CLOSED. */
  async #finish(event: 'connection_lost' | 'closing_timeout'): Promise<void> {
    if (this.state === 'CLOSED') return;
    if (!this.#machine.can(event)) return;
    this.#machine.apply(event);
    this.#closeTransport(WS_NORMAL, event === 'closing_timeout' ? 'closing timeout' : 'closed');
    if (this.#sessionId !== undefined) await this.#manager._delete(this.#sessionId);
    this.#end();
  }

  #end(): void {
    this.#keepAlive?.stop();
    this.#closingTimer.stop();
    this.#initialTimer.stop();
    this.#manager._forget(this);
    this.#resolveClosed();
  }
}
