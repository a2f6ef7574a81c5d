/**
 * The Token codec, algorithm T1: `#T1|<abbreviated compact JSON>`.
 *
 * Keys and a few string values of OpenAI-style chat-completion requests and
 * responses are replaced by the short forms of `spec/reference/abbreviations.md`
 * (the complete tables; DESIGN §2.3). Everything else is kept as it was, and
 * numbers keep their exact text (see `json.ts`).
 *
 * ## Positions
 *
 * The tables reuse short forms (`m` is `messages` and `message`, `tc` is
 * `tool_calls` and `tool_choice`, `n` is `n` and `name`), so a key is only
 * abbreviated where the chat-completion shape says what it is. Each object is
 * read in one of these contexts, decided by the path of *original* keys from
 * the root (the decoder expands a key before choosing the child context, so
 * both sides agree):
 *
 * | context | where | keys abbreviated |
 * |---|---|---|
 * | root | the top-level object (request or response) | request and response keys (`messages`, `model`, … `choices`, `usage`, `created`, `object`, `system_fingerprint`) |
 * | message | `messages[*]`, `choices[*].message`, `choices[*].delta` | `role`, `content`, `name`, `tool_calls`, `function_call` |
 * | choice | `choices[*]` | `index`, `message`, `delta`, `finish_reason`, `logprobs` |
 * | usage | `usage` | `prompt_tokens`, `completion_tokens`, `total_tokens` |
 * | tool | `tools[*]` | `type`, `function` |
 * | function definition | `tools[*].function`, `functions[*]` | `name`, `description`, `parameters` |
 * | tool call | `<message>.tool_calls[*]` | `type`, `function` |
 * | function call | `<tool call>.function`, `<message>.function_call` | `name`, `arguments` |
 * | tool choice | `tool_choice` (object form) | `type`, `function` |
 * | function reference | `tool_choice.function`, root `function_call` (object form) | `name` |
 * | response format | `response_format` | `type` |
 * | schema | `parameters` of a function definition, and its sub-schemas (`items`, `prefixItems`, `additionalProperties`, `not`, `anyOf`/`oneOf`/`allOf` elements, members of `properties`/`patternProperties`/`$defs`/`definitions`) | `type`, `description`, `properties`, `required` |
 *
 * Value tables apply at exactly one position each: roles at `<message>.role`,
 * finish reasons at `<choice>.finish_reason`, models at root `model`, response
 * format types at `response_format.type`.
 *
 * Everything else is user data and passes through untouched, keys included:
 * the property names under a schema's `properties` (and `$defs`, …), the keys
 * of `logit_bias` and `metadata`, message `content` (also content-part
 * arrays), `arguments`, `stop`, `enum`/`const`/`default` values, any key not
 * in the tables and everything below it, and non-object roots.
 *
 * ## Escape
 *
 * In a context that has a key table, a literal key is written as `~` + key
 * when it would otherwise be misread: when it equals an abbreviation of that
 * context without being the key that abbreviation stands for (a message key
 * literally named `"n"`), or when it starts with `~` itself (`"~x"` is written
 * `"~~x"`). The decoder strips exactly one leading `~` from such a key and
 * takes the rest literally. Values at value-table positions use the same rule
 * (a role literally `"u"` is written `"~u"`; a model literally `"4o"` is
 * written `"~4o"`). `~` starts no abbreviation and no table key, so the
 * escaped forms never collide with an abbreviation or with a key the encoder
 * writes unescaped. Identity entries (`n` → `n` at the root, models `o1`,
 * `o3`) need no escape.
 *
 * ## Defaults
 *
 * When the root object is a chat request (it has a `messages` array), the
 * encoder drops parameters equal to their documented default (`temperature`
 * 1.0, `top_p` 1.0, `n` 1, `stream` false, `frequency_penalty` 0,
 * `presence_penalty` 0, `logit_bias` {}, `stop` null, `logprobs` false;
 * numbers compared exactly as decimals) unless `omitDefaults: false`. The
 * decoder adds missing ones back, at the end of the root object, only with
 * `restoreDefaults: true` (DESIGN §2.4). Other nulls are always kept.
 *
 * ## Guarantee
 *
 * `decodeT1(encodeT1(x, { omitDefaults: false }))` is the compact form of `x`
 * (same members, same order, same number text); with defaults omitted it is
 * that minus the omitted root members. The decoder also accepts unabbreviated
 * keys and values (as `02-wire-format.md` §3.9.3 writes `"fr":"stop"`), but
 * rejects a payload whose keys collide after expansion (`INVALID_JSON`).
 */

