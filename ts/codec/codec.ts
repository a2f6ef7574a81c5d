import {
  type Backend,
  backend,
  type RawAutoChoice,
  type RawAutoOptions,
  type RawDecompressed,
} from '../core/backend.js';
import { type Encoding, toEncoding } from '../core/encoding.js';
import { M2MError } from '../core/errors.js';
import { coreTables, encodingOfByte, tokenNativeEncoding, trainedDictionaryId } from '../core/tables.js';
import { utf8Length } from '../core/utf8.js';
import { scan } from '../security/scanner.js';
import type { ScanOptions, ScanResult } from '../security/types.js';
import { assertSafe } from '../security/violation.js';
import { compressFrame, type FrameSecurity, securityParts } from './frame.js';
import { decodeT1, encodeT1, T1_PREFIX } from './t1.js';

/** The protocol's compression algorithms (`m2m`: the M2M v1 frame, `#M2M|1|`). */
export type Algorithm = 'token-native' | 'token' | 'brotli' | 'dictionary' | 'm2m' | 'none';

/** Every algorithm, in the order `analyze()` reports them. */
export const ALGORITHMS: readonly Algorithm[] = ['token-native', 'token', 'brotli', 'dictionary', 'm2m', 'none'];

/**
 * Output restrictions. `'reference'`: only forms the reference implementation
 * (m2m-protocol 0.4.0) decodes: `#TK|C|`, `#TK|O|`, `#M2M[v3.0]|DATA:`,
 * `#M2M|1|` and passthrough (never `#TK|L|`, which it reads with cl100k, nor
 * `#BR|`, `#T1|` or `#DI|`). `'default'`: the protocol documents' forms.
 */
export type Profile = 'default' | 'reference';

/** Options of `compress()`. */
export interface CompressOptions {
  /** Algorithm to use; `'auto'` (default) picks one per message. */
  algorithm?: Algorithm | 'auto';
  /** Tokenizer for TokenNative and for token counts. Default `cl100k_base`. */
  encoding?: Encoding;
  /** Brotli quality, 0–11. Default 5. */
  brotliQuality?: number;
  /** Brotli inside a session: `#M2M[v3.0]|DATA:` instead of `#BR|`. Default false. */
  session?: boolean;
  /** What `'auto'` minimises: wire bytes (default) or wire tokens. */
  optimize?: 'bytes' | 'tokens';
  /** `'auto'` passes content smaller than this (UTF-8 bytes) through unchanged. Default 100 (spec §5.2). */
  minSize?: number;
  /**
   * `'auto'` tries Brotli only for content of at least this many UTF-8 bytes
   * (and, optimising tokens, only from 4 KiB). Default 0, every size: on real
   * traffic Brotli is the best lossless form for most messages from a few
   * hundred bytes (bench/traffic.ts); the spec's §5.2 suggests 1 KiB.
   */
  brotliThreshold?: number;
  /** Also count original and wire tokens with `encoding`. Default false (true when optimising tokens). */
  countTokens?: boolean;
  /** T1: drop parameters equal to their documented default. Default true. */
  omitDefaults?: boolean;
  /** `m2m` frames: HMAC-SHA256 or ChaCha20-Poly1305 protection and its key. Default none. */
  security?: FrameSecurity;
  /** Restrict output to what a peer decodes; see {@link Profile}. Default `'default'`. */
  profile?: Profile;
  /**
   * Scan the content for threats before compressing (spec §7.5): `true` for
   * the scanner's defaults (monitor mode), or its options. In `blocking`
   * mode a threat at or above the threshold throws `M2MError`
   * `SECURITY_VIOLATION` and nothing is compressed. The result goes into
   * `security`. Default: no scan.
   */
  scan?: boolean | ScanOptions;
  /**
   * Lets `'auto'` use the trained dictionaries (`#BD|`, Brotli, or deflate for short messages, with a
   * dictionary built from recorded LLM API traffic, see the README): `true`
   * for every dictionary the package ships, or a list of ids. Only for a
   * receiver that has the same dictionaries (an m2m of the same dictionary
   * versions: another one refuses such a message with
   * `DICTIONARY_UNAVAILABLE`, never misreads it). Not in sessions' DATA nor
   * with the reference profile. Default: none.
   */
  dictionaries?: boolean | readonly string[];
}

