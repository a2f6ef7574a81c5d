/**
 * The m2m gateway: an OpenAI-compatible HTTP front that forwards every
 * `/v1/*` request (`/v1/chat/completions` streamed or not, `/v1/embeddings`,
 * `/v1/models`, and any other path) to an upstream API.
 *
 * - A request body marked `Content-Type: application/vnd.m2m.wire` is
 *   decompressed before it is forwarded (`X-M2M-Content-Type` gives its type).
 * - With `X-M2M-Accept: wire`, responses are compressed back: whole bodies as a
 *   wire body, SSE streams event by event (`X-M2M-Events: wire`).
 * - The security scanner runs on request bodies in the configured mode
 *   (blocking answers 422 `SECURITY_VIOLATION` without calling the upstream).
 * - The upstream's status, headers (`Retry-After` among them) and body are passed
 *   through; an unreachable upstream is 502 `UPSTREAM_UNAVAILABLE`, one that
 *   sends no response headers within the timeout 504 `UPSTREAM_TIMEOUT`, and a
 *   response it breaks off breaks off the client's. A client that goes away
 *   cancels the upstream request; streamed bodies are pulled only as fast as
 *   the client reads them.
 * - The API key comes from the environment (`apiKey`, read by the caller) and
 *   replaces the client's `Authorization`; it is never logged.
 *
 * Register it on its own (it keeps its own body parsers, so it is not wrapped
 * with fastify-plugin): `app.register(m2mGatewayPlugin, { upstream })`.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { loadedDictionaryNames, sharedDictionaries } from '../../codec/codec.js';
import { readHistoryHeader } from '../../codec/fetch.js';
import { checkHistoryBytes, DEFAULT_HISTORY_BYTES } from '../../codec/history.js';
import { M2MError } from '../../core/errors.js';
import {
  type CompressOptions,
  compress,
  createM2MFetch,
  createSseCompressStream,
  decompress,
  isM2MBody,
  M2M_ACCEPT_HEADER,
  M2M_CONTENT_TYPE,
  M2M_DICTIONARIES_HEADER,
  M2M_EVENTS_HEADER,
  M2M_HISTORY_HEADER,
  M2M_ORIGINAL_TYPE_HEADER,
} from '../../index.js';
import { type SecurityConfig, scan, scanOptionsFrom, securityConfigFrom } from '../../security/index.js';
import { tagRequest } from '../server/stats.js';
import { verdictOf } from '../server/work.js';
import type { DataHandler } from '../session/index.js';

/** Options of {@link m2mGatewayPlugin}. */
export interface GatewayOptions {
  /** The upstream API's base URL, including its `/v1` (e.g. `https://api.openai.com/v1`). */
  upstream: string;
  /** Sent upstream as `Authorization: Bearer …` instead of the client's. Default: the client's header. */
  apiKey?: string;
  /** How long to wait for the upstream's response headers, ms. Default 600,000 (the OpenAI SDK's own). */
  timeoutMs?: number;
  /**
   * The upstream is another m2m gateway: compress requests to it and ask for
   * compressed responses (the local side of a two-gateway deployment).
   */
  upstreamM2M?: boolean;
  /** The scanner's settings (any `[security]` fields; the rest take their defaults). */
  security?: Partial<SecurityConfig>;
  /** How responses are compressed for clients that ask. Default auto, `omitDefaults: false`. */
  compression?: CompressOptions;
  /**
   * Name this install's trained dictionaries to clients (`X-M2M-Dictionaries`)
   * and compress responses with those a client names too (`#BD|`); with an
   * m2m upstream, the same towards it. Default true; `compression.dictionaries`,
   * when given, decides instead.
   */
  dictionaries?: boolean;
  /**
   * The most UTF-8 bytes of an SSE response's earlier events to compress its
   * events against, for clients that offer a stream history (`X-M2M-History`;
   * the smaller of the two is used); with an m2m upstream, what this end offers
   * it. Default 24 KiB; 0 turns it off.
   */
  streamHistory?: number;
  /** The fetch used upstream. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** Request headers not forwarded (hop-by-hop, recomputed, or m2m's own). */
const DROP_REQUEST = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
  'content-length',
  'accept-encoding',
  M2M_ACCEPT_HEADER,
  M2M_ORIGINAL_TYPE_HEADER,
  M2M_DICTIONARIES_HEADER,
  M2M_HISTORY_HEADER,
]);
/** Response headers not passed back (fetch has already decoded the body, the length changes). */
const DROP_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-encoding',
  'content-length',
  M2M_DICTIONARIES_HEADER,
  M2M_HISTORY_HEADER,
]);

function upstreamBase(upstream: string): string {
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    throw new M2MError('INVALID_CONFIG', `the gateway's upstream must be an http(s) URL, got '${upstream}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new M2MError('INVALID_CONFIG', `the gateway's upstream must be an http(s) URL, got '${upstream}'`);
  }
  return url.href.replace(/\/+$/, '');
}

