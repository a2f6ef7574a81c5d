/**
 * m2m in a Web Worker, so tokenizing and compressing never block a page.
 *
 * This module is two things:
 *  - the worker script: started with `new Worker(url, { type: 'module' })`, it
 *    answers the requests of the client below. It loads the wasm module, each
 *    encoding's rank data and the security scanner the first time a request
 *    needs them (a Brotli compression never fetches rank data; a scan never
 *    loads wasm);
 *  - the client, `M2MWorker`: the same calls as the library, as promises.
 *    The client half has no static dependency on the library, so importing it
 *    costs a page a few kilobytes.
 *
 * ```ts
 * const m2m = new M2MWorker(new Worker(workerUrl, { type: 'module' }), {
 *   wasmUrl: '/m2m_wasm_bg.wasm',
 *   ranksBaseUrl: '/ranks/',
 * });
 * const { wire } = await m2m.compress(text, { algorithm: 'token-native' });
 * ```
 * Failures reject with an `M2MError` carrying the same `code` as in the worker.
 */
import type { Analysis, CompressOptions, CompressResult, DecompressResult } from './codec/codec.js';
import { ENCODINGS, type Encoding, toEncoding } from './core/encoding.js';
import { errorFromPeer, M2MError } from './core/errors.js';
import type { ScanOptions, ScanResult } from './security/types.js';

/** Where the worker finds its assets (both resolved against the worker script's URL). */
export interface WorkerConfig {
  /** URL of `m2m_wasm_bg.wasm`. Default: beside the wasm glue code. */
  wasmUrl?: string;
  /** URL of the folder holding `<encoding>.bpe` rank files. Default: the package's `build/ranks/`. */
  ranksBaseUrl?: string;
}

/** One token (or, for ids that are parts of one UTF-8 character, a run of tokens) of a text. */
export interface TokenSegment {
  /** The text the ids decode to. */
  text: string;
  /** One id, or several when a character spans tokens. */
  ids: number[];
}

/** What the worker answers: each method's arguments and result. */
export interface M2MWorkerMethods {
  /** Loads the wasm module and the rank data of `encodings` now (otherwise done on first use). */
  init(encodings?: Encoding[]): { encodings: Encoding[] };
  compress(content: string, options?: CompressOptions): CompressResult;
  /** `decompressDetailed()`: the text and the algorithm the wire string used. */
  decompress(wire: string): DecompressResult;
  analyze(content: string, options?: CompressOptions): Analysis;
  scan(content: string, options?: ScanOptions): ScanResult;
  encode(text: string, encoding: Encoding): Uint32Array;
  decode(ids: ArrayLike<number>, encoding: Encoding): string;
  /** `encode()`, then each token's text (see `tokenSegments`). */
  tokenize(text: string, encoding: Encoding): TokenSegment[];
}

export type M2MWorkerMethod = keyof M2MWorkerMethods;

/** A message to the worker. `configure` carries a `WorkerConfig` and gets no answer. */
export type M2MWorkerRequest =
  | { id: number; method: M2MWorkerMethod; args: unknown[] }
  | { id: 0; method: 'configure'; args: [WorkerConfig] };

/** A message from the worker. */
export type M2MWorkerResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { code: string; message: string } };

/**
 * Splits a text into its tokens' texts. `ids` must be `encode(text)`; ids
 * that are not valid UTF-8 on their own (a multi-byte character split across
 * tokens) are grouped until they decode. The segments' texts concatenate to
 * `text` (for text without lone surrogates).
 */
export function tokenSegments(text: string, ids: ArrayLike<number>, decode: (ids: number[]) => string): TokenSegment[] {
  const segments: TokenSegment[] = [];
  let pos = 0;
  let group: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    group.push(ids[i] as number);
    let piece: string;
    try {
      piece = decode(group);
    } catch (err) {
      if (err instanceof M2MError && err.code === 'INVALID_UTF8') continue; // part of a character
      throw err;
    }
    segments.push({ text: piece, ids: group });
    pos += piece.length;
    group = [];
  }
  if (group.length > 0) segments.push({ text: text.slice(pos), ids: group });
  return segments;
}

