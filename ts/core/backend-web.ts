/**
 * The wasm backend in browsers: loads the wasm-pack web build and fetches
 * rank data on demand. The public entry is `ts/browser.ts`.
 */
import initWasm, * as wasm from '../../build/wasm-web/m2m_wasm.js';
import { type Backend, installBackend, wrapBinding } from './backend.js';
import { ENCODINGS, type Encoding, toEncoding } from './encoding.js';
import { M2MError } from './errors.js';

/** Options of `init()`. */
export interface InitOptions {
  /** The wasm module: a URL, a Response or its bytes. Default: beside the glue code. */
  module?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
  /** Encodings to load now. Default: none (TokenNative and token counts need one). */
  encodings?: Encoding[];
  /**
   * Where rank files (`<encoding>.bpe`) are fetched from. Default: the
   * package's `build/ranks/` next to this module. Bundled pages should set it,
   * since a bundle moves this module.
   */
  ranksBaseUrl?: string | URL;
}

const rankData = new Map<string, Uint8Array>();
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
  return new URL('../../build/ranks/', import.meta.url);
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
      rankData.set(encoding, new Uint8Array(await res.arrayBuffer()));
    })();
    rankFetches.set(encoding, pending);
    // A failed fetch may be retried by a later init().
    pending.catch(() => rankFetches.delete(encoding));
  }
  return pending;
}

function loadWasm(module: InitOptions['module']): Promise<Backend> {
  const loading = initWasm(module === undefined ? undefined : { module_or_path: module }).then(
    () => {
      const loaded = wrapBinding('wasm', wasm as unknown as Record<string, unknown>, preloadedRanks);
      installBackend(loaded);
      return loaded;
    },
    (err: unknown) => {
      ready = undefined; // let a later init() try again
      throw new M2MError('BACKEND_UNAVAILABLE', `loading the m2m wasm module failed: ${(err as Error).message}`, {
        cause: err,
      });
    },
  );
  return loading;
}

/** Loads the wasm module (once) and the rank data of `encodings` (each once, in parallel). */
export async function init(options: InitOptions = {}): Promise<Backend> {
  ready ??= loadWasm(options.module);
  const base = options.ranksBaseUrl ?? defaultRanksBase();
  const encodings = (options.encodings ?? []).map((name) => toEncoding(name));
  // Fetch rank data while the wasm module compiles.
  const fetched = Promise.all(encodings.map((encoding) => fetchRanks(encoding, base)));
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