/** What `compress()` returns. */
export interface CompressResult {
  wire: string;
  algorithm: Algorithm;
  originalBytes: number;
  wireBytes: number;
  /** With `countTokens` (or `optimize: 'tokens'`). */
  originalTokens?: number;
  wireTokens?: number;
  /** With `scan`: what the scanner found. */
  security?: ScanResult;
}

/** Options of `decompress()`. */
export interface DecompressOptions {
  /**
   * The protection the receiver requires: with `hmac` or `aead`, only an
   * `#M2M|1|` frame in that mode made with this key is accepted; anything
   * else (another mode, a stripped frame, any other wire form) throws
   * `SECURITY_VIOLATION`. Without it, a protected frame throws
   * `SECURITY_VIOLATION` too (its key is needed).
   */
  security?: FrameSecurity;
  /** T1: add documented defaults back. Default false. */
  restoreDefaults?: boolean;
  /** Called when the wire string uses a deprecated framing. Default: a process warning (Node) or console.warn. */
  onWarning?: (message: string) => void;
}

/** What `decompressDetailed()` returns. */
export interface DecompressResult {
  text: string;
  algorithm: Algorithm;
  /** The deprecated prefix the wire string used, if any. */
  deprecated?: string;
}

const DEFAULT_ENCODING: Encoding = 'cl100k_base';
const DEFAULT_BROTLI_QUALITY = 5;

function checkQuality(quality: number): number {
  if (!Number.isInteger(quality) || quality < 0 || quality > 11) {
    throw new M2MError('INVALID_OPTION', `brotliQuality must be an integer from 0 to 11, got ${quality}`);
  }
  return quality;
}

function toAlgorithm(name: string): Algorithm | 'auto' {
  if (name === 'auto' || (ALGORITHMS as readonly string[]).includes(name)) return name as Algorithm | 'auto';
  throw new M2MError(
    'UNSUPPORTED_ALGORITHM',
    `unknown algorithm ${JSON.stringify(name)} (expected auto, ${ALGORITHMS.join(', ')})`,
  );
}

const PROFILES: readonly Profile[] = ['default', 'reference'];

/**
 * The algorithm to use after the profile and security options have had their
 * say: protection needs a frame (`auto` becomes `m2m`; another algorithm is
 * an error, never silently unprotected), and the reference profile refuses
 * what the reference cannot decode.
 */
function resolve(algorithm: Algorithm | 'auto', options: CompressOptions): Algorithm | 'auto' {
  const profile = options.profile ?? 'default';
  if (!PROFILES.includes(profile)) {
    throw new M2MError('INVALID_OPTION', `profile must be one of ${PROFILES.join(', ')}, got ${String(profile)}`);
  }
  const [mode] = securityParts(options.security);
  if (mode !== 'none') {
    if (algorithm === 'auto' || algorithm === 'm2m') return 'm2m';
    throw new M2MError(
      'INVALID_OPTION',
      `security (${mode}) protects M2M frames only: use algorithm 'm2m' (or 'auto'), not '${algorithm}'`,
    );
  }
  if (algorithm === 'auto' || referenceDecodes(algorithm, options)) return algorithm;
  throw new M2MError(
    'INVALID_OPTION',
    `profile 'reference': the reference implementation cannot decode ${algorithm}${
      algorithm === 'token-native' ? ` with ${options.encoding}` : algorithm === 'brotli' ? ' as #BR|' : ''
    }`,
  );
}

