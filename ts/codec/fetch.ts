/**
 * `createM2MFetch()`: a `fetch` for the official `openai` SDK (and any
 * fetch-based client) talking to an m2m gateway. Request bodies go out as M2M
 * wire strings, and responses the gateway compressed (whole bodies, or SSE
 * streams event by event) come back as the plain bodies the client expects.
 * Only fetch and Web Streams APIs: it runs in Node, Deno, Bun, browsers and
 * workers (in a browser, `await init()` the encodings first).
 *
 * The HTTP marks (one home: these constants, documented in the README):
 * - `Content-Type: application/vnd.m2m.wire`: the body is one M2M wire
 *   string (UTF-8); `X-M2M-Content-Type` names the type of the decompressed
 *   body (default `application/json`). Used for requests and for non-streamed
 *   responses.
 * - `X-M2M-Accept: wire`: the client decodes compressed responses.
 * - `X-M2M-Events: wire`: an SSE response (`text/event-stream`) whose every
 *   event's data is a wire string; `[DONE]` and the other fields are plain.
 * - `X-M2M-Dictionaries: <id>.<version>.<hash>,…`: on requests and responses,
 *   the trained dictionaries the sender has. Each end compresses what it
 *   sends with the dictionaries both name (`#BD|`): the gateway its responses
 *   at once, the client its requests once a response has named them.
 * - `X-M2M-History: <bytes>`: on a request, the largest stream history the
 *   client keeps for an SSE response; on an SSE response with `X-M2M-Events:
 *   wire`, the history its events were compressed against (`#BH|` events
 *   against the stream's earlier events, ts/codec/sse.ts).
 */
import { M2MError } from '../core/errors.js';
import { type CompressOptions, compress, decompress, loadedDictionaryNames, sharedDictionaries } from './codec.js';
import { DEFAULT_HISTORY_BYTES, maxHistoryBytes } from './history.js';
import { createSseDecompressStream } from './sse.js';

/** The content type of a body that is one M2M wire string. */
export const M2M_CONTENT_TYPE = 'application/vnd.m2m.wire';
/** The header naming the content type of the decompressed body. */
export const M2M_ORIGINAL_TYPE_HEADER = 'x-m2m-content-type';
/** The request header by which a client asks for compressed responses (value `wire`). */
export const M2M_ACCEPT_HEADER = 'x-m2m-accept';
/** The response header marking an SSE stream whose event data are wire strings (value `wire`). */
export const M2M_EVENTS_HEADER = 'x-m2m-events';
/** The header (requests and responses) naming the trained dictionaries its sender has, `<id>.<version>.<hash>` comma-separated. */
export const M2M_DICTIONARIES_HEADER = 'x-m2m-dictionaries';
/** The header of a stream history's size in UTF-8 bytes: the most a client keeps (request), what an SSE response's events use (response). */
export const M2M_HISTORY_HEADER = 'x-m2m-history';

/** A stream history size from an `X-M2M-History` value, if it is one (1 to the core's largest history). */
export function readHistoryHeader(value: string | null | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,8}$/.test(value.trim())) return undefined;
  const bytes = Number(value.trim());
  return bytes >= 1 && bytes <= maxHistoryBytes() ? bytes : undefined;
}

/** Options of {@link createM2MFetch}. */
export interface M2MFetchOptions {
  /** The fetch to wrap. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Compress request bodies (strings only; other bodies pass as they are). Default true. */
  compressRequests?: boolean;
  /** Ask the gateway for compressed responses and decode them. Default true. */
  acceptCompressed?: boolean;
  /**
   * How request bodies are compressed. Default `auto` with `omitDefaults: false`
   * (T1 keeps parameters equal to their defaults, so the upstream sees the same request).
   */
  compression?: CompressOptions;
  /**
   * Name the trained dictionaries this install has (`X-M2M-Dictionaries`) and
   * compress requests with those a gateway's response named too (`#BD|`).
   * Default true; `compression.dictionaries`, when given, decides for
   * requests instead.
   */
  dictionaries?: boolean;
  /**
   * The most UTF-8 bytes of an SSE response's earlier events to keep, so its
   * events may come compressed against them (`X-M2M-History`). Default 24 KiB;
   * 0 turns it off.
   */
  streamHistory?: number;
  /** Called after each request body is compressed (e.g. to count bytes saved). */
  onCompress?: (info: { originalBytes: number; wireBytes: number; algorithm: string }) => void;
}

/** True when a response (or request) carries an M2M wire body. */
export function isM2MBody(contentType: string | null | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === M2M_CONTENT_TYPE;
}

/**
 * Decodes a response the gateway compressed; other responses are returned as
 * they are. An SSE response whose events use a stream history larger than
 * `maxHistory` (what the request offered) is refused (`INVALID_MESSAGE`).
 */