// ---------------------------------------------------------------------------
// The worker side.

type Library = typeof import('./browser.js');
// The scanner module itself, not `./security/index.js`: the index also
// re-exports the Node config loader, which would bundle zod (~450 KB) into the
// worker.
type Security = typeof import('./security/scanner.js');

/** The part of a worker's global scope the server uses. */
export interface WorkerScope {
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  postMessage(message: unknown, transfer?: ArrayBufferLike[]): void;
}

const DEFAULT_ENCODING: Encoding = 'cl100k_base';

/** The encoding a compression needs rank data for, if any. */
function encodingFor(options: CompressOptions = {}): Encoding | undefined {
  const algorithm = options.algorithm ?? 'auto';
  const needs =
    algorithm === 'auto' || algorithm === 'token-native' || options.countTokens || options.optimize === 'tokens';
  return needs ? toEncoding(options.encoding ?? DEFAULT_ENCODING) : undefined;
}

/**
 * Answers `M2MWorker` requests on `scope` (the worker's global scope). Called
 * automatically when this module is a worker's script.
 */
export function serveM2M(scope: WorkerScope): void {
  let config: WorkerConfig = {};
  let library: Promise<Library> | undefined;
  let security: Promise<Security> | undefined;

  const resolve = (url: string | undefined) => (url === undefined ? undefined : new URL(url, location.href));

  /** The library, with the wasm module and the given encodings loaded. */
  async function lib(encodings: (Encoding | undefined)[] = []): Promise<Library> {
    library ??= import('./browser.js');
    const m = await library;
    const wanted = encodings.filter((e): e is Encoding => e !== undefined);
    const wasmUrl = resolve(config.wasmUrl);
    const ranksBaseUrl = resolve(config.ranksBaseUrl);
    await m.init({
      encodings: wanted,
      ...(wasmUrl ? { module: wasmUrl } : {}),
      ...(ranksBaseUrl ? { ranksBaseUrl } : {}),
    });
    return m;
  }

  const handlers: { [M in M2MWorkerMethod]: (...args: Parameters<M2MWorkerMethods[M]>) => Promise<unknown> } = {
    async init(encodings = []) {
      const m = await lib(encodings);
      return { encodings: m.loadedEncodings() };
    },
    async compress(content, options = {}) {
      return (await lib([encodingFor(options)])).compress(content, options);
    },
    async decompress(wire) {
      // The core's table says which encoding a #TK| string needs; load it next.
      const tk = (await lib()).tokenNativeEncoding(wire);
      return (await lib([tk])).decompressDetailed(wire);
    },
    async analyze(content, options = {}) {
      return (await lib([toEncoding(options.encoding ?? DEFAULT_ENCODING)])).analyze(content, options);
    },
    async scan(content, options) {
      await lib(); // the scanner's classifier runs in the wasm core
      security ??= import('./security/scanner.js');
      return (await security).scan(content, options);
    },
    async encode(text, encoding) {
      return (await lib([toEncoding(encoding)])).encode(text, encoding);
    },
    async decode(ids, encoding) {
      return (await lib([toEncoding(encoding)])).decode(ids, encoding);
    },
    async tokenize(text, encoding) {
      const m = await lib([toEncoding(encoding)]);
      return tokenSegments(text, m.encode(text, encoding), (ids) => m.decode(ids, encoding));
    },
  };

  scope.addEventListener('message', (event: MessageEvent) => {
    const request = event.data as M2MWorkerRequest;
    if (request.method === 'configure') {
      config = { ...request.args[0] };
      return;
    }
    const { id, method, args } = request;
    const handler = handlers[method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    const run = handler
      ? Promise.resolve().then(() => handler(...args))
      : Promise.reject(new M2MError('UNKNOWN_METHOD', `the m2m worker has no method ${String(method)}`));
    run.then(
      (value) => {
        const transfer = value instanceof Uint32Array ? [value.buffer] : [];
        scope.postMessage({ id, ok: true, value } satisfies M2MWorkerResponse, transfer);
      },
      (err: unknown) => {
        const error =
          err instanceof M2MError
            ? { code: err.code, message: err.message }
            : { code: 'INTERNAL_ERROR', message: err instanceof Error ? err.message : String(err) };
        scope.postMessage({ id, ok: false, error } satisfies M2MWorkerResponse);
      },
    );
  });
}

function isWorkerScope(): boolean {
  const g = globalThis as { WorkerGlobalScope?: abstract new () => unknown };
  return typeof g.WorkerGlobalScope === 'function' && globalThis instanceof g.WorkerGlobalScope;
}

if (isWorkerScope()) serveM2M(globalThis as unknown as WorkerScope);

// ---------------------------------------------------------------------------
// The client side.

/** The subset of `Worker` the client needs. */
export interface WorkerLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message' | 'error', listener: (event: Event) => void): void;
  terminate(): void;
}