import { M2MError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import {
  checkUtf8Size,
  JsonNumber,
  JsonObject,
  type JsonValue,
  numberEqualsInteger,
  parseJson,
  quoteJsonString,
  stringifyJson,
} from './json.js';

/** Wire prefix of the Token codec. */
export const T1_PREFIX = '#T1|';
/** Marks a literal key or value that would otherwise be read as an abbreviation. */
export const T1_ESCAPE = '~';

export interface EncodeT1Options {
  /** Drop root request parameters equal to their documented default (default `true`). */
  omitDefaults?: boolean;
}

export interface DecodeT1Options {
  /** Add omitted request parameters back with their default value (default `false`). */
  restoreDefaults?: boolean;
}

// ---------------------------------------------------------------------------
// Tables (spec/reference/abbreviations.md)

/** Role values, at `<message>.role`. */
export const T1_ROLES: Readonly<Record<string, string>> = Object.freeze({
  system: 's',
  user: 'u',
  assistant: 'a',
  function: 'f',
  tool: 't',
});

/** Finish reason values, at `<choice>.finish_reason`. */
export const T1_FINISH_REASONS: Readonly<Record<string, string>> = Object.freeze({
  stop: 's',
  length: 'l',
  tool_calls: 'tc',
  content_filter: 'cf',
  function_call: 'fc',
});

/** Response format types, at `response_format.type`. */
export const T1_RESPONSE_FORMAT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  text: 't',
  json_object: 'j',
  json_schema: 'js',
});

/** Model identifiers, at root `model`. */
export const T1_MODELS: Readonly<Record<string, string>> = Object.freeze({
  'gpt-4o': '4o',
  'gpt-4o-mini': '4om',
  'gpt-4o-2024-11-20': '4o1120',
  'gpt-4o-2024-08-06': '4o0806',
  'gpt-4-turbo': '4t',
  'gpt-4-turbo-preview': '4tp',
  'gpt-4': '4',
  'gpt-4-32k': '432k',
  'gpt-3.5-turbo': '35t',
  'gpt-3.5-turbo-16k': '35t16k',
  o1: 'o1',
  'o1-mini': 'o1m',
  'o1-preview': 'o1p',
  o3: 'o3',
  'o3-mini': 'o3m',
  'meta-llama/llama-3.3-70b': 'ml3370',
  'meta-llama/llama-3.3-70b-instruct': 'ml3370i',
  'meta-llama/llama-3.1-405b': 'ml31405',
  'meta-llama/llama-3.1-405b-instruct': 'ml31405i',
  'meta-llama/llama-3.1-70b': 'ml3170',
  'meta-llama/llama-3.1-70b-instruct': 'ml3170i',
  'meta-llama/llama-3.1-8b': 'ml318',
  'meta-llama/llama-3.1-8b-instruct': 'ml318i',
  'mistralai/mistral-large': 'mim-l',
  'mistralai/mistral-large-latest': 'mim-ll',
  'mistralai/mistral-medium': 'mim-m',
  'mistralai/mistral-small': 'mim-s',
  'mistralai/mixtral-8x7b': 'mimx87',
  'mistralai/mixtral-8x22b': 'mimx822',
  'mistralai/codestral-latest': 'micodl',
  'deepseek/deepseek-v3': 'ddv3',
  'deepseek/deepseek-r1': 'ddr1',
  'deepseek/deepseek-coder': 'ddc',
  'deepseek/deepseek-chat': 'ddchat',
  'qwen/qwen-2.5-72b': 'qq2572',
  'qwen/qwen-2.5-32b': 'qq2532',
  'qwen/qwen-2.5-coder-32b': 'qqc32',
});

