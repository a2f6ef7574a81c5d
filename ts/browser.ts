/**
 * m2m for browsers: the WebAssembly build. Await `init()` once, naming the
 * encodings you will use, before calling anything else; each encoding's rank
 * data is fetched only when asked for.
 */
import initWasm, * as wasm from '../build/wasm-web/m2m_wasm.js';
import { type Backend, installBackend, wrapBinding } from './backend.js';
import { type Encoding, toEncoding } from './encoding.js';
import { M2MError } from './errors.js';

export * from './api.js';

/** Options of `init()`. */
export interface InitOptions {
  /** The wasm module: a URL, a Response or its bytes. Default: beside the glue code. */
  module?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
  /** Encodings to load now. Default: none (TokenNative and token counts need one). */
  encodings?: Encoding[];
  /** Where rank files are fetched from. Default: the package's `build/ranks/`. */
  ranksBaseUrl?: string | URL;
}

const rankData = new Map<string, Uint8Array>();
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

async function fetchRanks(encoding: Encoding, base: string | URL): Promise<void> {
  if (rankData.has(encoding)) return;
  const url = new URL(`${encoding}.bpe`, base);
  const res = await fetch(url);
  if (!res.ok) throw new M2MError('RANK_DATA_UNAVAILABLE', `fetching ${url} failed: HTTP ${res.status}`);
  rankData.set(encoding, new Uint8Array(await res.arrayBuffer()));
}

/** Loads the wasm module (once) and the rank data of `encodings` (each once). */
export async function init(options: InitOptions = {}): Promise<Backend> {
  ready ??= initWasm(options.module === undefined ? undefined : { module_or_path: options.module }).then(() => {
    const loaded = wrapBinding('wasm', wasm as unknown as Record<string, unknown>, preloadedRanks);
    installBackend(loaded);
    return loaded;
  });
  const backend = await ready;
  const base = options.ranksBaseUrl ?? new URL('../build/ranks/', import.meta.url);
  for (const name of options.encodings ?? []) {
    const encoding = toEncoding(name);
    await fetchRanks(encoding, base);
    backend.ensureEncoding(encoding);
  }
  return backend;
}