/** True unless the reference profile is on and the reference would not decode this algorithm's output. */
function referenceDecodes(algorithm: Algorithm, options: CompressOptions): boolean {
  if (options.profile !== 'reference') return true;
  switch (algorithm) {
    case 'token-native':
      // The reference reads L with cl100k: Llama 3 ids would decode to other text.
      return (options.encoding ?? DEFAULT_ENCODING) !== 'llama3';
    case 'brotli':
      return !!options.session;
    case 'token':
    case 'dictionary':
      return false;
    case 'm2m':
    case 'none':
      return true;
  }
}

/** Options as the reference profile narrows them: Brotli in its session framing, which the reference reads. */
function profiled(options: CompressOptions): CompressOptions {
  return options.profile === 'reference' ? { ...options, session: true } : options;
}

/** Compresses with one given algorithm. */
function compressWith(core: Backend, algorithm: Algorithm, content: string, options: CompressOptions): string {
  switch (algorithm) {
    case 'token-native': {
      const encoding = toEncoding(options.encoding ?? DEFAULT_ENCODING);
      core.ensureEncoding(encoding);
      return core.compressTokenNative(content, encoding);
    }
    case 'token':
      return encodeT1(content, { omitDefaults: options.omitDefaults ?? true });
    case 'brotli':
      return core.compressBrotli(
        content,
        checkQuality(options.brotliQuality ?? DEFAULT_BROTLI_QUALITY),
        !!options.session,
      );
    case 'dictionary':
      return core.compressDictionary(content);
    case 'm2m':
      return compressFrame(content, options.security);
    case 'none':
      if (core.hasWirePrefix(content)) {
        throw new M2MError(
          'AMBIGUOUS_PASSTHROUGH',
          'the content starts with an M2M wire prefix, so passthrough would be misread by the receiver: use another algorithm',
        );
      }
      return content;
  }
}

/** The chosen wire string and what is known about it. */
interface Chosen {
  algorithm: Algorithm;
  wire: string;
  bytes: number;
  originalTokens?: number;
  wireTokens?: number;
}

/** The core's default `minSize` (`DEFAULT_MIN_SIZE` in crates/m2m-core/src/codec/auto.rs; test/limits.test.ts checks it), reported by `analyze()`. */
export const AUTO_MIN_SIZE = 100;

/** A size option of `'auto'`: a whole number of bytes, or undefined for the core's default. */
function sizeOption(name: 'minSize' | 'brotliThreshold', value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new M2MError('INVALID_OPTION', `${name} must be a whole number of bytes (0 or more), got ${value}`);
  }
  return Math.min(value, 0xffffffff);
}

/**
 * The trained dictionaries `options.dictionaries` allows, each loaded into
 * the backend (none with the reference profile or in a session's framing).
 *
 * @throws M2MError `DICTIONARY_UNAVAILABLE` for an id this install lacks.
 */
function dictionaryIds(options: CompressOptions): string[] {
  const wanted = options.dictionaries;
  if (wanted === undefined || wanted === false || options.profile === 'reference' || options.session) return [];
  const ids = wanted === true ? coreTables().dictionaries : wanted;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw new M2MError('INVALID_OPTION', 'dictionaries must be true, false or a list of dictionary ids');
  }
  const core = backend();
  for (const id of ids) {
    if (!core.ensureDictionary(id)) {
      throw new M2MError(
        'DICTIONARY_UNAVAILABLE',
        `the trained dictionary ${JSON.stringify(id)} is not in this install (build/dictionaries/${id}.m2md; the package ships ${coreTables().dictionaries.join(', ')})`,
      );
    }
  }
  return [...ids];
}

/** Optimising bytes, T1 competes only below this size (above, Brotli or TokenNative always wins on chat traffic). */
const T1_AUTO_MAX_BYTES = 512;

/**
 * T1 for `'auto'`: only when the content is JSON and its T1 form decodes to
 * exactly the same text (compact JSON, nothing dropped); otherwise undefined.
 */
function losslessT1(content: string): string | undefined {
  const first = content.charCodeAt(0);
  if (first !== 0x7b && first !== 0x5b) return undefined; // '{' or '['
  try {
    const wire = encodeT1(content, { omitDefaults: false });
    return decodeT1(wire) === content ? wire : undefined;
  } catch (err) {
    if (err instanceof M2MError) return undefined;
    throw err;
  }
}