/** Context names of the position model (see the module comment). */
export type T1ContextName =
  | 'root'
  | 'message'
  | 'choice'
  | 'usage'
  | 'tool'
  | 'functionDefinition'
  | 'toolCall'
  | 'functionCall'
  | 'toolChoice'
  | 'functionReference'
  | 'responseFormat'
  | 'schema';

interface ValueTable {
  readonly enc: ReadonlyMap<string, string>;
  readonly dec: ReadonlyMap<string, string>;
}

/** How a member is treated: its wire key and how its value is read. */
interface Rule {
  readonly key: string;
  readonly abbr: string;
  /** Context of the value when it is an object. */
  obj?: Ctx;
  /** Context of the object elements when the value is an array. */
  arr?: Ctx;
  /** Value table applied when the value is a string. */
  values?: ValueTable;
  /** Whether the value is this parameter's documented default (root only). */
  isDefault?: (v: JsonValue) => boolean;
  /** The value restored by `restoreDefaults`. */
  defaultValue?: () => JsonValue;
}

interface Ctx {
  readonly name: T1ContextName | 'map';
  readonly byKey: Map<string, Rule>;
  readonly byAbbr: Map<string, Rule>;
  /** Rule for keys outside the table (user-named members whose values have a known shape). */
  other?: Rule;
}

function valueTable(t: Readonly<Record<string, string>>): ValueTable {
  const enc = new Map(Object.entries(t));
  const dec = new Map(Object.entries(t).map(([k, v]) => [v, k] as const));
  return { enc, dec };
}

function ctx(name: T1ContextName | 'map'): Ctx {
  return { name, byKey: new Map(), byAbbr: new Map() };
}

type RuleOptions = Omit<Rule, 'key' | 'abbr'>;

function def(c: Ctx, key: string, abbr: string, opts: RuleOptions = {}): void {
  const rule: Rule = { key, abbr, ...opts };
  c.byKey.set(key, rule);
  c.byAbbr.set(abbr, rule);
}

const ROLES = valueTable(T1_ROLES);
const FINISH = valueTable(T1_FINISH_REASONS);
const RESPONSE_FORMAT_TYPES = valueTable(T1_RESPONSE_FORMAT_TYPES);
const MODELS = valueTable(T1_MODELS);

const ROOT = ctx('root');
const MESSAGE = ctx('message');
const CHOICE = ctx('choice');
const USAGE = ctx('usage');
const TOOL = ctx('tool');
const FUNCTION_DEF = ctx('functionDefinition');
const TOOL_CALL = ctx('toolCall');
const FUNCTION_CALL = ctx('functionCall');
const TOOL_CHOICE = ctx('toolChoice');
const FUNCTION_REF = ctx('functionReference');
const RESPONSE_FORMAT = ctx('responseFormat');
const SCHEMA = ctx('schema');
/** A map from user-chosen names to schemas (`properties`, `$defs`, ...): keys untouched. */
const SCHEMA_MAP = ctx('map');

const isNum = (n: number) => (v: JsonValue) => v instanceof JsonNumber && numberEqualsInteger(v.raw, n);
const isFalse = (v: JsonValue) => v === false;
const isNull = (v: JsonValue) => v === null;
const isEmptyObject = (v: JsonValue) => v instanceof JsonObject && v.keys.length === 0;

// Request root.
def(ROOT, 'messages', 'm', { arr: MESSAGE });
def(ROOT, 'model', 'M', { values: MODELS });
def(ROOT, 'temperature', 'T', { isDefault: isNum(1), defaultValue: () => new JsonNumber('1.0') });
def(ROOT, 'max_tokens', 'x');
def(ROOT, 'top_p', 'p', { isDefault: isNum(1), defaultValue: () => new JsonNumber('1.0') });
def(ROOT, 'stream', 's', { isDefault: isFalse, defaultValue: () => false });
def(ROOT, 'stop', 'S', { isDefault: isNull, defaultValue: () => null });
def(ROOT, 'n', 'n', { isDefault: isNum(1), defaultValue: () => new JsonNumber('1') });
def(ROOT, 'seed', 'se');
def(ROOT, 'user', 'u');
def(ROOT, 'frequency_penalty', 'f', { isDefault: isNum(0), defaultValue: () => new JsonNumber('0') });
def(ROOT, 'presence_penalty', 'P', { isDefault: isNum(0), defaultValue: () => new JsonNumber('0') });
def(ROOT, 'logit_bias', 'lb', { isDefault: isEmptyObject, defaultValue: () => new JsonObject() });
def(ROOT, 'logprobs', 'lp', { isDefault: isFalse, defaultValue: () => false });
def(ROOT, 'top_logprobs', 'tlp');
def(ROOT, 'response_format', 'rf', { obj: RESPONSE_FORMAT });
def(ROOT, 'tools', 'ts', { arr: TOOL });
def(ROOT, 'tool_choice', 'tc', { obj: TOOL_CHOICE });
def(ROOT, 'functions', 'fs', { arr: FUNCTION_DEF });
def(ROOT, 'function_call', 'fc', { obj: FUNCTION_REF });
// Response root.
def(ROOT, 'choices', 'C', { arr: CHOICE });
def(ROOT, 'usage', 'U', { obj: USAGE });
def(ROOT, 'created', 'cr');
def(ROOT, 'object', 'o');
def(ROOT, 'system_fingerprint', 'sf');

