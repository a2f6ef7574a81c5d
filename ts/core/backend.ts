import { type TokenTexts, withDecodeTable } from './decode-table.js';
import { M2MError, toM2MError } from './errors.js';
import { type EncodeInto, pooledEncodeOrdinary } from './id-pool.js';
import { utf8LengthChecked } from './utf8.js';

/** Which implementation of the Rust core is in use. */
export type BackendKind = 'native' | 'wasm';

/** Token ids with the name of their encoding, as the core returns them. */
export interface RawTokenIds {
  encoding: string;
  ids: Uint32Array;
}

/**
 * The functions both bindings export, with the same names, argument order and
 * results. `ts/` talks to the core only through this interface.
 */
export interface CoreFunctions {
  // Wire primitives.
  varintEncode(ids: Uint32Array): Uint8Array;
  varintDecode(bytes: Uint8Array): Uint32Array;
  base64Encode(bytes: Uint8Array): string;
  base64Decode(text: string): Uint8Array;
  packTokenNative(ids: Uint32Array, encoding: string): string;
  unpackTokenNative(wire: string): RawTokenIds;
  packTokenNativeBinary(ids: Uint32Array, encoding: string): Uint8Array;
  unpackTokenNativeBinary(bytes: Uint8Array): RawTokenIds;
  // Tokenizers.
  loadEncoding(encoding: string, rankData: Uint8Array): void;
  isEncodingLoaded(encoding: string): boolean;
  encodeOrdinary(text: string, encoding: string): Uint32Array;
  /** `allowedSpecial` null: every special token of the encoding. */
  encodeWithSpecial(text: string, encoding: string, allowedSpecial: string[] | null): Uint32Array;
  decodeTokens(ids: Uint32Array, encoding: string): string;
  countTokens(text: string, encoding: string): number;
  // Codecs.
  compressTokenNative(text: string, encoding: string): string;
  compressTokenNativeBinary(text: string, encoding: string): Uint8Array;
  decompressTokenNativeBinary(bytes: Uint8Array): string;
  compressBrotli(text: string, quality: number, session: boolean): string;
  /** The binary form of a session Brotli (`#M2M[v3.0]|DATA:`) or `#BH|` message: its head, then its payload's bytes (core `codec::binary`). */
  wireToBinary(wire: string): Uint8Array;
  /** The text form of a body made by `wireToBinary` (the same text, byte for byte). */
  binaryToWire(bytes: Uint8Array): string;
  compressDictionary(text: string): string;
  /** Loads a trained dictionary file (`build/dictionaries/<id>.m2md`); returns its wire name `<id>.<version>.<hash>`. */
  loadDictionary(file: Uint8Array): string;
  /** The wire names of the loaded trained dictionaries. */
  loadedDictionaries(): string[];
  /** `#BD|`: Brotli with the loaded trained dictionary `id` (or, for up to 2 KiB when shorter, deflate against it: `#BD|<name>:`). */
  compressTrained(text: string, id: string, quality: number): string;
  /** `#BH|<state>|` (`#BH|<state>.<dictionary id>|` with a dictionary; `:` for the last `|` before a deflate payload, which the core sends when shorter, up to 2 KiB): Brotli against a session history in state `state`, after the trained dictionary of the text's family when its id is in `dictionaries` (comma-separated) and loaded. */
  compressHistory(
    text: string,
    history: string,
    state: string,
    dictionaries: string,
    quality: number,
    both: boolean,
  ): string;
  /** Decodes `#BH|` against a session history in state `state` (`HISTORY_MISMATCH` when it names another). */
  decompressHistory(wire: string, history: string, state: string): string;
  /** The history hash after appending `text` to a history of hash `previous`. */
  historyAdvance(previous: string, text: string): string;
  /** Auto in one call: the core chooses and applies an algorithm (m2m_core::codec::auto). */
  compressAuto(text: string, options: RawAutoOptions): RawAutoChoice;
  decompress(wire: string): RawDecompressed;
  hasWirePrefix(text: string): boolean;
  // M2M v1 frames (`mode`: none, hmac, aead; AEAD needs a fresh 12-byte nonce).
  compressFrame(text: string, mode: string, key: Uint8Array | null, nonce: Uint8Array | null): string;
  compressFrameBinary(text: string, mode: string, key: Uint8Array | null, nonce: Uint8Array | null): Uint8Array;
  decompressFrameBinary(bytes: Uint8Array, mode: string, key: Uint8Array | null): string;
  /** `decompress`, requiring the protection `mode` with `key`. */
  decompressWith(wire: string, mode: string, key: Uint8Array | null): RawDecompressed;
  /** The header of a text frame, as JSON. */
  inspectFrame(wire: string): string;
  inspectFrameBinary(bytes: Uint8Array): string;
  /** The core's prefix, encoding, algorithm and error-code tables, as JSON. */
  coreTables(): string;
  // Keys.
  hkdfSha256(ikm: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  hierarchyKey(master: Uint8Array, org: string, kind: string, ids: string[]): Uint8Array;
  x25519PublicKey(secret: Uint8Array): Uint8Array;
  x25519SessionKey(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array;
  /** Seals a session message (`mode` hmac or aead) as number `seq` (m2m_core::seal): AEAD ciphertext and tag, or the HMAC tag. */
  sessionSeal(mode: string, key: Uint8Array, seq: number, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Opens a sealed session message (HMAC: plaintext then tag); the plaintext. */
  sessionOpen(mode: string, key: Uint8Array, seq: number, aad: Uint8Array, sealed: Uint8Array): Uint8Array;
  // The scanner's classifier.
  /** `[score, class (1 injection, 2 jailbreak, 3 exfiltration), start, end]` of the highest window. */
  classifyText(text: string): Float64Array;
  classifierThreshold(): number;
}

/** Options of the core's `compressAuto`; absent sizes take the core's defaults. */
export interface RawAutoOptions {
  encoding: string;
  optimizeTokens: boolean;
  countTokens: boolean;
  session: boolean;
  minSize?: number;
  brotliThreshold?: number;
  /** Algorithm names auto may use besides passthrough (all when absent). */
  allowed?: string[];
  /** The content's lossless T1 form, to compete with the core's candidates. */
  token?: string;
  /** Ids of loaded trained dictionaries auto may use (`#BD|`); none when absent. */
  dictionaries?: string[];
}

/** What the core's `compressAuto` returns; `wire` is absent (or null) for passthrough and T1. */
export interface RawAutoChoice {
  algorithm: string;
  wire?: string | null;
  wireBytes: number;
  originalTokens?: number | null;
  wireTokens?: number | null;
}

/** What the core's `decompress` returns. */
export interface RawDecompressed {
  text: string;
  algorithm: string;
  /** The deprecated prefix the wire string used, if any. */
  deprecated?: string | null;
}

/**
 * Heavy core calls as promises. The native backend runs them on libuv's
 * thread pool, so the JavaScript thread stays free; the wasm backend runs
 * them on the calling thread (in browsers, put m2m in a Web Worker).
 */
export interface AsyncCoreFunctions {
  compressTokenNativeAsync(text: string, encoding: string): Promise<string>;
  compressBrotliAsync(text: string, quality: number, session: boolean): Promise<string>;
  compressAutoAsync(text: string, options: RawAutoOptions): Promise<RawAutoChoice>;
  decompressAsync(wire: string): Promise<RawDecompressed>;
  countTokensAsync(text: string, encoding: string): Promise<number>;
}

const ASYNC_FUNCTION_NAMES = [
  'compressTokenNativeAsync',
  'compressBrotliAsync',
  'compressAutoAsync',
  'decompressAsync',
  'countTokensAsync',
] as const satisfies readonly (keyof AsyncCoreFunctions)[];

/** A core error the native addon's async calls settle with (instead of rejecting, to keep the code). */
function isCoreFailure(value: unknown): value is { code: string; message: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value && !('text' in value);
}

/** A loaded core: its functions, with errors normalised to `M2MError`. */
export interface Backend extends CoreFunctions, AsyncCoreFunctions {
  readonly kind: BackendKind;
  /**
   * UTF-8 length of text, or `-1 - i` for a lone surrogate at index `i`
   * (see `utf8LengthChecked` in utf8.ts). The native addon's is used for
   * long text: it reads the string once, where JavaScript needs two passes.
   */
  utf8LengthChecked(text: string): number;
  /** Loads an encoding's rank data into this backend if it is not loaded yet. */
  ensureEncoding(encoding: string): void;
  /**
   * Loads the trained dictionary `id` into this backend if it is not loaded
   * yet; false when this install has no such dictionary.
   */
  ensureDictionary(id: string): boolean;
}

/** Supplies a trained dictionary file (`build/dictionaries/<id>.m2md`), or undefined when there is none. */
export type DictionarySource = (id: string) => Uint8Array | undefined;

/** Supplies an encoding's rank data (a `build/ranks/<name>.bpe` file). */
export type RankSource = (encoding: string) => Uint8Array;

const CORE_FUNCTION_NAMES = [
  'varintEncode',
  'varintDecode',
  'base64Encode',
  'base64Decode',
  'packTokenNative',
  'unpackTokenNative',
  'packTokenNativeBinary',
  'unpackTokenNativeBinary',
  'loadEncoding',
  'isEncodingLoaded',
  'encodeOrdinary',
  'encodeWithSpecial',
  'decodeTokens',
  'countTokens',
  'compressTokenNative',
  'compressTokenNativeBinary',
  'decompressTokenNativeBinary',
  'compressBrotli',
  'wireToBinary',
  'binaryToWire',
  'compressDictionary',
  'loadDictionary',
  'loadedDictionaries',
  'compressTrained',
  'compressHistory',
  'decompressHistory',
  'historyAdvance',
  'compressAuto',
  'decompress',
  'hasWirePrefix',
  'compressFrame',
  'compressFrameBinary',
  'decompressFrameBinary',
  'decompressWith',
  'inspectFrame',
  'inspectFrameBinary',
  'coreTables',
  'hkdfSha256',
  'hierarchyKey',
  'x25519PublicKey',
  'x25519SessionKey',
  'sessionSeal',
  'sessionOpen',
  'classifyText',
  'classifierThreshold',
] as const satisfies readonly (keyof CoreFunctions)[];

/** Below this many UTF-16 units, the JavaScript count is as fast as a call into the addon. */
const NATIVE_LENGTH_MIN_CHARS = 1024;

/** Node's Buffer is a Uint8Array subclass; hand out plain views of the same memory. */
function plain<T>(value: T): T {
  if (value instanceof Uint8Array && value.constructor !== Uint8Array) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength) as T;
  }
  return value;
}

/** A binding function as the TS layer calls it: its errors as `M2MError`, Buffers as plain Uint8Arrays. */
function coreCall(fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return (...args) => {
    try {
      return plain(fn(...args));
    } catch (err) {
      throw toM2MError(err);
    }
  };
}

/**
 * Wraps a binding module as a `Backend`: checks that it exports every core
 * function, converts thrown errors to `M2MError` and Buffers to Uint8Arrays,
 * and loads rank data from `ranks` the first time an encoding is used. With
 * `newIdPool`, a binding that has `encodeOrdinaryInto` returns small encode
 * results as views of the pools it makes.
 */
export function wrapBinding(
  kind: BackendKind,
  binding: Record<string, unknown>,
  ranks: RankSource,
  dictionaries: DictionarySource = () => undefined,
  newIdPool?: () => Uint32Array,
): Backend {
  const loaded = new Set<string>();
  const loadedDictionaries = new Set<string>();
  const backend: Record<string, unknown> = {
    kind,
    ensureDictionary(id: string): boolean {
      if (loadedDictionaries.has(id)) return true;
      const file = dictionaries(id);
      if (file === undefined) return false;
      (backend as unknown as Backend).loadDictionary(file);
      loadedDictionaries.add(id);
      return true;
    },
    ensureEncoding(encoding: string): void {
      if (loaded.has(encoding)) return;
      const self = backend as unknown as Backend;
      if (!self.isEncodingLoaded(encoding)) self.loadEncoding(encoding, ranks(encoding));
      loaded.add(encoding);
    },
  };
  const nativeLength = binding.utf8LengthChecked;
  backend.utf8LengthChecked =
    typeof nativeLength === 'function'
      ? (text: string) => (text.length < NATIVE_LENGTH_MIN_CHARS ? utf8LengthChecked(text) : nativeLength(text))
      : utf8LengthChecked;
  for (const name of CORE_FUNCTION_NAMES) {
    const fn = binding[name];
    if (typeof fn !== 'function') {
      throw new M2MError('BACKEND_UNAVAILABLE', `the ${kind} backend does not export ${name}()`);
    }
    backend[name] = coreCall(fn as (...args: unknown[]) => unknown);
  }
  const encodeInto = binding.encodeOrdinaryInto;
  if (newIdPool !== undefined && typeof encodeInto === 'function') {
    // The native binding: small results are views of shared pools (id-pool.ts).
    backend.encodeOrdinary = pooledEncodeOrdinary(encodeInto as EncodeInto, newIdPool);
  }
  const tokenTexts = binding.tokenTexts;
  if (typeof tokenTexts === 'function') {
    // The wasm binding: decodes join strings here rather than cross into wasm (decode-table.ts).
    backend.decodeTokens = withDecodeTable(
      backend.decodeTokens as (ids: Uint32Array, encoding: string) => string,
      coreCall(tokenTexts as (...args: unknown[]) => unknown) as (encoding: string) => TokenTexts,
    );
  }
  for (const name of ASYNC_FUNCTION_NAMES) {
    const fn = binding[name];
    const syncName = name.slice(0, -'Async'.length) as keyof CoreFunctions;
    const sync = backend[syncName] as (...args: unknown[]) => unknown;
    backend[name] =
      typeof fn === 'function'
        ? async (...args: unknown[]) => {
            let result: unknown;
            try {
              result = await fn(...args);
            } catch (err) {
              throw toM2MError(err);
            }
            if (isCoreFailure(result))
              throw toM2MError(Object.assign(new Error(result.message), { code: result.code }));
            return result;
          }
        : async (...args: unknown[]) => sync(...args);
  }
  return backend as unknown as Backend;
}

let active: Backend | undefined;
let defaultLoader: (() => Backend) | undefined;

/** Sets how the backend is loaded when none was chosen (per entry point). */
export function setDefaultBackendLoader(loader: () => Backend): void {
  defaultLoader = loader;
}

/** Makes `backend` the one every API call uses. */
export function installBackend(backend: Backend): void {
  active = backend;
}

/** The backend in use, loading the default one on first use. */
export function backend(): Backend {
  if (active === undefined) {
    if (defaultLoader === undefined) {
      throw new M2MError(
        'BACKEND_UNAVAILABLE',
        'no m2m backend is loaded: in a browser, await init() before calling m2m',
      );
    }
    active = defaultLoader();
  }
  return active;
}