/**
 * What `'auto'` hands the core (m2m_core::codec::auto, which makes the whole
 * decision in one call): the options, the allowed algorithms, and the lossless
 * T1 form where T1 can win (T1 lives in TypeScript).
 */
function autoRequest(
  content: string,
  originalBytes: number,
  options: CompressOptions,
  allowed?: readonly Algorithm[],
): RawAutoOptions {
  const optimizeTokens = options.optimize === 'tokens';
  const minSize = sizeOption('minSize', options.minSize);
  const raw: RawAutoOptions = {
    encoding: toEncoding(options.encoding ?? DEFAULT_ENCODING),
    optimizeTokens,
    countTokens: !!options.countTokens || optimizeTokens,
    session: !!options.session,
    minSize,
    brotliThreshold: sizeOption('brotliThreshold', options.brotliThreshold),
  };
  if (allowed !== undefined) raw.allowed = [...allowed];
  const dictionaries = dictionaryIds(options);
  if (dictionaries.length > 0) raw.dictionaries = dictionaries;
  const t1Allowed = allowed === undefined || allowed.includes('token');
  const t1Useful =
    (minSize === undefined || originalBytes >= minSize) && (optimizeTokens || originalBytes < T1_AUTO_MAX_BYTES);
  if (t1Allowed && t1Useful) {
    const t1 = losslessT1(content);
    if (t1 !== undefined) raw.token = t1;
  }
  return raw;
}

/** The core's answer as a `Chosen` (passthrough and T1 come back without their wire, which is here). */
function chosenOf(raw: RawAutoChoice, content: string, request: RawAutoOptions): Chosen {
  const algorithm = raw.algorithm as Algorithm;
  const wire = raw.wire ?? (algorithm === 'token' ? (request.token as string) : content);
  const chosen: Chosen = { algorithm, wire, bytes: raw.wireBytes };
  if (raw.originalTokens != null) chosen.originalTokens = raw.originalTokens;
  if (raw.wireTokens != null) chosen.wireTokens = raw.wireTokens;
  return chosen;
}

/** Token counts for a given algorithm's result, when asked for (auto gets them from the core). */
function counted(core: Backend, chosen: Chosen, content: string, options: CompressOptions): Chosen {
  if (options.countTokens || options.optimize === 'tokens') {
    const encoding = toEncoding(options.encoding ?? DEFAULT_ENCODING);
    core.ensureEncoding(encoding);
    chosen.originalTokens = core.countTokens(content, encoding);
    chosen.wireTokens = core.countTokens(chosen.wire, encoding);
  }
  return chosen;
}

/** One `compress` in two halves: the checks and the plan, then one core call run either way. */
interface Prepared {
  sync(): CompressResult;
  async(): Promise<CompressResult>;
}

/** The body of `compress` and `compressAsync`; only the core call differs between them. */
function prepare(content: string, given: CompressOptions): Prepared {
  const core = backend();
  const options = profiled(given);
  const { originalBytes, security } = admit(core, content, options.scan);
  const algorithm = resolve(toAlgorithm(options.algorithm ?? 'auto'), options);
  const finish = (chosen: Chosen): CompressResult => {
    const out: CompressResult = {
      wire: chosen.wire,
      algorithm: chosen.algorithm,
      originalBytes,
      wireBytes: chosen.bytes,
    };
    if (chosen.originalTokens !== undefined) out.originalTokens = chosen.originalTokens;
    if (chosen.wireTokens !== undefined) out.wireTokens = chosen.wireTokens;
    if (security) out.security = security;
    return out;
  };
  if (algorithm === 'auto') {
    // The reference profile restricts auto to the forms the reference decodes.
    const allowed =
      options.profile === 'reference' ? ALGORITHMS.filter((a) => referenceDecodes(a, options)) : undefined;
    const request = autoRequest(content, originalBytes, options, allowed);
    core.ensureEncoding(request.encoding);
    return {
      sync: () => finish(chosenOf(core.compressAuto(content, request), content, request)),
      async: async () => finish(chosenOf(await core.compressAutoAsync(content, request), content, request)),
    };
  }
  const produced = (wire: string): CompressResult =>
    finish(counted(core, { algorithm, wire, bytes: utf8Length(wire) }, content, options));
  return {
    sync: () => produced(compressWith(core, algorithm, content, options)),
    async: async () => produced(await compressWithAsync(core, algorithm, content, options)),
  };
}