// A message (request messages, response message, streaming delta).
def(MESSAGE, 'role', 'r', { values: ROLES });
def(MESSAGE, 'content', 'c');
def(MESSAGE, 'name', 'n');
def(MESSAGE, 'tool_calls', 'tc', { arr: TOOL_CALL });
def(MESSAGE, 'function_call', 'fc', { obj: FUNCTION_CALL });

def(CHOICE, 'index', 'i');
def(CHOICE, 'message', 'm', { obj: MESSAGE });
def(CHOICE, 'delta', 'd', { obj: MESSAGE });
def(CHOICE, 'finish_reason', 'fr', { values: FINISH });
def(CHOICE, 'logprobs', 'lp');

def(USAGE, 'prompt_tokens', 'pt');
def(USAGE, 'completion_tokens', 'ct');
def(USAGE, 'total_tokens', 'tt');

def(TOOL, 'type', 't');
def(TOOL, 'function', 'fn', { obj: FUNCTION_DEF });

def(FUNCTION_DEF, 'name', 'n');
def(FUNCTION_DEF, 'description', 'desc');
def(FUNCTION_DEF, 'parameters', 'params', { obj: SCHEMA });

def(TOOL_CALL, 'type', 't');
def(TOOL_CALL, 'function', 'fn', { obj: FUNCTION_CALL });

def(FUNCTION_CALL, 'name', 'n');
def(FUNCTION_CALL, 'arguments', 'a');

def(TOOL_CHOICE, 'type', 't');
def(TOOL_CHOICE, 'function', 'fn', { obj: FUNCTION_REF });

def(FUNCTION_REF, 'name', 'n');

def(RESPONSE_FORMAT, 'type', 't', { values: RESPONSE_FORMAT_TYPES });

def(SCHEMA, 'type', 't');
def(SCHEMA, 'description', 'desc');
def(SCHEMA, 'properties', 'props', { obj: SCHEMA_MAP });
def(SCHEMA, 'required', 'req');
// JSON Schema keywords that hold sub-schemas: not abbreviated (not in the
// table), but their contents are schemas again.
const SUBSCHEMA: RuleOptions = { obj: SCHEMA, arr: SCHEMA };
for (const k of ['items', 'prefixItems', 'additionalProperties', 'not', 'anyOf', 'oneOf', 'allOf']) {
  SCHEMA.byKey.set(k, { key: k, abbr: k, ...SUBSCHEMA });
}
for (const k of ['patternProperties', '$defs', 'definitions']) {
  SCHEMA.byKey.set(k, { key: k, abbr: k, obj: SCHEMA_MAP });
}
SCHEMA_MAP.other = { key: '', abbr: '', obj: SCHEMA };

const ALL_CONTEXTS: readonly Ctx[] = [
  ROOT,
  MESSAGE,
  CHOICE,
  USAGE,
  TOOL,
  FUNCTION_DEF,
  TOOL_CALL,
  FUNCTION_CALL,
  TOOL_CHOICE,
  FUNCTION_REF,
  RESPONSE_FORMAT,
  SCHEMA,
];