/** Promise-based client of an m2m worker. Calls run in order, one at a time, in the worker. */
export class M2MWorker {
  readonly #worker: WorkerLike;
  readonly #pending = new Map<number, { resolve: (value: never) => void; reject: (err: Error) => void }>();
  #nextId = 1;

  constructor(worker: WorkerLike, config: WorkerConfig = {}) {
    this.#worker = worker;
    worker.addEventListener('message', (event) => this.#settle((event as MessageEvent).data as M2MWorkerResponse));
    worker.addEventListener('error', (event) => {
      const message = (event as ErrorEvent).message || 'the m2m worker failed to start';
      this.#failAll(new M2MError('WORKER_FAILED', message));
    });
    worker.postMessage({ id: 0, method: 'configure', args: [config] } satisfies M2MWorkerRequest);
  }

  /** Calls a worker method by name. */
  call<M extends M2MWorkerMethod>(
    method: M,
    ...args: Parameters<M2MWorkerMethods[M]>
  ): Promise<ReturnType<M2MWorkerMethods[M]>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: never) => void, reject });
      this.#worker.postMessage({ id, method, args } satisfies M2MWorkerRequest);
    });
  }

  init(encodings: Encoding[] = []) {
    return this.call('init', encodings);
  }
  compress(content: string, options?: CompressOptions) {
    return this.call('compress', content, options);
  }
  decompress(wire: string) {
    return this.call('decompress', wire);
  }
  analyze(content: string, options?: CompressOptions) {
    return this.call('analyze', content, options);
  }
  scan(content: string, options?: ScanOptions) {
    return this.call('scan', content, options);
  }
  encode(text: string, encoding: Encoding) {
    return this.call('encode', text, encoding);
  }
  decode(ids: ArrayLike<number>, encoding: Encoding) {
    return this.call('decode', Array.from(ids), encoding);
  }
  tokenize(text: string, encoding: Encoding) {
    return this.call('tokenize', text, encoding);
  }

  /** Stops the worker; pending calls reject with `WORKER_TERMINATED`. */
  terminate(): void {
    this.#worker.terminate();
    this.#failAll(new M2MError('WORKER_TERMINATED', 'the m2m worker was terminated'));
  }

  #settle(response: M2MWorkerResponse): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return;
    this.#pending.delete(response.id);
    if (response.ok) pending.resolve(response.value as never);
    else pending.reject(errorFromPeer(response.error.code, response.error.message));
  }

  #failAll(err: M2MError): void {
    for (const { reject } of this.#pending.values()) reject(err);
    this.#pending.clear();
  }
}

export { ENCODINGS, type Encoding };
