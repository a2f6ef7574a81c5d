/**
 * A small, lossless JSON parser and serializer.
 *
 * `JSON.parse` loses information the protocol has to keep: numbers become
 * doubles (`12345678901234567890`, `1.0` and `1e5` do not survive), and
 * objects forget duplicate keys and reorder integer-like keys. This module
 * keeps every number as its source text ({@link JsonNumber}) and every object
 * as an ordered list of members ({@link JsonObject}).
 *
 * Decisions:
 * - **Duplicate keys are rejected** (`INVALID_JSON`) when parsing. RFC 8259
 *   leaves their meaning open, and readers disagree about which one wins, so
 *   a message with duplicates is ambiguous. {@link stringifyJson} trusts the
 *   objects it is given (build them with {@link JsonObject.set} to stay unique).
 * - **Strings** are unescaped into JS strings. An escaped lone surrogate
 *   (`"\ud800"`) is kept as that UTF-16 code unit and written back as the
 *   same escape, so it round-trips.
 * - **Limits** (spec §3.5) are checked while parsing, never after:
 *   input at most 16 MiB (UTF-8 bytes of the text), nesting depth at most 32
 *   (a scalar root has depth 0, `[]` and `{}` depth 1), a string (value or
 *   key) at most 10 MiB measured as the UTF-8 bytes of its *unescaped*
 *   value (a lone surrogate counts 3 bytes), an array at most 10,000
 *   elements. Exceeding one throws `CONTENT_TOO_LARGE` naming the limit.
 *   The parser recurses at most 33 frames deep, so hostile nesting cannot
 *   overflow the stack.
 * - Malformed input throws `INVALID_JSON` with the UTF-16 offset of the
 *   problem and what was expected there.
 *
 * Output of {@link stringifyJson} is compact (no whitespace) and escapes only
 * what JSON requires (`"`, `\`, control characters and lone surrogates).
 */

import { M2MError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { hasIsWellFormed, utf8Length } from '../core/utf8.js';

/** The protocol's JSON limits (spec §3.5). */
export const JSON_LIMITS = Object.freeze({
  /** Largest JSON text, in UTF-8 bytes. */
  maxInputBytes: LIMITS.maxMessageBytes,
  maxDepth: LIMITS.maxDepth,
  maxStringBytes: LIMITS.maxStringBytes,
  maxArrayLength: LIMITS.maxArrayLength,
});

const MAX_INPUT_BYTES = JSON_LIMITS.maxInputBytes;
const MAX_DEPTH = JSON_LIMITS.maxDepth;
const MAX_STRING_BYTES = JSON_LIMITS.maxStringBytes;
const MAX_ARRAY_LENGTH = JSON_LIMITS.maxArrayLength;

const NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A JSON number, kept as its exact source text. */
export class JsonNumber {
  /** The number's text, always valid JSON number syntax (e.g. `-1.50e+3`). */
  readonly raw: string;

  /** @throws M2MError `INVALID_JSON` if `raw` is not JSON number syntax. */
  constructor(raw: string) {
    if (!NUMBER_RE.test(raw)) throw new M2MError('INVALID_JSON', `${JSON.stringify(raw)} is not a JSON number`);
    this.raw = raw;
  }

  /** The nearest double (may round or overflow to ±Infinity). */
  toNumber(): number {
    return Number(this.raw);
  }

  toString(): string {
    return this.raw;
  }
}

/**
 * A JSON object: its members in source order, as two parallel arrays.
 * Keys are unique in every object produced by {@link parseJson}.
 */
export class JsonObject {
  readonly keys: string[];
  readonly values: JsonValue[];

  /** Members are taken as given; the caller keeps `keys` unique and as long as `values`. */
  constructor(keys: string[] = [], values: JsonValue[] = []) {
    this.keys = keys;
    this.values = values;
  }

  /** Builds an object from `[key, value]` pairs; a repeated key throws `INVALID_JSON`. */
  static from(entries: Iterable<readonly [string, JsonValue]>): JsonObject {
    const obj = new JsonObject();
    for (const [k, v] of entries) {
      if (obj.has(k)) throw new M2MError('INVALID_JSON', `duplicate key ${JSON.stringify(k)}`);
      obj.keys.push(k);
      obj.values.push(v);
    }
    return obj;
  }

  get size(): number {
    return this.keys.length;
  }

  /** Index of `key`, or -1. */
  indexOf(key: string): number {
    return this.keys.indexOf(key);
  }

  has(key: string): boolean {
    return this.keys.indexOf(key) !== -1;
  }

  get(key: string): JsonValue | undefined {
    const i = this.keys.indexOf(key);
    return i === -1 ? undefined : this.values[i];
  }

  /** Replaces the value of `key` in place, or appends the member at the end. */
  set(key: string, value: JsonValue): this {
    const i = this.keys.indexOf(key);
    if (i === -1) {
      this.keys.push(key);
      this.values.push(value);
    } else {
      this.values[i] = value;
    }
    return this;
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    const i = this.keys.indexOf(key);
    if (i === -1) return false;
    this.keys.splice(i, 1);
    this.values.splice(i, 1);
    return true;
  }

  *entries(): IterableIterator<[string, JsonValue]> {
    for (let i = 0; i < this.keys.length; i++) yield [this.keys[i] as string, this.values[i] as JsonValue];
  }
}

export type JsonArray = JsonValue[];

/** The lossless value model: arrays are plain arrays, objects keep order, numbers keep their text. */
export type JsonValue = JsonObject | JsonArray | string | JsonNumber | boolean | null;

/** A {@link JsonNumber} from its JSON text or from a finite double (written the way `JSON.stringify` does). */
export function jsonNumber(value: string | number | bigint): JsonNumber {
  if (typeof value === 'string') return new JsonNumber(value);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new M2MError('INVALID_JSON', `${value} has no JSON representation`);
  }
  return new JsonNumber(String(value));
}