/** The key abbreviations of every context (original → wire), for documentation and tests. */
export const T1_KEYS: Readonly<Record<T1ContextName, Readonly<Record<string, string>>>> = Object.freeze(
  Object.fromEntries(
    ALL_CONTEXTS.map((c) => [
      c.name,
      Object.freeze(Object.fromEntries([...c.byAbbr.values()].map((r) => [r.key, r.abbr]))),
    ]),
  ) as Record<T1ContextName, Readonly<Record<string, string>>>,
);

/** Root request parameters dropped when equal to their default, in the order of the defaults table (and of restoring). */
export const T1_DEFAULT_PARAMETERS: readonly string[] = Object.freeze([
  'temperature',
  'top_p',
  'n',
  'stream',
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'stop',
  'logprobs',
]);
const DEFAULT_RULES: readonly Rule[] = T1_DEFAULT_PARAMETERS.map((k) => ROOT.byKey.get(k) as Rule);

// ---------------------------------------------------------------------------
// Encoder

const TILDE = 0x7e;
const quote = quoteJsonString;

function isChatRequest(o: JsonObject): boolean {
  return Array.isArray(o.get('messages'));
}

function encodeValueString(v: string, t: ValueTable): string {
  const short = t.enc.get(v);
  if (short !== undefined) return short;
  if (v.charCodeAt(0) === TILDE || t.dec.has(v)) return T1_ESCAPE + v;
  return v;
}

function decodeValueString(v: string, t: ValueTable): string {
  if (v.charCodeAt(0) === TILDE) return v.slice(1);
  return t.dec.get(v) ?? v;
}

/** Writes a value with no context: compact JSON. */
const plain = stringifyJson;

type ObjectWriter = (o: JsonObject, c: Ctx, root: boolean) => string;

/** Writes the value of a member read with `rule` (undefined: user data). */
function member(v: JsonValue, rule: Rule | undefined, writeObject: ObjectWriter, decode: boolean): string {
  if (rule === undefined) return plain(v);
  if (typeof v === 'string') {
    if (rule.values === undefined) return quote(v);
    return quote(decode ? decodeValueString(v, rule.values) : encodeValueString(v, rule.values));
  }
  if (v instanceof JsonObject) return rule.obj ? writeObject(v, rule.obj, false) : plain(v);
  if (Array.isArray(v) && rule.arr !== undefined) {
    const elem = rule.arr;
    if (v.length === 0) return '[]';
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      const e = v[i] as JsonValue;
      out += e instanceof JsonObject ? writeObject(e, elem, false) : plain(e);
    }
    return `${out}]`;
  }
  return plain(v);
}

function encodeObject(o: JsonObject, c: Ctx, root: boolean, omitDefaults: boolean): string {
  const { keys, values } = o;
  const escapes = c.byAbbr.size > 0;
  const dropDefaults = root && omitDefaults && isChatRequest(o);
  const writer: ObjectWriter = omitDefaults ? encodeObjectOmitting : encodeObjectKeeping;
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const v = values[i] as JsonValue;
    let rule = c.byKey.get(k);
    let wireKey: string;
    if (rule !== undefined) {
      if (dropDefaults && rule.isDefault?.(v)) continue;
      wireKey = rule.abbr;
    } else {
      rule = c.other;
      wireKey = escapes && (k.charCodeAt(0) === TILDE || c.byAbbr.has(k)) ? T1_ESCAPE + k : k;
    }
    if (!first) out += ',';
    first = false;
    out += `${quote(wireKey)}:${member(v, rule, writer, false)}`;
  }
  return `${out}}`;
}

const encodeObjectOmitting: ObjectWriter = (o, c, root) => encodeObject(o, c, root, true);
const encodeObjectKeeping: ObjectWriter = (o, c, root) => encodeObject(o, c, root, false);

/**
 * Encodes JSON text as a T1 wire string `#T1|<abbreviated compact JSON>`.
 *
 * @throws M2MError `INVALID_JSON` if `json` is not JSON (or has duplicate keys),
 *   `CONTENT_TOO_LARGE` if it breaks a limit (16 MiB text, depth 32, 10 MiB
 *   string, 10,000 array elements) or the wire would exceed 16 MiB.
 */