/**
 * Compresses `content` into an M2M wire string. `decompress(result.wire)`
 * gives `content` back byte for byte for every algorithm but `token` (T1),
 * which keeps the JSON value and key order but may drop documented defaults
 * and whitespace. `'auto'` never picks T1 unless its result decodes to
 * exactly the input. `'auto'` is decided by the core in one call (see
 * `m2m_core::codec::auto`): TokenNative and Brotli compete at every size
 * from `minSize`, Brotli at a quality chosen by size, Dictionary and T1 on
 * small messages.
 */
export function compress(content: string, options: CompressOptions = {}): CompressResult {
  return prepare(content, options).sync();
}

/**
 * Content must be a string that UTF-8 can carry: a lone surrogate (half of a
 * UTF-16 pair) would come back as U+FFFD, so it is refused rather than
 * silently changed. Returns the content's UTF-8 length.
 */
function checkContent(core: Backend, content: string, what = 'content'): number {
  if (typeof content !== 'string') throw new M2MError('INVALID_OPTION', `${what} must be a string`);
  const bytes = core.utf8LengthChecked(content);
  if (bytes >= 0) return bytes;
  const at = -1 - bytes;
  throw new M2MError(
    'INVALID_UTF8',
    `${what} has a lone surrogate (U+${content.charCodeAt(at).toString(16).toUpperCase()}) at index ${at}, which UTF-8 cannot carry; it would not survive the round trip`,
  );
}

/**
 * What `compress` checks first: content UTF-8 can carry ({@link checkContent}),
 * then the optional scan, which throws `SECURITY_VIOLATION` when blocking mode blocks.
 * Returns the content's UTF-8 length and the scan's result.
 */
function admit(
  core: Backend,
  content: string,
  how: CompressOptions['scan'],
): { originalBytes: number; security?: ScanResult } {
  const originalBytes = checkContent(core, content);
  if (how === undefined || how === false) return { originalBytes };
  const security = scan(content, how === true ? undefined : how);
  if (security.blocked) assertSafe(security);
  return { originalBytes, security };
}

/** As `compressWith`, with the heavy core calls off the JavaScript thread where the backend can. */
async function compressWithAsync(
  core: Backend,
  algorithm: Algorithm,
  content: string,
  options: CompressOptions,
): Promise<string> {
  switch (algorithm) {
    case 'token-native': {
      const encoding = toEncoding(options.encoding ?? DEFAULT_ENCODING);
      core.ensureEncoding(encoding);
      return core.compressTokenNativeAsync(content, encoding);
    }
    case 'brotli':
      return core.compressBrotliAsync(
        content,
        checkQuality(options.brotliQuality ?? DEFAULT_BROTLI_QUALITY),
        !!options.session,
      );
    default:
      return compressWith(core, algorithm, content, options);
  }
}

/**
 * `'auto'` among `allowed` only (a session's negotiated algorithms): the same
 * selector as `compress()`, one core call. Throws `UNSUPPORTED_ALGORITHM`
 * when the content starts with a wire prefix and none of them can carry it.
 */
export function compressAmong(
  content: string,
  options: CompressOptions,
  allowed: readonly Algorithm[],
): { algorithm: Algorithm; wire: string } {
  const core = backend();
  const request = autoRequest(content, checkContent(core, content), options, allowed);
  core.ensureEncoding(request.encoding);
  const { algorithm, wire } = chosenOf(core.compressAuto(content, request), content, request);
  return { algorithm, wire };
}

