/**
 * Client transports: a channel carries serialised messages to the server
 * and hands back what arrives. Two are built in — WebSocket (the global
 * `WebSocket` in browsers and newer Node; the `ws` package in Node 20) and
 * HTTP request/response (`fetch`) — and tests or other transports can
 * supply their own {@link ChannelFactory}.
 */
import { errorFromPeer, M2MError } from '../../core/errors.js';
import type { Message } from '../../protocol/messages.js';
import type { Clock } from './clock.js';

/** Callbacks a channel calls. */
export interface ChannelHandlers {
  /** A text (string) or binary (bytes) message arrived. */
  message(data: string | Uint8Array): void;
  /** The channel closed; called once. */
  close(code: number, reason: string): void;
}

/** An open channel. */
export interface ClientChannel {
  /** Whether binary frames can be carried. */
  readonly binary: boolean;
  /**
   * Sends one message (`data` is its serialised form, or a binary frame).
   * Request/response channels deliver the reply to `handlers.message` before
   * the promise resolves, and reject with the server's error.
   */
  send(data: string | Uint8Array, message: Message): void | Promise<void>;
  /** Closes the channel; `handlers.close` follows. */
  close(code?: number, reason?: string): void;
}

export interface ChannelOptions {
  maxMessageBytes: number;
  clock: Clock;
  /** HTTP: per-request timeout in ms. */
  requestTimeoutMs: number;
  fetch?: typeof fetch;
  /** HTTP: extra headers for one request (the session proof of a keyed session), asked for in sending order. */
  authorize?: (method: string, path: string, body: string) => Record<string, string> | undefined;
}

/** Opens a channel to `url`. */
export type ChannelFactory = (
  url: string,
  handlers: ChannelHandlers,
  options: ChannelOptions,
) => Promise<ClientChannel>;

interface WebSocketLike {
  binaryType: string;
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

type WebSocketConstructor = new (url: string, options?: unknown) => WebSocketLike;

async function webSocketClass(): Promise<{ ctor: WebSocketConstructor; node: boolean }> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof global === 'function') return { ctor: global, node: false };
  // Node 20 has no stable global WebSocket: use the `ws` package (never reached in browsers).
  const specifier = 'ws';
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as {
      WebSocket?: WebSocketConstructor;
      default?: WebSocketConstructor;
    };
    const ctor = mod.WebSocket ?? mod.default;
    if (typeof ctor === 'function') return { ctor, node: true };
  } catch {
    // fall through
  }
  throw new M2MError(
    'CONNECTION_FAILED',
    'no WebSocket implementation: no global WebSocket and the ws package is missing',
  );
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** The WebSocket channel. */
export const webSocketChannel: ChannelFactory = async (url, handlers, options) => {
  const { ctor, node } = await webSocketClass();
  let ws: WebSocketLike;
  try {
    ws = node ? new ctor(url, { maxPayload: options.maxMessageBytes, perMessageDeflate: false }) : new ctor(url);
  } catch (err) {
    throw new M2MError('CONNECTION_FAILED', `cannot open ${url}: ${(err as Error)?.message ?? String(err)}`);
  }
  ws.binaryType = 'arraybuffer';
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new M2MError('CONNECTION_FAILED', `cannot connect to ${url}`));
    ws.onclose = (ev) => reject(new M2MError('CONNECTION_FAILED', `connection to ${url} closed (${ev.code})`));
  });
  let closed = false;
  ws.onmessage = (ev) => {
    if (typeof ev.data === 'string') handlers.message(ev.data);
    else {
      const bytes = toBytes(ev.data);
      if (bytes) handlers.message(bytes);
    }
  };
  ws.onerror = () => {
    // A close event follows.
  };
  ws.onclose = (ev) => {
    if (closed) return;
    closed = true;
    handlers.close(ev.code, ev.reason);
  };
  return {
    binary: true,
    send(data) {
      ws.send(data);
    },
    close(code = 1000, reason = '') {
      try {
        ws.close(code, reason);
      } catch {
        ws.close();
      }
    },
  };
};

/** Error bodies of the HTTP routes. */
function errorFrom(status: number, text: string): M2MError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body?.error?.code === 'string') {
      return errorFromPeer(body.error.code, String(body.error.message ?? `HTTP ${status}`));
    }
  } catch {
    // not JSON
  }
  return new M2MError(status === 404 ? 'UNKNOWN_SESSION' : 'HTTP_ERROR', `HTTP ${status}`);
}

/**
 * The HTTP channel: HELLO is `POST {base}/session`, every other message
 * `POST {base}/session/:id/message`; the response body is the reply.
 * Requests go one at a time, in order. `url` is the server's base URL; a
 * bare origin gets the default `/v1` prefix.
 */
export const httpChannel: ChannelFactory = async (url, handlers, options) => {
  const doFetch = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
  if (typeof doFetch !== 'function') throw new M2MError('CONNECTION_FAILED', 'no fetch() available');
  const parsed = new URL(url);
  const base = `${parsed.origin}${parsed.pathname === '/' ? '/v1' : parsed.pathname.replace(/\/$/, '')}`;
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  const inFlight = new Set<AbortController>();

  const close = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    for (const c of inFlight) c.abort();
    queueMicrotask(() => handlers.close(code, reason));
  };

  const request = async (message: Message, body: string): Promise<void> => {
    if (closed) throw new M2MError('INVALID_STATE', 'the channel is closed');
    const target =
      message.type === 'HELLO'
        ? `${base}/session`
        : `${base}/session/${encodeURIComponent(String(message.session_id))}/message`;
    const controller = new AbortController();
    inFlight.add(controller);
    const timer = options.clock.setTimeout(() => controller.abort(), options.requestTimeoutMs);
    let status: number;
    let text: string;
    try {
      const extra = message.type === 'HELLO' ? undefined : options.authorize?.('POST', new URL(target).pathname, body);
      const res = await doFetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...extra },
        body,
        signal: controller.signal,
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (closed) throw new M2MError('INVALID_STATE', 'the channel was closed');
      throw new M2MError(
        controller.signal.aborted ? 'TIMEOUT' : 'CONNECTION_FAILED',
        `HTTP request failed: ${(err as Error)?.message ?? String(err)}`,
      );
    } finally {
      options.clock.clearTimeout(timer);
      inFlight.delete(controller);
    }
    if (closed) return;
    if (status === 204) return;
    const isMessage = status === 200 || ((status === 429 || status === 503) && text.includes('"REJECT"'));
    if (!isMessage) {
      const error = errorFrom(status, text);
      if (error.code === 'UNKNOWN_SESSION') close(4404, 'unknown session');
      throw error;
    }
    if (text.length > options.maxMessageBytes) {
      throw new M2MError('MESSAGE_TOO_LARGE', 'reply exceeds the message size limit');
    }
    handlers.message(text);
  };

  return {
    binary: false,
    send(data, message) {
      if (typeof data !== 'string') throw new M2MError('INVALID_STATE', 'the HTTP channel carries no binary frames');
      const run = queue.then(() => request(message, data));
      queue = run.catch(() => undefined);
      return run;
    },
    close(code = 1000, reason = '') {
      close(code, reason);
    },
  };
};