/**
 * Fails with `CONTENT_TOO_LARGE` if `text` is longer than `maxBytes` UTF-8
 * bytes. Cheap for most inputs: the UTF-16 length bounds the byte length
 * from below (×1) and above (×3), so only borderline sizes are counted.
 */
export function checkUtf8Size(text: string, maxBytes: number, what: string): void {
  if (text.length * 3 <= maxBytes) return;
  const bytes = text.length > maxBytes ? text.length : utf8Length(text);
  if (bytes > maxBytes) {
    throw new M2MError(
      'CONTENT_TOO_LARGE',
      `${what} exceeds the limit of ${formatBytes(maxBytes)} (${text.length > maxBytes ? 'at least ' : ''}${bytes} bytes)`,
    );
  }
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}

function describeChar(c: number): string {
  if (Number.isNaN(c)) return 'end of input';
  if (c < 0x20 || c === 0x7f) return `control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${String.fromCharCode(c)}'`;
}

function invalid(pos: number, expected: string, found: number): never {
  throw new M2MError(
    'INVALID_JSON',
    `invalid JSON at offset ${pos}: expected ${expected}, found ${describeChar(found)}`,
  );
}

function tooDeep(): never {
  throw new M2MError('CONTENT_TOO_LARGE', `JSON depth exceeds the limit of ${MAX_DEPTH}`);
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

// Character codes.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  /** Skips JSON whitespace; returns the next code unit (NaN at the end). */
  ws(): number {
    const src = this.src;
    let pos = this.pos;
    let c = src.charCodeAt(pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = src.charCodeAt(++pos);
    this.pos = pos;
    return c;
  }

  value(depth: number): JsonValue {
    const c = this.ws();
    switch (c) {
      case LBRACE:
        return this.object(depth + 1);
      case LBRACKET:
        return this.array(depth + 1);
      case QUOTE:
        return this.string();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (c === MINUS || (c >= ZERO && c <= NINE)) return this.number();
        return invalid(this.pos, 'a JSON value', c);
    }
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    const src = this.src;
    const start = this.pos;
    for (let i = 1; i < word.length; i++) {
      const c = src.charCodeAt(start + i);
      if (c !== word.charCodeAt(i)) invalid(start + i, `'${word}'`, c);
    }
    this.pos = start + word.length;
    return v;
  }

  number(): JsonNumber {
    const src = this.src;
    const start = this.pos;
    let pos = start;
    let c = src.charCodeAt(pos);
    if (c === MINUS) c = src.charCodeAt(++pos);
    if (c === ZERO) {
      c = src.charCodeAt(++pos);
      if (c >= ZERO && c <= NINE) invalid(pos, "'.', 'e' or the end of the number (no leading zeros)", c);
    } else if (c >= 0x31 && c <= NINE) {
      do c = src.charCodeAt(++pos);
      while (c >= ZERO && c <= NINE);
    } else {
      invalid(pos, 'a digit', c);
    }
    if (c === 0x2e) {
      c = src.charCodeAt(++pos);
      if (!(c >= ZERO && c <= NINE)) invalid(pos, "a digit after '.'", c);
      do c = src.charCodeAt(++pos);
      while (c >= ZERO && c <= NINE);
    }
    if (c === 0x65 || c === 0x45) {
      c = src.charCodeAt(++pos);
      if (c === 0x2b || c === MINUS) c = src.charCodeAt(++pos);
      if (!(c >= ZERO && c <= NINE)) invalid(pos, 'a digit in the exponent', c);
      do c = src.charCodeAt(++pos);
      while (c >= ZERO && c <= NINE);
    }
    this.pos = pos;
    return new JsonNumber(src.slice(start, pos));
  }

  /** Parses a string starting at the opening quote. */
  string(): string {
    const src = this.src;
    const start = this.pos + 1;
    let pos = start;
    // Fast path: no escapes.
    for (;;) {
      const c = src.charCodeAt(pos);
      if (c === QUOTE) {
        this.pos = pos + 1;
        const s = src.slice(start, pos);
        if (s.length * 3 > MAX_STRING_BYTES) this.checkString(s, start - 1);
        return s;
      }
      if (c === BACKSLASH) break;
      if (c < 0x20 || Number.isNaN(c)) return this.badStringChar(pos, c);
      pos++;
    }
    // Slow path: copy the runs between escapes.
    let out = '';
    let runStart = start;
    for (;;) {
      const c = src.charCodeAt(pos);
      if (c === QUOTE) {
        out += src.slice(runStart, pos);
        this.pos = pos + 1;
        if (out.length * 3 > MAX_STRING_BYTES) this.checkString(out, start - 1);
        return out;
      }
      if (c === BACKSLASH) {
        out += src.slice(runStart, pos);
        const e = src.charCodeAt(pos + 1);
        switch (e) {
          case QUOTE:
            out += '"';
            break;
          case BACKSLASH:
            out += '\\';
            break;
          case 0x2f:
            out += '/';
            break;
          case 0x62:
            out += '\b';
            break;
          case 0x66:
            out += '\f';
            break;
          case 0x6e:
            out += '\n';
            break;
          case 0x72:
            out += '\r';
            break;
          case 0x74:
            out += '\t';
            break;
          case 0x75: {
            let code = 0;
            for (let k = 2; k < 6; k++) {
              const h = src.charCodeAt(pos + k);
              const v = hexVal(h);
              if (v < 0) invalid(pos + k, 'a hex digit in a \\u escape', h);
              code = (code << 4) | v;
            }
            out += String.fromCharCode(code);
            pos += 4;
            break;
          }
          default:
            invalid(pos + 1, 'an escape character (one of " \\ / b f n r t u)', e);
        }
        pos += 2;
        runStart = pos;
        // Keep intermediate results bounded even for pathological inputs.
        if (out.length > MAX_STRING_BYTES) this.checkString(out, start - 1);
        continue;
      }
      if (c < 0x20 || Number.isNaN(c)) return this.badStringChar(pos, c);
      pos++;
    }
  }

  badStringChar(pos: number, c: number): never {
    if (Number.isNaN(c)) invalid(pos, "a closing '\"'", c);
    return invalid(pos, "a string character (control characters must be escaped) or '\"'", c);
  }

  checkString(s: string, quotePos: number): void {
    const bytes = s.length > MAX_STRING_BYTES ? s.length : utf8Length(s);
    if (bytes > MAX_STRING_BYTES) {
      throw new M2MError(
        'CONTENT_TOO_LARGE',
        `JSON string exceeds the limit of ${formatBytes(MAX_STRING_BYTES)} (the string at offset ${quotePos})`,
      );
    }
  }

  array(depth: number): JsonArray {
    if (depth > MAX_DEPTH) tooDeep();
    this.pos++; // [
    const out: JsonValue[] = [];
    let c = this.ws();
    if (c === RBRACKET) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (out.length === MAX_ARRAY_LENGTH) {
        throw new M2MError('CONTENT_TOO_LARGE', `JSON array exceeds the limit of ${MAX_ARRAY_LENGTH} elements`);
      }
      out.push(this.value(depth));
      c = this.ws();
      if (c === COMMA) {
        this.pos++;
        continue;
      }
      if (c === RBRACKET) {
        this.pos++;
        return out;
      }
      invalid(this.pos, "',' or ']' after an array element", c);
    }
  }

  object(depth: number): JsonObject {
    if (depth > MAX_DEPTH) tooDeep();
    this.pos++; // {
    const keys: string[] = [];
    const values: JsonValue[] = [];
    let seen: Set<string> | undefined;
    let c = this.ws();
    if (c === RBRACE) {
      this.pos++;
      return new JsonObject(keys, values);
    }
    for (;;) {
      if (c !== QUOTE)
        invalid(this.pos, keys.length === 0 ? "a '\"' starting a key or '}'" : "a '\"' starting a key", c);
      const keyPos = this.pos;
      const key = this.string();
      c = this.ws();
      if (c !== COLON) invalid(this.pos, "':' after an object key", c);
      this.pos++;
      const v = this.value(depth);
      if (seen !== undefined) {
        if (seen.has(key)) this.duplicate(key, keyPos);
        seen.add(key);
      } else if (keys.indexOf(key) !== -1) {
        this.duplicate(key, keyPos);
      } else if (keys.length === 15) {
        seen = new Set(keys); // wide object: switch from a linear scan to a set
        seen.add(key);
      }
      keys.push(key);
      values.push(v);
      c = this.ws();
      if (c === COMMA) {
        this.pos++;
        c = this.ws();
        continue;
      }
      if (c === RBRACE) {
        this.pos++;
        return new JsonObject(keys, values);
      }
      invalid(this.pos, "',' or '}' after an object member", c);
    }
  }

  duplicate(key: string, pos: number): never {
    throw new M2MError('INVALID_JSON', `invalid JSON at offset ${pos}: duplicate key ${JSON.stringify(key)}`);
  }
}