export async function decodeM2MResponse(response: Response, maxHistory = maxHistoryBytes()): Promise<Response> {
  const type = response.headers.get('content-type');
  const events = response.headers.get(M2M_EVENTS_HEADER) === 'wire';
  if (!isM2MBody(type) && !events) return response;
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.delete(M2M_EVENTS_HEADER);
  headers.delete(M2M_HISTORY_HEADER);
  const init = { status: response.status, statusText: response.statusText, headers };
  if (events) {
    const named = response.headers.get(M2M_HISTORY_HEADER);
    const bytes = named === null ? 0 : readHistoryHeader(named);
    if (bytes === undefined || bytes > maxHistory) {
      throw new M2MError(
        'INVALID_MESSAGE',
        `the response's events use a stream history of ${JSON.stringify(named)} bytes; this client keeps at most ${maxHistory}`,
      );
    }
    if (response.body === null) return new Response(null, init);
    const body = response.body
      .pipeThrough(createSseDecompressStream({}, bytes > 0 ? { bytes } : undefined))
      .pipeThrough(new TextEncoderStream());
    return new Response(body, init);
  }
  headers.set('content-type', response.headers.get(M2M_ORIGINAL_TYPE_HEADER) ?? 'application/json');
  headers.delete(M2M_ORIGINAL_TYPE_HEADER);
  return new Response(decompress(await response.text()), init);
}

/**
 * A `fetch` that compresses request bodies for an m2m gateway and decodes its
 * compressed responses and SSE streams:
 *
 * ```ts
 * const client = new OpenAI({ baseURL: 'http://127.0.0.1:3000/v1', fetch: createM2MFetch() });
 * ```
 *
 * A body that auto leaves uncompressed (`none`) is sent plain. A compressed
 * response the client cannot decode fails its body read with the M2MError.
 */
export function createM2MFetch(options: M2MFetchOptions = {}): typeof fetch {
  const base = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const compression: CompressOptions = { omitDefaults: false, ...options.compression };
  const compressing = options.compressRequests !== false;
  const accepting = options.acceptCompressed !== false;
  const advertising = options.dictionaries !== false;
  const streamHistory = options.streamHistory ?? DEFAULT_HISTORY_BYTES;
  if (!Number.isSafeInteger(streamHistory) || streamHistory < 0) {
    throw new M2MError('INVALID_OPTION', `streamHistory must be a non-negative integer, got ${String(streamHistory)}`);
  }
  // The core's bound is checked on the first request (in a browser the core loads in init()).
  const checkStreamHistory = () => {
    if (streamHistory > maxHistoryBytes()) {
      throw new M2MError('INVALID_OPTION', `streamHistory must be at most ${maxHistoryBytes()}, got ${streamHistory}`);
    }
  };
  // Per origin, the dictionaries its last response named that this install has too.
  const shared = new Map<string, string[]>();
  let own: string[] = [];
  const wrapped = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    checkStreamHistory();
    const origin = originOf(input);
    let body = init?.body;
    if (advertising) {
      // Named once loaded (in a browser, after init() was given them).
      if (own.length === 0) own = loadedDictionaryNames();
      if (own.length > 0) headers.set(M2M_DICTIONARIES_HEADER, own.join(','));
    }
    if (compressing && typeof body === 'string' && body !== '' && !isM2MBody(headers.get('content-type'))) {
      const ids = advertising && compression.dictionaries === undefined ? shared.get(origin) : undefined;
      const r = compress(body, ids?.length ? { ...compression, dictionaries: ids } : compression);
      options.onCompress?.({ originalBytes: r.originalBytes, wireBytes: r.wireBytes, algorithm: r.algorithm });
      if (r.algorithm !== 'none') {
        headers.set(M2M_ORIGINAL_TYPE_HEADER, headers.get('content-type') ?? 'application/json');
        headers.set('content-type', M2M_CONTENT_TYPE);
        body = r.wire;
      }
    }
    if (accepting) headers.set(M2M_ACCEPT_HEADER, 'wire');
    if (accepting && streamHistory > 0) headers.set(M2M_HISTORY_HEADER, String(streamHistory));
    const response = await base(input, { ...init, headers, ...(body !== undefined ? { body } : {}) });
    if (advertising) shared.set(origin, sharedDictionaries(response.headers.get(M2M_DICTIONARIES_HEADER), own));
    return accepting ? decodeM2MResponse(response, streamHistory) : response;
  };
  return wrapped as typeof fetch;
}

/** The origin a request goes to ('' when it cannot be told). */
function originOf(input: RequestInfo | URL): string {
  try {
    const url = input instanceof Request ? input.url : String(input);
    return new URL(url, (globalThis as { location?: { href?: string } }).location?.href).origin;
  } catch {
    return '';
  }
}