/**
 * `compress()` for servers: tokenizing and Brotli run on libuv's thread pool
 * with the native backend, so a large payload does not block the event loop.
 * Same results as `compress()`.
 */
export async function compressAsync(content: string, options: CompressOptions = {}): Promise<CompressResult> {
  return prepare(content, options).async();
}

function defaultWarning(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: object) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(message, { type: 'DeprecationWarning', code: 'M2M_ZLIB_V2' });
  else console.warn(message);
}

/** Decodes a wire string of any algorithm, reporting which one it was. */
export function decompressDetailed(wire: string, options: DecompressOptions = {}): DecompressResult {
  const [mode, key] = securityParts(options.security);
  const core = backend();
  // A lone surrogate would reach the core as U+FFFD: refused, as compress() refuses it.
  checkContent(core, wire, 'the wire string');
  if (mode !== 'none') return settle(core.decompressWith(wire, mode, key), options);
  if (wire.startsWith(T1_PREFIX)) {
    return { text: decodeT1(wire, { restoreDefaults: options.restoreDefaults ?? false }), algorithm: 'token' };
  }
  ensureTokenNative(core, wire);
  ensureTrained(core, wire);
  return settle(core.decompress(wire), options);
}

/** Loads the encoding a `#TK|` string names, which the core needs to detokenize (an unknown id is left for the core to report). */
function ensureTokenNative(core: Backend, wire: string): void {
  const encoding = tokenNativeEncoding(wire);
  if (encoding) core.ensureEncoding(encoding);
}

/**
 * The trained dictionaries among `ids` (default: those the package ships)
 * this install has, loaded, by wire name `<id>.<version>.<hash>`: what an
 * end offers in a session's HELLO or an `X-M2M-Dictionaries` header.
 */
export function loadedDictionaryNames(ids: readonly string[] = coreTables().dictionaries): string[] {
  const core = backend();
  const wanted = ids.filter((id) => core.ensureDictionary(id));
  return core.loadedDictionaries().filter((name) => wanted.includes(name.split('.')[0] as string));
}

/** Most dictionary names read from a peer's list. */
const MAX_OFFERED_DICTIONARIES = 16;

/**
 * The ids of the dictionaries a peer names (`names`: wire names,
 * comma-separated, as in `X-M2M-Dictionaries`) that this install has under
 * exactly the same name: the ones both ends may use. Junk is ignored.
 * `own`: this end's names, when already known (else those offered are loaded).
 */
export function sharedDictionaries(names: string | null | undefined, own?: readonly string[]): string[] {
  if (typeof names !== 'string' || names === '') return [];
  const offered = new Set(
    names
      .split(',', MAX_OFFERED_DICTIONARIES)
      .map((n) => n.trim())
      .filter((n) => n !== ''),
  );
  const ids = [...offered].map((n) => n.split('.')[0] as string).filter((id) => coreTables().dictionaries.includes(id));
  return (own ?? loadedDictionaryNames(ids))
    .filter((name) => offered.has(name))
    .map((name) => name.split('.')[0] as string);
}

/** Loads the trained dictionary a `#BD|` string names, if this install has it (otherwise the core refuses the message). */
function ensureTrained(core: Backend, wire: string): void {
  const id = trainedDictionaryId(wire);
  if (id !== undefined) core.ensureDictionary(id);
}

function settle(raw: RawDecompressed, options: DecompressOptions): DecompressResult {
  const result: DecompressResult = { text: raw.text, algorithm: raw.algorithm as Algorithm };
  if (raw.deprecated) {
    result.deprecated = raw.deprecated;
    (options.onWarning ?? defaultWarning)(
      `m2m: ${raw.deprecated} (zlib) is deprecated; senders should use #BR| or #M2M[v3.0]|DATA: (Brotli)`,
    );
  }
  return result;
}