/** The fetch the options name, else the global one. */
function baseFetch(options: GatewayOptions): typeof fetch {
  return options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
}

/** The upstream's fetch: plain, or through createM2MFetch for an m2m upstream. */
function upstreamFetch(options: GatewayOptions): typeof fetch {
  const base = baseFetch(options);
  return options.upstreamM2M
    ? createM2MFetch({
        fetch: base,
        compression: options.compression,
        dictionaries: options.dictionaries,
        streamHistory: options.streamHistory,
      })
    : base;
}

function errorBody(err: M2MError, details?: Record<string, unknown>) {
  return { error: { code: err.code, message: err.message, ...(details ? { details } : {}) } };
}

/** Why a fetch failed, in words (undici hides the socket error in `cause`). */
function failureOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}

/** One forwarded exchange: status, headers and the body's text (sessions use this). */
async function forwardText(
  doFetch: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const res = await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text() };
}

/** How long a probe of the upstream waits, and how old its answer may be before `/health` asks again. */
const PROBE_TIMEOUT_MS = 2_000;
const PROBE_EVERY_MS = 10_000;

/**
 * The upstream's reachability for `/health`: `up` when it answered a `GET …/models` with any
 * HTTP status (401 included: it is there), `down` when the request failed or timed out, `unknown`
 * before the first probe has finished. A probe runs in the background when `/health` is asked and
 * the last one is older than 10 s, so `/health` never waits on the upstream.
 */