/**
 * Parses JSON text into the lossless model.
 * @throws M2MError `INVALID_JSON` (malformed, duplicate key) or `CONTENT_TOO_LARGE` (a limit).
 */
export function parseJson(text: string): JsonValue {
  checkUtf8Size(text, MAX_INPUT_BYTES, 'JSON text');
  const p = new Parser(text);
  const v = p.value(0);
  const c = p.ws();
  if (!Number.isNaN(c)) invalid(p.pos, 'the end of input after the JSON value', c);
  return v;
}

// Characters a JSON string cannot hold raw. Lone surrogates need escaping too:
// `isWellFormed` finds them where it exists (Node 20+), a regex elsewhere.
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings must escape control characters
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings must escape control characters
const NEEDS_ESCAPE_OR_SURROGATE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The compact JSON form of a string: same escaping as `JSON.stringify` (lone surrogates as `\uXXXX`). */
export function quoteJsonString(s: string): string {
  // Checking is cheaper than JSON.stringify for the common case of nothing to escape.
  const plain = hasIsWellFormed
    ? !NEEDS_ESCAPE.test(s) && (s as string & { isWellFormed(): boolean }).isWellFormed()
    : !NEEDS_ESCAPE_OR_SURROGATE.test(s);
  return plain ? `"${s}"` : JSON.stringify(s);
}