/** `decompressDetailed()` with the core's work on libuv's thread pool (native backend). */
export async function decompressDetailedAsync(
  wire: string,
  options: DecompressOptions = {},
): Promise<DecompressResult> {
  const core = backend();
  const bytes = checkContent(core, wire, 'the wire string');
  if (wire.startsWith(T1_PREFIX) || options.security || bytes < 64 * 1024) {
    return decompressDetailed(wire, options);
  }
  ensureTokenNative(core, wire);
  ensureTrained(core, wire);
  return settle(await core.decompressAsync(wire), options);
}

/** `decompress()` with the core's work on libuv's thread pool (native backend). */
export async function decompressAsync(wire: string, options: DecompressOptions = {}): Promise<string> {
  return (await decompressDetailedAsync(wire, options)).text;
}

/**
 * Decodes a wire string of any algorithm back to the original content.
 * Content without a known prefix is returned as it is (passthrough).
 */
export function decompress(wire: string, options: DecompressOptions = {}): string {
  return decompressDetailed(wire, options).text;
}

/** TokenNative in the binary form `<0|1|2><varint ids>`, for binary channels. */
export function compressBinary(content: string, encoding: Encoding = DEFAULT_ENCODING): Uint8Array {
  const core = backend();
  checkContent(core, content);
  const name = toEncoding(encoding);
  core.ensureEncoding(name);
  return core.compressTokenNativeBinary(content, name);
}

/** Decodes the binary TokenNative form. */
export function decompressBinary(bytes: Uint8Array): string {
  const core = backend();
  const encoding = encodingOfByte(bytes[0]);
  if (encoding) core.ensureEncoding(encoding);
  return core.decompressTokenNativeBinary(bytes);
}

/** One algorithm's outcome in `analyze()`. */
export interface AlgorithmReport {
  algorithm: Algorithm;
  /** False when the algorithm cannot encode this content (e.g. T1 on non-JSON). */
  ok: boolean;
  wireBytes?: number;
  wireTokens?: number;
  /** Bytes saved, in percent of the original (negative when larger). */
  savedBytesPercent?: number;
  savedTokensPercent?: number;
  error?: { code: string; message: string };
}

/** What `analyze()` returns. */
export interface Analysis {
  originalBytes: number;
  originalTokens: number;
  encoding: Encoding;
  algorithms: AlgorithmReport[];
  /** What `compress(content, { algorithm: 'auto', ...options })` picks. */
  auto: Algorithm;
  /** `auto` passes content of fewer UTF-8 bytes than this through unchanged (`minSize`). */
  minSize: number;
}

const percent = (saved: number, of: number) => (of === 0 ? 0 : Math.round((saved / of) * 1000) / 10);

/** Runs every algorithm on `content` and reports bytes and tokens of each, and what auto picks. */
export function analyze(content: string, options: CompressOptions = {}): Analysis {
  const core = backend();
  const originalBytes = checkContent(core, content);
  const encoding = toEncoding(options.encoding ?? DEFAULT_ENCODING);
  core.ensureEncoding(encoding);
  const originalTokens = core.countTokens(content, encoding);
  const algorithms = ALGORITHMS.map((algorithm): AlgorithmReport => {
    try {
      const wire = compressWith(core, resolve(algorithm, profiled(options)) as Algorithm, content, profiled(options));
      const wireBytes = utf8Length(wire);
      const wireTokens = core.countTokens(wire, encoding);
      return {
        algorithm,
        ok: true,
        wireBytes,
        wireTokens,
        savedBytesPercent: percent(originalBytes - wireBytes, originalBytes),
        savedTokensPercent: percent(originalTokens - wireTokens, originalTokens),
      };
    } catch (err) {
      if (!(err instanceof M2MError)) throw err;
      return { algorithm, ok: false, error: { code: err.code, message: err.message } };
    }
  });
  const auto = compress(content, { ...options, algorithm: 'auto' }).algorithm;
  const minSize = sizeOption('minSize', options.minSize) ?? AUTO_MIN_SIZE;
  return { originalBytes, originalTokens, encoding, algorithms, auto, minSize };
}