export function encodeT1(json: string, options: EncodeT1Options = {}): string {
  const value = parseJson(json);
  const omit = options.omitDefaults !== false;
  const body =
    value instanceof JsonObject ? (omit ? encodeObjectOmitting : encodeObjectKeeping)(value, ROOT, true) : plain(value);
  const wire = T1_PREFIX + body;
  checkUtf8Size(wire, LIMITS.maxMessageBytes, 'T1 message');
  return wire;
}

// ---------------------------------------------------------------------------
// Decoder

function decodeObject(o: JsonObject, c: Ctx, root: boolean, restoreDefaults: boolean): string {
  const { keys, values } = o;
  const escapes = c.byAbbr.size > 0;
  if (!escapes && c.other === undefined) return plain(o);
  const writer: ObjectWriter = restoreDefaults ? decodeObjectRestoring : decodeObjectPlain;
  // Decoded keys so far, to reject collisions (a linear scan while the object is narrow).
  const seen: string[] = [];
  let seenSet: Set<string> | undefined;
  let chatRequest = false;
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const v = values[i] as JsonValue;
    let key = k;
    let rule: Rule | undefined;
    if (escapes) {
      if (k.charCodeAt(0) === TILDE) {
        key = k.slice(1);
        rule = c.byKey.get(key);
      } else {
        rule = c.byAbbr.get(k);
        if (rule !== undefined) key = rule.key;
        else rule = c.byKey.get(k); // an unabbreviated key is taken as is
      }
      if (seenSet !== undefined ? seenSet.has(key) : seen.includes(key)) {
        throw new M2MError(
          'INVALID_JSON',
          `T1 payload: two members of one object decode to the same key ${quote(key)} (wire key ${quote(k)})`,
        );
      }
      if (seenSet !== undefined) seenSet.add(key);
      else if (seen.push(key) === 16) seenSet = new Set(seen);
      if (root && key === 'messages') chatRequest = Array.isArray(v);
    } else {
      rule = c.byKey.get(k);
    }
    rule ??= c.other;
    if (i > 0) out += ',';
    out += `${quote(key)}:${member(v, rule, writer, true)}`;
  }
  if (root && restoreDefaults && chatRequest) {
    for (const r of DEFAULT_RULES) {
      if ((seenSet !== undefined ? seenSet.has(r.key) : seen.includes(r.key)) || r.defaultValue === undefined) continue;
      if (out.length > 1) out += ',';
      out += `${quote(r.key)}:${plain(r.defaultValue())}`;
    }
  }
  return `${out}}`;
}

const decodeObjectRestoring: ObjectWriter = (o, c, root) => decodeObject(o, c, root, true);
const decodeObjectPlain: ObjectWriter = (o, c, root) => decodeObject(o, c, root, false);

/**
 * Decodes a T1 wire string to compact JSON text. Omitted defaults stay
 * omitted unless `restoreDefaults` is set.
 *
 * @throws M2MError `INVALID_PREFIX` if `wire` does not start with `#T1|`,
 *   `INVALID_JSON` if the payload is not JSON or two keys of an object decode
 *   to the same key, `CONTENT_TOO_LARGE` if the wire exceeds 16 MiB, the
 *   payload a JSON limit, or the result 16 MiB.
 */
export function decodeT1(wire: string, options: DecodeT1Options = {}): string {
  if (!wire.startsWith(T1_PREFIX)) {
    throw new M2MError('INVALID_PREFIX', `not a T1 message: expected the prefix ${T1_PREFIX}`);
  }
  checkUtf8Size(wire, LIMITS.maxMessageBytes, 'T1 message');
  let value: JsonValue;
  try {
    value = parseJson(wire.slice(T1_PREFIX.length));
  } catch (err) {
    if (err instanceof M2MError && err.code === 'INVALID_JSON') {
      throw new M2MError('INVALID_JSON', `T1 payload: ${err.message} (offsets count from after the prefix)`);
    }
    throw err;
  }
  const restore = options.restoreDefaults === true;
  const json =
    value instanceof JsonObject
      ? (restore ? decodeObjectRestoring : decodeObjectPlain)(value, ROOT, true)
      : plain(value);
  checkUtf8Size(json, LIMITS.maxDecompressedBytes, 'decompressed T1 content');
  return json;
}