/**
 * Serializes the model as compact JSON text.
 * @throws M2MError `CONTENT_TOO_LARGE` if nesting exceeds the depth limit
 *   (which also stops cyclic structures).
 */
export function stringifyJson(value: JsonValue): string {
  return write(value, 0);
}

function write(v: JsonValue, depth: number): string {
  if (typeof v === 'string') return quoteJsonString(v);
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (v instanceof JsonNumber) return v.raw;
  if (++depth > MAX_DEPTH) tooDeep();
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    let out = `[${write(v[0] as JsonValue, depth)}`;
    for (let i = 1; i < v.length; i++) out += `,${write(v[i] as JsonValue, depth)}`;
    return `${out}]`;
  }
  if (v instanceof JsonObject) {
    const { keys, values } = v;
    if (keys.length === 0) return '{}';
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) out += ',';
      out += `${quoteJsonString(keys[i] as string)}:${write(values[i] as JsonValue, depth)}`;
    }
    return `${out}}`;
  }
  throw new M2MError('INVALID_JSON', `not a JSON value: ${Object.prototype.toString.call(v)}`);
}

/** Structural equality of two values; numbers compare by their text. */
export function jsonEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (a instanceof JsonNumber) return b instanceof JsonNumber && a.raw === b.raw;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEquals(a[i] as JsonValue, b[i] as JsonValue)) return false;
    return true;
  }
  if (a instanceof JsonObject) {
    if (!(b instanceof JsonObject) || a.keys.length !== b.keys.length) return false;
    for (let i = 0; i < a.keys.length; i++) {
      if (a.keys[i] !== b.keys[i] || !jsonEquals(a.values[i] as JsonValue, b.values[i] as JsonValue)) return false;
    }
    return true;
  }
  return false;
}

/**
 * Whether a JSON number's text denotes exactly the integer `target`
 * (decimal comparison, no rounding: `1`, `1.0`, `10e-1` and `0.1E1` are 1;
 * `1.0000000000000000001` is not; `-0` and `0e5` are 0).
 */
export function numberEqualsInteger(raw: string, target: number): boolean {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(raw);
  if (!m) return false;
  const neg = m[1] === '-';
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  let digits = (intPart + frac).replace(/^0+/, '');
  if (digits === '') return target === 0;
  if (target === 0 || neg !== target < 0) return false;
  // value = digits × 10^(exp − frac.length)
  const expText = m[4] ?? '0';
  const expDigits = expText.replace(/^[+-]?0*/, '');
  if (expDigits.length > 15) return false;
  let exp = (expText.startsWith('-') ? -1 : 1) * Number(expDigits || '0') - frac.length;
  const stripped = digits.replace(/0+$/, '');
  exp += digits.length - stripped.length;
  digits = stripped;
  if (exp < 0) return false;
  if (exp > 20) return false;
  return digits + '0'.repeat(exp) === String(Math.abs(target));
}
