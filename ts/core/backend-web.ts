/**
 * The wasm backend in browsers, Workers, Deno and Bun: loads the wasm-pack web
 * build and fetches rank data on demand, or takes both as bytes (offline
 * bundles, Cloudflare Workers). The public entry is `ts/browser.ts`.
 */
import initWasm, * as wasm from '../../build/wasm-web/m2m_wasm.js';
import { type Backend, installBackend, wrapBinding } from './backend.js';
import { ENCODINGS, type Encoding, toEncoding } from './encoding.js';
import { M2MError } from './errors.js';

/** Options of `init()`. */
export interface InitOptions {
  /**
   * The wasm module (`build/wasm-web/m2m_wasm_bg.wasm`, exported as
   * `m2m-protocol/m2m_wasm_bg.wasm`): a URL, a Response, its bytes or a compiled
   * `WebAssembly.Module` (what Cloudflare Workers give for an import of a .wasm
   * file). Default: fetched from beside the glue code, which works unbundled
   * and with bundlers that copy `new URL(..., import.meta.url)` assets (Vite).
   */
  module?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
  /** Encodings to load now. Default: none (TokenNative and token counts need one). */
  encodings?: Encoding[];
  /**
   * Where rank files (`<encoding>.bpe`) are fetched from. Default: the
   * package's `build/ranks/` next to this module. Bundled pages should set it
   * (or pass `ranks`), since a bundle moves this module.
   */
  ranksBaseUrl?: string | URL;
  /**
   * Rank data as bytes (the contents of `build/ranks/<encoding>.bpe`), for
   * bundles and runtimes that should not fetch. Each encoding given here is
   * loaded now, without a fetch.
   */
  ranks?: Partial<Record<Encoding, BufferSource>>;
  /**
   * Trained dictionaries as bytes, by id (the contents of the package's
   * `build/dictionaries/<id>.m2md`), for `compress({ dictionaries })` and
   * for decoding `#BD|` messages in this runtime.
   */
  dictionaries?: Record<string, BufferSource>;
}

const rankData = new Map<string, Uint8Array>();
const dictionaryData = new Map<string, Uint8Array>();
const rankFetches = new Map<string, Promise<void>>();
let ready: Promise<Backend> | undefined;

function preloadedRanks(encoding: string): Uint8Array {
  const data = rankData.get(encoding);
  if (data === undefined) {
    throw new M2MError(
      'ENCODING_NOT_LOADED',
      `encoding ${encoding} is not loaded: call init({ encodings: ['${encoding}'] }) first`,
    );
  }
  return data;
}

function defaultRanksBase(): URL {
  try {
    return new URL('../../build/ranks/', import.meta.url);
  } catch (err) {
    throw new M2MError(
      'RANK_DATA_UNAVAILABLE',
      `this runtime gives the m2m module no URL to fetch rank data from (${(err as Error).message}): pass init({ ranks: { <encoding>: bytes } }) or init({ ranksBaseUrl })`,
      { cause: err },
    );
  }
}

/** A copy of `data` as a plain Uint8Array. */
function toBytes(data: BufferSource): Uint8Array {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  throw new M2MError('INVALID_OPTION', 'init({ ranks }): each value must be an ArrayBuffer or a typed array');
}

async function fetchRanks(encoding: Encoding, base: string | URL): Promise<void> {
  if (rankData.has(encoding)) return;
  let pending = rankFetches.get(encoding);
  if (pending === undefined) {
    pending = (async () => {
      const url = new URL(`${encoding}.bpe`, base);
      let res: Response;
      try {
        res = await fetch(url);
      } catch (err) {
        throw new M2MError('RANK_DATA_UNAVAILABLE', `fetching ${url} failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (!res.ok) throw new M2MError('RANK_DATA_UNAVAILABLE', `fetching ${url} failed: HTTP ${res.status}`);
      // A dev server's fallback page (Vite answers unknown paths with index.html).
      if (/^text\/html\b/i.test(res.headers.get('content-type') ?? '')) {
        throw new M2MError(
          'RANK_DATA_UNAVAILABLE',
          `fetching ${url} returned an HTML page, not rank data: serve the package's build/ranks/ folder at that URL (set ranksBaseUrl) or pass init({ ranks })`,
        );
      }
      rankData.set(encoding, new Uint8Array(await res.arrayBuffer()));
    })();
    rankFetches.set(encoding, pending);
    // A failed fetch may be retried by a later init().
    pending.catch(() => rankFetches.delete(encoding));
  }
  return pending;
}

function loadWasm(module: InitOptions['module']): Promise<Backend> {
  // `.then` first, so a synchronous throw of the glue code is caught below too.
  const loading = Promise.resolve()
    .then(() => initWasm(module === undefined ? undefined : { module_or_path: module }))
    .then(
      () => {
        const loaded = wrapBinding('wasm', wasm as unknown as Record<string, unknown>, preloadedRanks, (id) =>
          dictionaryData.get(id),
        );
        installBackend(loaded);
        return loaded;
      },
      (err: unknown) => {
        ready = undefined; // let a later init() try again
        const hint =
          module === undefined
            ? ' (the default fetches m2m_wasm_bg.wasm from beside the glue code; where that cannot work, pass init({ module }) with its URL, bytes or a WebAssembly.Module)'
            : '';
        throw new M2MError(
          'BACKEND_UNAVAILABLE',
          `loading the m2m wasm module failed: ${(err as Error)?.message ?? String(err)}${hint}`,
          { cause: err },
        );
      },
    );
  return loading;
}

/** Loads the wasm module (once) and the rank data of `encodings` and `ranks` (each once, in parallel). */
export async function init(options: InitOptions = {}): Promise<Backend> {
  const given = Object.entries(options.ranks ?? {}).map(([name, data]) => {
    const encoding = toEncoding(name);
    rankData.set(encoding, toBytes(data as BufferSource));
    return encoding;
  });
  for (const [id, data] of Object.entries(options.dictionaries ?? {})) dictionaryData.set(id, toBytes(data));
  const encodings = [...new Set([...given, ...(options.encodings ?? []).map((name) => toEncoding(name))])];
  const toFetch = encodings.filter((encoding) => !rankData.has(encoding));
  const base = toFetch.length === 0 ? undefined : (options.ranksBaseUrl ?? defaultRanksBase());
  ready ??= loadWasm(options.module);
  // Fetch rank data while the wasm module compiles.
  const fetched = Promise.all(toFetch.map((encoding) => fetchRanks(encoding, base as string | URL)));
  fetched.catch(() => {}); // reported by the await below, not as an unhandled rejection
  const backend = await ready;
  await fetched;
  for (const encoding of encodings) backend.ensureEncoding(encoding);
  return backend;
}

/** The encodings whose rank data is loaded (by `init()`). */
export function loadedEncodings(): Encoding[] {
  return ENCODINGS.filter((encoding) => rankData.has(encoding));
}