export function upstreamHealth(options: GatewayOptions): () => Record<string, unknown> {
  const base = upstreamBase(options.upstream);
  const doFetch = baseFetch(options);
  const origin = new URL(base).origin;
  let state: 'unknown' | 'up' | 'down' = 'unknown';
  let checkedAt = 0;
  let probing = false;
  const probe = async () => {
    probing = true;
    try {
      const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
      const res = await doFetch(`${base}/models`, { headers, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await res.body?.cancel();
      state = 'up';
    } catch {
      state = 'down';
    } finally {
      checkedAt = Date.now();
      probing = false;
    }
  };
  return () => {
    if (!probing && Date.now() - checkedAt >= PROBE_EVERY_MS) void probe();
    return { url: origin, state, ...(checkedAt > 0 ? { checked_ms_ago: Date.now() - checkedAt } : {}) };
  };
}

/**
 * What the gateway does with session DATA: the content is a request body
 * (JSON), sent to the upstream's `/chat/completions` (or `/embeddings` when it
 * has `input` and no `messages`); the upstream's body, an error body too, is
 * the DATA reply (a streamed request's reply is the whole SSE text).
 */
export function gatewayDataHandler(options: GatewayOptions): DataHandler {
  const base = upstreamBase(options.upstream);
  const doFetch = upstreamFetch(options);
  return async (content) => {
    let path = '/chat/completions';
    try {
      const json = JSON.parse(content) as Record<string, unknown>;
      if (json && typeof json === 'object' && 'input' in json && !('messages' in json)) path = '/embeddings';
    } catch {
      throw new M2MError('INVALID_JSON', 'session DATA for the gateway must be a JSON request body');
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    try {
      const r = await forwardText(
        doFetch,
        `${base}${path}`,
        { method: 'POST', headers, body: content },
        options.timeoutMs ?? 600_000,
      );
      return r.text;
    } catch (err) {
      if ((err as Error)?.name === 'TimeoutError')
        throw new M2MError('UPSTREAM_TIMEOUT', 'the upstream did not answer in time');
      throw new M2MError('UPSTREAM_UNAVAILABLE', `the upstream could not be reached: ${failureOf(err)}`);
    }
  };
}

const plugin: FastifyPluginAsync<GatewayOptions> = async (app: FastifyInstance, options: GatewayOptions) => {
  const base = upstreamBase(options.upstream);
  const doFetch = upstreamFetch(options);
  const timeoutMs = options.timeoutMs ?? 600_000;
  const security = securityConfigFrom(options.security);
  const scanOptions = scanOptionsFrom(security);
  const compression: CompressOptions = { omitDefaults: false, ...options.compression };
  const dictionaries = options.dictionaries !== false && options.compression?.dictionaries === undefined;
  const ownNames = dictionaries ? loadedDictionaryNames() : [];
  const ownDictionaries = ownNames.join(',');
  const streamHistory = checkHistoryBytes(options.streamHistory ?? DEFAULT_HISTORY_BYTES, 'streamHistory');

  // Bodies are forwarded as they came (after decompression), so every type is read as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || DROP_REQUEST.has(name)) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    if (options.apiKey) headers.set('authorization', `Bearer ${options.apiKey}`);

    let body: string | Buffer | undefined = req.body instanceof Buffer ? req.body : undefined;
    try {
      if (body !== undefined && isM2MBody(req.headers['content-type'])) {
        body = decompress(body.toString('utf8'));
        const original = req.headers[M2M_ORIGINAL_TYPE_HEADER];
        headers.set('content-type', typeof original === 'string' ? original : 'application/json');
      }
      if (body !== undefined && body.length > 0 && security.mode !== 'disabled') {
        const text = typeof body === 'string' ? body : body.toString('utf8');
        const result = scan(text, scanOptions);
        tagRequest(req, { verdict: verdictOf(result) });
        if (result.threats.length > 0) {
          req.log.warn({ threats: result.threats.map((t) => t.type), blocked: result.blocked }, 'scanner findings');
        }
        if (result.blocked) {
          const top = result.threats[0];
          const err = new M2MError('SECURITY_VIOLATION', 'content blocked by the security scanner');
          return reply
            .code(422)
            .send(errorBody(err, top ? { threat_type: top.type, confidence: top.confidence, rule: top.rule } : {}));
        }
      }
    } catch (err) {
      if (err instanceof M2MError) return reply.code(400).send(errorBody(err));
      throw err;
    }

    // The client going away (before its response is complete) cancels the upstream request.
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const timer = setTimeout(() => abort.abort(new DOMException('upstream timeout', 'TimeoutError')), timeoutMs);
    const path = req.url.replace(/^\/v1(?=\/|\?|$)/, '');
    // Text goes on as a string (so an m2m upstream's fetch compresses it); other bodies as their bytes.
    const textual = /json|^text\//i.test(headers.get('content-type') ?? '');
    const outBody: BodyInit | undefined =
      body === undefined || typeof body === 'string'
        ? body
        : textual && options.upstreamM2M
          ? body.toString('utf8')
          : (new Uint8Array(body.buffer, body.byteOffset, body.byteLength) as unknown as BodyInit);
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method: req.method,
        headers,
        ...(outBody !== undefined && req.method !== 'GET' && req.method !== 'HEAD' ? { body: outBody } : {}),
        signal: abort.signal,
      });
    } catch (err) {
      if (abort.signal.reason?.name === 'TimeoutError') {
        return reply
          .code(504)
          .send(
            errorBody(
              new M2MError('UPSTREAM_TIMEOUT', `the upstream sent no response within ${Math.round(timeoutMs)} ms`),
            ),
          );
      }
      if (abort.signal.aborted) return reply; // the client is gone: nothing to answer
      const error = new M2MError('UPSTREAM_UNAVAILABLE', `the upstream could not be reached: ${failureOf(err)}`);
      return reply.code(502).send(errorBody(error));
    } finally {
      clearTimeout(timer);
    }

    reply.code(res.status);
    res.headers.forEach((value, name) => {
      if (!DROP_RESPONSE.has(name)) reply.header(name, value);
    });
    if (res.body === null || req.method === 'HEAD') return reply.send();

    const wantsWire = String(req.headers[M2M_ACCEPT_HEADER] ?? '')
      .split(',')
      .some((v) => v.trim() === 'wire');
    // The dictionaries both ends have compress the response; the client learns this end's.
    const peerNames = req.headers[M2M_DICTIONARIES_HEADER];
    const both = dictionaries && typeof peerNames === 'string' ? sharedDictionaries(peerNames, ownNames) : [];
    const responseCompression = both.length > 0 ? { ...compression, dictionaries: both } : compression;
    if (ownDictionaries !== '' && (wantsWire || peerNames !== undefined)) {
      reply.header(M2M_DICTIONARIES_HEADER, ownDictionaries);
    }
    const type = res.headers.get('content-type') ?? '';
    const sse = type.toLowerCase().startsWith('text/event-stream');
    const stream = (web: ReadableStream<Uint8Array>) =>
      Readable.fromWeb(web as import('node:stream/web').ReadableStream<Uint8Array>);

    if (sse) {
      if (!wantsWire) return reply.send(stream(res.body));
      reply.header(M2M_EVENTS_HEADER, 'wire');
      // Against the stream's earlier events, within what the client keeps.
      const offered = readHistoryHeader(String(req.headers[M2M_HISTORY_HEADER] ?? '')) ?? 0;
      const bytes = Math.min(offered, streamHistory);
      if (bytes > 0) reply.header(M2M_HISTORY_HEADER, String(bytes));
      const history =
        bytes > 0
          ? { bytes, dictionaries: ownNames.filter((n) => both.includes(n.split('.')[0] as string)) }
          : undefined;
      return reply.send(
        stream(
          res.body
            .pipeThrough(createSseCompressStream(responseCompression, history))
            .pipeThrough(new TextEncoderStream()),
        ),
      );
    }
    if (!wantsWire) return reply.send(stream(res.body));
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (abort.signal.aborted) return reply;
      reply.raw.destroy(err as Error); // the upstream broke off: so does the client's response
      return reply;
    }
    const r = compress(text, responseCompression);
    if (r.algorithm === 'none') return reply.send(text);
    reply.header(M2M_ORIGINAL_TYPE_HEADER, type || 'application/json');
    reply.header('content-type', M2M_CONTENT_TYPE);
    return reply.send(r.wire);
  };

  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v1/*', handler });
};

/** The gateway's routes as a fastify plugin (see the module comment). */
export const m2mGatewayPlugin = plugin;
