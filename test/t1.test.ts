import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  JsonNumber,
  JsonObject,
  type JsonValue,
  numberEqualsInteger,
  parseJson,
  stringifyJson,
} from '../ts/codec/json.js';
import {
  decodeT1,
  encodeT1,
  T1_DEFAULT_PARAMETERS,
  T1_ESCAPE,
  T1_FINISH_REASONS,
  T1_KEYS,
  T1_MODELS,
  T1_PREFIX,
  T1_RESPONSE_FORMAT_TYPES,
  T1_ROLES,
} from '../ts/codec/t1.js';
import { M2MError } from '../ts/core/errors.js';

const MiB = 1024 * 1024;

/** The M2MError a call threw (fails if it returned or threw anything else). */
function errorOf(fn: () => unknown): M2MError {
  try {
    fn();
  } catch (err) {
    if (err instanceof M2MError) return err;
    throw err;
  }
  throw new Error('expected an M2MError');
}

const compact = (json: string) => stringifyJson(parseJson(json));

/**
 * What decoding an encoded value must give when defaults are omitted: the
 * value without the root request parameters that equal their default
 * (written independently of the codec, from the defaults table).
 */
function withoutDefaults(v: JsonValue): JsonValue {
  if (!(v instanceof JsonObject) || !Array.isArray(v.get('messages'))) return v;
  const isDefault: Record<string, (x: JsonValue) => boolean> = {
    temperature: (x) => x instanceof JsonNumber && numberEqualsInteger(x.raw, 1),
    top_p: (x) => x instanceof JsonNumber && numberEqualsInteger(x.raw, 1),
    n: (x) => x instanceof JsonNumber && numberEqualsInteger(x.raw, 1),
    stream: (x) => x === false,
    frequency_penalty: (x) => x instanceof JsonNumber && numberEqualsInteger(x.raw, 0),
    presence_penalty: (x) => x instanceof JsonNumber && numberEqualsInteger(x.raw, 0),
    logit_bias: (x) => x instanceof JsonObject && x.size === 0,
    stop: (x) => x === null,
    logprobs: (x) => x === false,
  };
  const out = new JsonObject();
  for (const [k, x] of v.entries()) if (!(Object.hasOwn(isDefault, k) && isDefault[k]?.(x))) out.set(k, x);
  return out;
}

// ---------------------------------------------------------------------------
// Conformance: every #T1| example of the spec.

interface Vector {
  /** Where the example is. */
  source: string;
  /** The documented original JSON (absent where the document shows only the wire). */
  input?: string;
  /** The documented wire string. */
  wire: string;
  /** The documented decompressed output, where the document shows one. */
  decoded?: string;
}

const VECTORS: Vector[] = [
  {
    source: 'spec/02-wire-format.md §3.3.1',
    input: '{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}',
    wire: '#T1|{"M":"4o","m":[{"r":"u","c":"Hi"}]}',
  },
  {
    source: 'spec/02-wire-format.md §3.9.1 (wire only)',
    wire: '#T1|{"M":"4o","m":[]}',
    decoded: '{"model":"gpt-4o","messages":[]}',
  },
  {
    source: 'spec/02-wire-format.md §3.9.2',
    input: `{
      "model": "gpt-4o",
      "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Hello!"}
      ],
      "temperature": 0.7,
      "max_tokens": 100
    }`,
    wire: '#T1|{"M":"4o","m":[{"r":"s","c":"You are helpful."},{"r":"u","c":"Hello!"}],"T":0.7,"x":100}',
  },
  {
    source: 'spec/03-message-types.md §4.4.1 (DATA example; wire only, JSON-escaped there)',
    wire: '#T1|{"M":"4o","m":[{"r":"u","c":"Hello"}]}',
    decoded: '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}',
  },
  {
    source: 'spec/04-compression.md §5.3.7 (temperature 1.0 and stream false omitted as defaults)',
    input: '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}],"temperature":1.0,"stream":false}',
    wire: '#T1|{"M":"4o","m":[{"r":"u","c":"Hello"}]}',
  },
  {
    source: 'README.md, compression example',
    input: '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}',
    wire: '#T1|{"M":"4o","m":[{"r":"u","c":"Hello"}]}',
  },
  {
    source: 'guides/quickstart.md, compress and decompress',
    input: '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}',
    wire: '#T1|{"M":"4o","m":[{"r":"u","c":"Hello"}]}',
    decoded: '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}',
  },
  {
    source: 'reference/abbreviations.md, compression example (temperature 1.0 and stream false omitted)',
    input: `{
      "model": "gpt-4o",
      "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Hello!"}
      ],
      "temperature": 1.0,
      "max_tokens": 100,
      "stream": false
    }`,
    wire: '#T1|{"M":"4o","m":[{"r":"s","c":"You are helpful."},{"r":"u","c":"Hello!"}],"x":100}',
  },
  {
    source: 'examples/wire-format/chat-completion.md, request',
    input: `{
      "model": "gpt-4o",
      "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?"}
      ],
      "temperature": 0.7,
      "max_tokens": 100
    }`,
    wire: '#T1|{"M":"4o","m":[{"r":"s","c":"You are a helpful assistant."},{"r":"u","c":"What is the capital of France?"}],"T":0.7,"x":100}',
  },
  {
    source: 'examples/wire-format/chat-completion.md, response',
    input: `{
      "id": "chatcmpl-abc123",
      "object": "chat.completion",
      "created": 1705520400,
      "model": "gpt-4o",
      "choices": [
        {
          "index": 0,
          "message": {"role": "assistant", "content": "The capital of France is Paris."},
          "finish_reason": "stop"
        }
      ],
      "usage": {"prompt_tokens": 25, "completion_tokens": 8, "total_tokens": 33}
    }`,
    wire: '#T1|{"id":"chatcmpl-abc123","o":"chat.completion","cr":1705520400,"M":"4o","C":[{"i":0,"m":{"r":"a","c":"The capital of France is Paris."},"fr":"s"}],"U":{"pt":25,"ct":8,"tt":33}}',
  },
  {
    source: 'examples/wire-format/chat-completion.md, streaming event 1 (null finish_reason kept)',
    input:
      '{"id":"chatcmpl-abc123","object":"chat.completion.chunk","created":1705520400,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}',
    wire: '#T1|{"id":"chatcmpl-abc123","o":"chat.completion.chunk","cr":1705520400,"M":"4o","C":[{"i":0,"d":{"r":"a"},"fr":null}]}',
  },
  {
    source: 'examples/wire-format/chat-completion.md, streaming event 2',
    input:
      '{"id":"chatcmpl-abc123","object":"chat.completion.chunk","created":1705520400,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"The"},"finish_reason":null}]}',
    wire: '#T1|{"id":"chatcmpl-abc123","o":"chat.completion.chunk","cr":1705520400,"M":"4o","C":[{"i":0,"d":{"c":"The"},"fr":null}]}',
  },
  {
    source: 'examples/wire-format/chat-completion.md, streaming event 3',
    input:
      '{"id":"chatcmpl-abc123","object":"chat.completion.chunk","created":1705520400,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" capital"},"finish_reason":null}]}',
    wire: '#T1|{"id":"chatcmpl-abc123","o":"chat.completion.chunk","cr":1705520400,"M":"4o","C":[{"i":0,"d":{"c":" capital"},"fr":null}]}',
  },
  {
    source: 'examples/wire-format/chat-completion.md, request with tools',
    input: `{
      "model": "gpt-4o",
      "messages": [{"role": "user", "content": "What's the weather in Paris?"}],
      "tools": [
        {
          "type": "function",
          "function": {
            "name": "get_weather",
            "description": "Get weather for a location",
            "parameters": {
              "type": "object",
              "properties": {"location": {"type": "string"}},
              "required": ["location"]
            }
          }
        }
      ]
    }`,
    wire: '#T1|{"M":"4o","m":[{"r":"u","c":"What\'s the weather in Paris?"}],"ts":[{"t":"function","fn":{"n":"get_weather","desc":"Get weather for a location","params":{"t":"object","props":{"location":{"t":"string"}},"req":["location"]}}}]}',
  },
];

/**
 * Overruled example. spec/02-wire-format.md §3.9.3 writes the finish reason
 * unabbreviated (`"fr":"stop"`). DESIGN §2.8: reference/abbreviations.md wins
 * (its finish-reason table maps `stop` to `s`, as examples/ does), so the
 * encoder writes `"fr":"s"`. The documented wire still decodes to the
 * documented original, because an unabbreviated value is read as itself.
 */
const OVERRULED_02_RESPONSE = {
  source: 'spec/02-wire-format.md §3.9.3',
  input: `{
    "id": "chatcmpl-123",
    "choices": [{
      "index": 0,
      "message": {"role": "assistant", "content": "Hello!"},
      "finish_reason": "stop"
    }],
    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
  }`,
  documentedWire:
    '#T1|{"id":"chatcmpl-123","C":[{"i":0,"m":{"r":"a","c":"Hello!"},"fr":"stop"}],"U":{"pt":10,"ct":5,"tt":15}}',
  wire: '#T1|{"id":"chatcmpl-123","C":[{"i":0,"m":{"r":"a","c":"Hello!"},"fr":"s"}],"U":{"pt":10,"ct":5,"tt":15}}',
};

/** `#T1|` strings in the documents that elide their payload: not examples, and not valid T1. */
const PLACEHOLDERS = ['#T1|{...}', '#T1|{"M":"4o","m":[...]}'];

describe('T1 conformance: the spec examples', () => {
  it.each(VECTORS.map((v) => [v.source, v] as const))('%s', (_source, v) => {
    if (v.input !== undefined) {
      expect(encodeT1(v.input)).toBe(v.wire);
      // decoding gives the documented input, minus the defaults the encoder dropped
      expect(decodeT1(v.wire)).toBe(stringifyJson(withoutDefaults(parseJson(v.input))));
      // with omitDefaults: false, nothing at all is lost
      expect(decodeT1(encodeT1(v.input, { omitDefaults: false }))).toBe(compact(v.input));
    }
    if (v.decoded !== undefined) {
      expect(decodeT1(v.wire)).toBe(v.decoded);
      expect(encodeT1(v.decoded)).toBe(v.wire);
    }
  });

  it(`overruled: ${OVERRULED_02_RESPONSE.source} writes "fr":"stop"; abbreviations.md (DESIGN §2.8) makes it "fr":"s"`, () => {
    const { input, documentedWire, wire } = OVERRULED_02_RESPONSE;
    expect(encodeT1(input)).toBe(wire);
    expect(encodeT1(input)).not.toBe(documentedWire);
    // both the documented wire and ours decode to the documented original
    expect(decodeT1(documentedWire)).toBe(compact(input));
    expect(decodeT1(wire)).toBe(compact(input));
  });

  it('overruled: spec/04-compression.md §5.3.5 says decoders MUST restore omitted defaults; DESIGN §2.4 makes that opt-in', () => {
    // quickstart.md shows the decoder not adding them, and adding top_p/temperature
    // breaks requests to models that reject those parameters.
    const wire = '#T1|{"M":"4o","m":[{"r":"u","c":"Hello"}]}';
    expect(decodeT1(wire)).toBe('{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}');
    // with restoreDefaults the §5.3.7 original's temperature 1.0 and stream false come back (with the others)
    expect(decodeT1(wire, { restoreDefaults: true })).toBe(
      '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}],' +
        '"temperature":1.0,"top_p":1.0,"n":1,"stream":false,"frequency_penalty":0,"presence_penalty":0,' +
        '"logit_bias":{},"stop":null,"logprobs":false}',
    );
  });

  it('placeholders with elided payloads (03 §4.4.1 "#T1|{...}", 05 §6.7.2, index.md) are not valid T1', () => {
    for (const p of PLACEHOLDERS) expect(errorOf(() => decodeT1(p)).code).toBe('INVALID_JSON');
  });
});

// Where the spec documents live: beside the repository (../shared/spec, as in
// CI) or M2M_SPEC_DIR. They are not part of the package, but the suite needs
// them: a missing copy fails these tests rather than skipping them.
const SPEC_DIR = [process.env.M2M_SPEC_DIR, resolve(__dirname, '../../shared/spec')].find(
  (d): d is string => d !== undefined && existsSync(join(d, 'reference/abbreviations.md')),
);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return markdownFiles(p);
    return name.endsWith('.md') ? [p] : [];
  });
}

/** `| \`a\` | \`b\` |` rows of a markdown table, grouped by the heading above them. */
function tablesByHeading(md: string): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  let heading = '';
  for (const line of md.split('\n')) {
    const h = /^#+\s+(.*)$/.exec(line) ?? /^\*\*(.*):\*\*$/.exec(line);
    if (h) heading = h[1] as string;
    const row = /^\|\s*`([^`]*)`\s*\|\s*`([^`]*)`\s*\|/.exec(line);
    if (row) {
      const rows = out.get(heading) ?? [];
      rows.push([row[1] as string, row[2] as string]);
      out.set(heading, rows);
    }
  }
  return out;
}

describe('T1 conformance: completeness against the spec documents', () => {
  const dir = SPEC_DIR as string;
  it('finds the spec documents (../shared/spec or M2M_SPEC_DIR)', () => {
    expect(SPEC_DIR, 'the spec documents were not found beside the repository').toBeDefined();
  });

  it('every #T1| wire string in the documents is a vector above, the overruled one, or a placeholder', () => {
    const known = [...VECTORS.map((v) => v.wire), OVERRULED_02_RESPONSE.documentedWire, ...PLACEHOLDERS];
    let found = 0;
    for (const file of markdownFiles(dir)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        for (let i = line.indexOf('#T1|{'); i !== -1; i = line.indexOf('#T1|{', i + 1)) {
          found++;
          const rest = line.slice(i);
          const match = known.some((w) => rest.startsWith(w) || rest.startsWith(JSON.stringify(w).slice(1, -1)));
          expect(match, `${file}: ${rest}`).toBe(true);
        }
      }
    }
    expect(found).toBeGreaterThanOrEqual(VECTORS.length);
  });

  it('the tables are exactly those of reference/abbreviations.md', () => {
    const t = tablesByHeading(readFileSync(join(dir, 'reference/abbreviations.md'), 'utf8'));
    const rows = (...h: string[]) => h.flatMap((x) => t.get(x) ?? []);
    const docKeys = new Set(rows('Request Keys', 'Response Keys', 'Tool/Function Keys').map(([a, b]) => `${a}→${b}`));
    const ourKeys = new Set(Object.values(T1_KEYS).flatMap((m) => Object.entries(m).map(([a, b]) => `${a}→${b}`)));
    expect([...ourKeys].sort()).toEqual([...docKeys].sort());
    expect(Object.fromEntries(rows('Role Values'))).toEqual(T1_ROLES);
    expect(Object.fromEntries(rows('Finish Reason Values'))).toEqual(T1_FINISH_REASONS);
    expect(Object.fromEntries(rows('Response Format Types'))).toEqual(T1_RESPONSE_FORMAT_TYPES);
    const models = rows('OpenAI Models', 'Meta Llama Models', 'Mistral Models', 'DeepSeek Models', 'Qwen Models');
    expect(Object.fromEntries(models)).toEqual(T1_MODELS);
    expect(models.length).toBe(Object.keys(T1_MODELS).length);
    expect(rows('Default Values').map(([k]) => k)).toEqual([...T1_DEFAULT_PARAMETERS]);
  });

  it('the (partial) tables of spec/04-compression.md §5.3 agree with them', () => {
    const md = readFileSync(join(dir, 'spec/04-compression.md'), 'utf8');
    const section = md.slice(md.indexOf('### 5.3.2'), md.indexOf('### 5.3.5'));
    const ours = new Set(
      [
        ...Object.values(T1_KEYS).flatMap((m) => Object.entries(m)),
        ...Object.entries(T1_ROLES),
        ...Object.entries(T1_FINISH_REASONS),
        ...Object.entries(T1_MODELS),
      ].map(([a, b]) => `${a}→${b}`),
    );
    const pairs = [...tablesByHeading(section).values()].flat();
    expect(pairs.length).toBeGreaterThan(50);
    for (const [a, b] of pairs) expect(ours.has(`${a}→${b}`), `${a}→${b}`).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// The position model, escapes, defaults.

const enc = (json: string, omitDefaults = true) => encodeT1(json, { omitDefaults });

describe('T1 positions', () => {
  it('tables are unambiguous in every context', () => {
    for (const [name, table] of Object.entries(T1_KEYS)) {
      const originals = Object.keys(table);
      const abbrs = Object.values(table);
      expect(new Set(abbrs).size, name).toBe(abbrs.length);
      for (const [orig, abbr] of Object.entries(table)) {
        expect(abbr.startsWith(T1_ESCAPE)).toBe(false);
        // an abbreviation is never another key of the same context (only identities such as n → n)
        if (originals.includes(abbr)) expect(table[abbr], `${name}: ${abbr}`).toBe(abbr);
        expect(orig.startsWith(T1_ESCAPE)).toBe(false);
      }
    }
    for (const table of [T1_ROLES, T1_FINISH_REASONS, T1_RESPONSE_FORMAT_TYPES, T1_MODELS]) {
      const abbrs = Object.values(table);
      expect(new Set(abbrs).size).toBe(abbrs.length);
      for (const abbr of abbrs) if (abbr in table) expect(table[abbr]).toBe(abbr);
    }
  });

  it('resolves the shared short forms by position', () => {
    // m: root messages vs choice message; tc: root tool_choice vs message tool_calls; n: root n vs name
    expect(enc('{"messages":[{"role":"assistant","tool_calls":[],"name":"bob"}],"tool_choice":"auto","n":2}')).toBe(
      '#T1|{"m":[{"r":"a","tc":[],"n":"bob"}],"tc":"auto","n":2}',
    );
    expect(enc('{"choices":[{"message":{"role":"assistant","tool_calls":[]},"finish_reason":"tool_calls"}]}')).toBe(
      '#T1|{"C":[{"m":{"r":"a","tc":[]},"fr":"tc"}]}',
    );
    // a key only shortens where the table puts it
    expect(enc('{"choices":[{"messages":1,"model":"gpt-4o","role":"user"}],"role":"user","content":"x"}')).toBe(
      '#T1|{"C":[{"messages":1,"model":"gpt-4o","role":"user"}],"role":"user","content":"x"}',
    );
    expect(enc('{"usage":{"prompt_tokens":1,"index":2},"index":3}')).toBe('#T1|{"U":{"pt":1,"index":2},"index":3}');
  });

  it('abbreviates tools, tool calls, tool choice and legacy functions', () => {
    const req = {
      messages: [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"role":"user"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"model":"gpt-4o"}' },
        { role: 'function', name: 'f', content: '1' },
        { role: 'assistant', function_call: { name: 'f', arguments: '{}' } },
      ],
      tool_choice: { type: 'function', function: { name: 'f' } },
      functions: [{ name: 'f', description: 'd', parameters: { type: 'object', properties: {} } }],
      function_call: { name: 'f' },
    };
    expect(enc(JSON.stringify(req))).toBe(
      '#T1|{"m":[{"r":"a","c":null,"tc":[{"id":"call_1","t":"function","fn":{"n":"f","a":"{\\"role\\":\\"user\\"}"}}]},' +
        '{"r":"t","tool_call_id":"call_1","c":"{\\"model\\":\\"gpt-4o\\"}"},{"r":"f","n":"f","c":"1"},' +
        '{"r":"a","fc":{"n":"f","a":"{}"}}],"tc":{"t":"function","fn":{"n":"f"}},' +
        '"fs":[{"n":"f","desc":"d","params":{"t":"object","props":{}}}],"fc":{"n":"f"}}',
    );
    // streaming tool-call deltas keep their index (the table's index is the choice index)
    expect(enc('{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\""}}]}}]}')).toBe(
      '#T1|{"C":[{"i":0,"d":{"tc":[{"index":0,"fn":{"a":"{\\""}}]}}]}',
    );
  });

  it('never abbreviates user data', () => {
    const schema = {
      type: 'object',
      description: 'args',
      properties: {
        type: { type: 'string', description: 'a property named type', enum: ['type', 'user'] },
        messages: { type: 'array', items: { type: 'object', properties: { role: { type: 'string' } } } },
        t: { type: 'number', default: { type: 'x' } },
        '~x': { anyOf: [{ type: 'string' }, { type: 'null' }] },
        props: { $ref: '#/$defs/d' },
      },
      required: ['type', 'messages'],
      $defs: { d: { type: 'object', properties: { name: { type: 'string' } } } },
    };
    const req = {
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image_url', image_url: { url: 'u' } },
          ],
        },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: schema, strict: true } }],
      logit_bias: { '50256': -100, m: 1 },
      metadata: { model: 'gpt-4o', role: 'user', M: 'x' },
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object' } } },
    };
    const wire = enc(JSON.stringify(req));
    expect(wire).toBe(
      '#T1|{"M":"4o","m":[{"r":"u","c":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"u"}}]}],' +
        '"ts":[{"t":"function","fn":{"n":"f","params":{"t":"object","desc":"args","props":{' +
        '"type":{"t":"string","desc":"a property named type","enum":["type","user"]},' +
        '"messages":{"t":"array","items":{"t":"object","props":{"role":{"t":"string"}}}},' +
        '"t":{"t":"number","default":{"type":"x"}},' +
        '"~x":{"anyOf":[{"t":"string"},{"t":"null"}]},' +
        '"props":{"$ref":"#/$defs/d"}},' +
        '"req":["type","messages"],"$defs":{"d":{"t":"object","props":{"name":{"t":"string"}}}}},"strict":true}}],' +
        '"lb":{"50256":-100,"m":1},"metadata":{"model":"gpt-4o","role":"user","M":"x"},' +
        '"rf":{"t":"js","json_schema":{"name":"n","schema":{"type":"object"}}}}',
    );
    expect(decodeT1(wire)).toBe(JSON.stringify(req));
  });

  it('leaves non-object roots alone', () => {
    for (const json of [
      '[{"model":"gpt-4o","messages":[]}]',
      '"s"',
      '"#T1|{}"',
      '12345678901234567890',
      '1.0',
      'null',
      'true',
      '[]',
      '{}',
    ]) {
      expect(enc(json)).toBe(T1_PREFIX + json);
      expect(decodeT1(T1_PREFIX + json)).toBe(json);
    }
  });
});

describe('T1 escapes', () => {
  const cases: [string, string, string][] = [
    ['root key equal to an abbreviation', '{"M":1,"m":2,"T":3}', '#T1|{"~M":1,"~m":2,"~T":3}'],
    ['root key starting with the escape', '{"~":1,"~M":2,"~~":3}', '#T1|{"~~":1,"~~M":2,"~~~":3}'],
    ['identity abbreviation needs no escape', '{"n":2,"messages":[]}', '#T1|{"n":2,"m":[]}'],
    [
      'message key "n" (name there)',
      '{"messages":[{"n":"x","name":"y","r":1}]}',
      '#T1|{"m":[{"~n":"x","n":"y","~r":1}]}',
    ],
    ['choice key "m"', '{"choices":[{"m":1,"message":{}}]}', '#T1|{"C":[{"~m":1,"m":{}}]}'],
    [
      'schema key "t"',
      '{"tools":[{"function":{"parameters":{"t":1,"req":2}}}]}',
      '#T1|{"ts":[{"fn":{"params":{"~t":1,"~req":2}}}]}',
    ],
    [
      'role literally an abbreviation',
      '{"messages":[{"role":"u"},{"role":"t"},{"role":"user"}]}',
      '#T1|{"m":[{"r":"~u"},{"r":"~t"},{"r":"u"}]}',
    ],
    [
      'role starting with the escape',
      '{"messages":[{"role":"~"},{"role":"~u"},{"role":""}]}',
      '#T1|{"m":[{"r":"~~"},{"r":"~~u"},{"r":""}]}',
    ],
    ['role outside the table', '{"messages":[{"role":"developer"}]}', '#T1|{"m":[{"r":"developer"}]}'],
    ['model literally an abbreviation', '{"model":"4o"}', '#T1|{"M":"~4o"}'],
    ['identity models', '{"model":"o1"}', '#T1|{"M":"o1"}'],
    ['unknown model', '{"model":"gpt-5"}', '#T1|{"M":"gpt-5"}'],
    ['finish reason literally an abbreviation', '{"choices":[{"finish_reason":"s"}]}', '#T1|{"C":[{"fr":"~s"}]}'],
    ['response format type', '{"response_format":{"type":"j"}}', '#T1|{"rf":{"t":"~j"}}'],
    ['value tables apply to strings only', '{"model":4,"messages":[{"role":null}]}', '#T1|{"M":4,"m":[{"r":null}]}'],
  ];
  it.each(cases)('%s', (_name, json, wire) => {
    expect(enc(json)).toBe(wire);
    expect(decodeT1(wire)).toBe(json);
  });

  it('decodes unabbreviated keys and values as themselves', () => {
    expect(decodeT1('#T1|{"model":"gpt-4o","messages":[{"role":"user"}]}')).toBe(
      '{"model":"gpt-4o","messages":[{"role":"user"}]}',
    );
    // and an escaped table key (never written by the encoder) as the key
    expect(decodeT1('#T1|{"~model":"4o"}')).toBe('{"model":"gpt-4o"}');
  });

  it('rejects a payload whose keys collide once expanded', () => {
    for (const wire of [
      '#T1|{"M":"4o","model":"x"}',
      '#T1|{"m":[{"~name":1,"n":2}]}',
      '#T1|{"x":1,"max_tokens":2}',
      '#T1|{"C":[{"m":{},"message":{}}]}',
      '#T1|{"~M":1,"M":"4o","~~M":3,"~M":4}',
    ]) {
      const err = errorOf(() => decodeT1(wire));
      expect(err.code).toBe('INVALID_JSON');
    }
    // also in wide objects
    const many = Array.from({ length: 30 }, (_, i) => `"k${i}":${i}`).join(',');
    expect(errorOf(() => decodeT1(`#T1|{${many},"M":1,"model":2}`)).message).toMatch(/same key "model"/);
  });
});

describe('T1 defaults', () => {
  const base = '"model":"gpt-4o","messages":[]';

  it('omits exact defaults of chat requests only', () => {
    expect(
      enc(
        `{${base},"temperature":1,"top_p":1.00,"n":1e0,"stream":false,"frequency_penalty":0,"presence_penalty":-0.0,"logit_bias":{},"stop":null,"logprobs":false}`,
      ),
    ).toBe('#T1|{"M":"4o","m":[]}');
    // not equal to the default: kept
    expect(
      enc(
        `{${base},"temperature":1.0000000000000000001,"top_p":0.99,"n":"1","stream":true,"frequency_penalty":0.0001,"logit_bias":{"1":0},"stop":[],"logprobs":null}`,
      ),
    ).toBe(
      '#T1|{"M":"4o","m":[],"T":1.0000000000000000001,"p":0.99,"n":"1","s":true,"f":0.0001,"lb":{"1":0},"S":[],"lp":null}',
    );
    // only at the root of a request (messages is an array)
    expect(enc('{"temperature":1,"stream":false,"stop":null}')).toBe('#T1|{"T":1,"s":false,"S":null}');
    expect(enc('{"messages":"x","stream":false}')).toBe('#T1|{"m":"x","s":false}');
    expect(enc('{"choices":[{"logprobs":false,"finish_reason":null}]}')).toBe('#T1|{"C":[{"lp":false,"fr":null}]}');
    // omitDefaults: false keeps everything
    expect(enc(`{${base},"temperature":1.0,"stop":null}`, false)).toBe('#T1|{"M":"4o","m":[],"T":1.0,"S":null}');
  });

  it('restores missing defaults at the end of chat requests only when asked', () => {
    const wire = '#T1|{"M":"4o","m":[],"T":0.5,"S":["x"]}';
    expect(decodeT1(wire)).toBe('{"model":"gpt-4o","messages":[],"temperature":0.5,"stop":["x"]}');
    expect(decodeT1(wire, { restoreDefaults: true })).toBe(
      '{"model":"gpt-4o","messages":[],"temperature":0.5,"stop":["x"],"top_p":1.0,"n":1,"stream":false,' +
        '"frequency_penalty":0,"presence_penalty":0,"logit_bias":{},"logprobs":false}',
    );
    // responses and other roots get nothing added
    const resp = '#T1|{"id":"x","C":[]}';
    expect(decodeT1(resp, { restoreDefaults: true })).toBe('{"id":"x","choices":[]}');
    expect(decodeT1('#T1|[1]', { restoreDefaults: true })).toBe('[1]');
    expect(decodeT1('#T1|{"m":{}}', { restoreDefaults: true })).toBe('{"messages":{}}');
  });
});

describe('T1 errors and limits', () => {
  it('rejects a wrong prefix with INVALID_PREFIX', () => {
    for (const wire of ['', '#T1', '#t1|{}', '#T2|{}', '#TK|C|AAAA', '#BR|G6kE', 'T1|{}', ' #T1|{}', '{"a":1}']) {
      const err = errorOf(() => decodeT1(wire));
      expect(err.code).toBe('INVALID_PREFIX');
    }
  });

  it('rejects bad payloads with INVALID_JSON', () => {
    for (const wire of ['#T1|', '#T1|{', '#T1|{"a":1,"a":2}', '#T1|{"M":"4o"} x', '#T1|NaN', '#T1|#T1|{}']) {
      const err = errorOf(() => decodeT1(wire));
      expect(err.code).toBe('INVALID_JSON');
      expect(err.message).toMatch(/^T1 payload: /);
    }
    for (const json of ['', 'hello', '{"model":}', '{"a":1,"a":1}', "{'a':1}"]) {
      expect(errorOf(() => encodeT1(json)).code).toBe('INVALID_JSON');
    }
  });

  it('applies the JSON limits on both sides', () => {
    const deep = (n: number) => `{"messages":[${'['.repeat(n - 2)}${']'.repeat(n - 2)}]}`;
    expect(() => encodeT1(deep(32))).not.toThrow();
    expect(errorOf(() => encodeT1(deep(33))).code).toBe('CONTENT_TOO_LARGE');
    expect(() => decodeT1(`#T1|${deep(32)}`)).not.toThrow();
    const err = errorOf(() => decodeT1(`#T1|${deep(33)}`));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.message).toBe('JSON depth exceeds the limit of 32');
    expect(errorOf(() => decodeT1(`#T1|${'['.repeat(100_000)}`)).code).toBe('CONTENT_TOO_LARGE');
    expect(errorOf(() => decodeT1(`#T1|[${Array(10_001).fill(0).join(',')}]`)).code).toBe('CONTENT_TOO_LARGE');
    expect(errorOf(() => encodeT1(`"${'a'.repeat(10 * MiB + 1)}"`)).code).toBe('CONTENT_TOO_LARGE');
    // the wire's limit counts the prefix: a 16 MiB payload makes a too large message
    const payload = `"${'a'.repeat(8 * MiB)}"${' '.repeat(8 * MiB - 2)}`;
    expect(payload.length).toBe(16 * MiB);
    expect(errorOf(() => decodeT1(T1_PREFIX + payload)).message).toMatch(/^T1 message exceeds the limit of 16 MiB/);
  });

  it('refuses a decoded result over 16 MiB', () => {
    // a wire of exactly 16 MiB whose keys and role values grow when expanded
    const head = '#T1|{"m":[{"r":"a","c":"';
    const middle = '"},{"r":"a","c":"';
    const tail = '"}]}';
    const first = 8 * MiB;
    const second = 16 * MiB - head.length - middle.length - tail.length - first;
    const wire = `${head}${'x'.repeat(first)}${middle}${'y'.repeat(second)}${tail}`;
    expect(wire.length).toBe(16 * MiB);
    const err = errorOf(() => decodeT1(wire));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.message).toMatch(/^decompressed T1 content exceeds the limit of 16 MiB/);
    // the same content, a little smaller, decodes
    const ok = `${head}${'x'.repeat(first)}${middle}${'y'.repeat(second - 100)}${tail}`;
    expect(decodeT1(ok).length).toBe(ok.length - 4 + 2 * (8 + 3 + 6) + 7);
  });

  it('refuses to write a wire over 16 MiB', () => {
    // 16 MiB of JSON whose keys need the escape: the prefix and the escapes push the wire over
    const head = '{"~a":"';
    const middle = '","~b":"';
    const tail = '"}';
    const first = 8 * MiB;
    const second = 16 * MiB - head.length - middle.length - tail.length - first;
    const json = `${head}${'x'.repeat(first)}${middle}${'y'.repeat(second)}${tail}`;
    expect(json.length).toBe(16 * MiB);
    const err = errorOf(() => encodeT1(json));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.message).toMatch(/^T1 message exceeds the limit of 16 MiB/);
  });
});

// ---------------------------------------------------------------------------
// Property tests.

const ALL_KEY_FORMS = [
  ...new Set(
    Object.values(T1_KEYS)
      .flatMap((t) => Object.entries(t).flat())
      .concat(['id', 'metadata', 'items', '$defs', 'anyOf']),
  ),
];
const KEY_POOL = [
  ...ALL_KEY_FORMS,
  ...ALL_KEY_FORMS.slice(0, 20).map((k) => T1_ESCAPE + k),
  '',
  '~',
  '~~',
  '~~m',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
];
const VALUE_FORMS = [T1_ROLES, T1_FINISH_REASONS, T1_RESPONSE_FORMAT_TYPES, T1_MODELS].flatMap((t) =>
  Object.entries(t).flat(),
);
const VALUE_POOL = [
  ...new Set(VALUE_FORMS),
  ...VALUE_FORMS.slice(0, 12).map((v) => T1_ESCAPE + v),
  '~',
  '',
  '#T1|{"M":"4o","m":[]}',
  '#TK|C|W3sib29kZWwiOiJncHQ=',
  '#BR|G6kEABwHcNP2Yk9N',
  '#DI|\u0080x\u0083',
  '#M2M[v3.0]|DATA:AAAA',
  'function',
  'object',
  'auto',
];
const ODD_NUMBERS = [
  '0',
  '-0',
  '1',
  '1.0',
  '1e0',
  '10e-1',
  '0.0',
  '-0.0e-0',
  '1e5',
  '1E+5',
  '12345678901234567890',
  '-98765432109876543210.0123456789',
  '1e400',
  '5e-400',
  '9007199254740993',
  '0.1',
];

const loneSurrogates = fc
  .array(fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', 'a', '😀', '\u0000', '"', '\\'), { maxLength: 6 })
  .map((a) => a.join(''));
const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KEY_POOL) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 1, arbitrary: loneSurrogates },
);
const stringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...VALUE_POOL) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: loneSurrogates },
);
const numberArb: fc.Arbitrary<JsonNumber> = fc
  .oneof(
    fc.constantFrom(...ODD_NUMBERS),
    fc.integer().map(String),
    fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
    fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^(0|[1-9]\d{0,25})$/),
        fc.option(fc.stringMatching(/^\d{1,20}$/)),
        fc.option(fc.stringMatching(/^[eE][+-]?\d{1,4}$/)),
      )
      .map(([neg, i, f, e]) => `${neg ? '-' : ''}${i}${f === null ? '' : `.${f}`}${e ?? ''}`),
  )
  .map((raw) => new JsonNumber(raw));
const leafArb: fc.Arbitrary<JsonValue> = fc.oneof(stringArb, numberArb, fc.boolean(), fc.constant(null));

function toObject(entries: [string, JsonValue][]): JsonObject {
  return new JsonObject(
    entries.map((e) => e[0]),
    entries.map((e) => e[1]),
  );
}
function entriesArb(key: fc.Arbitrary<string>, value: fc.Arbitrary<JsonValue>, maxLength: number) {
  return fc.uniqueArray(fc.tuple(key, value), { selector: (e) => e[0], maxLength });
}

/** Any JSON value, as the lossless model. */
const jsonArb: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue; array: JsonValue[]; object: JsonObject }>(
  (tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: entriesArb(keyArb, tie('value'), 6).map(toObject),
  }),
).value;

/** A value wrapped in containers up to exactly `depth` levels (random keys at every level). */
const deepArb: fc.Arbitrary<JsonValue> = fc
  .tuple(fc.integer({ min: 1, max: 32 }), fc.array(fc.tuple(fc.boolean(), keyArb), { minLength: 32, maxLength: 32 }))
  .chain(([depth, levels]) =>
    leafArb.map((leaf) => {
      let v: JsonValue = leaf;
      for (let i = 0; i < depth; i++) {
        const [isArray, key] = levels[i] as [boolean, string];
        v = isArray ? [v] : toObject([[key, v]]);
      }
      return v;
    }),
  );

/**
 * Objects shaped like the positions of the chat-completion format, with
 * adversarial members mixed in: each context's own keys (with values of the
 * right shape), abbreviations and escaped forms as literal keys, and values
 * equal to abbreviations. Written from the OpenAI shapes, not from the codec.
 */
type Shape = { [key: string]: string };
const SHAPES: Record<string, Shape> = {
  root: {
    messages: 'arr:message',
    model: 'model',
    choices: 'arr:choice',
    usage: 'obj:usage',
    tools: 'arr:tool',
    functions: 'arr:functionDef',
    tool_choice: 'obj:toolChoice',
    function_call: 'obj:functionRef',
    response_format: 'obj:responseFormat',
    temperature: 'num',
    top_p: 'num',
    n: 'num',
    stream: 'bool',
    stop: 'any',
    logit_bias: 'any',
    logprobs: 'bool',
    frequency_penalty: 'num',
    presence_penalty: 'num',
    max_tokens: 'num',
    seed: 'num',
    user: 'any',
    top_logprobs: 'num',
    created: 'num',
    object: 'any',
    system_fingerprint: 'any',
    metadata: 'any',
    id: 'any',
  },
  message: { role: 'role', content: 'any', name: 'any', tool_calls: 'arr:toolCall', function_call: 'obj:functionCall' },
  choice: { index: 'num', message: 'obj:message', delta: 'obj:message', finish_reason: 'finish', logprobs: 'any' },
  usage: { prompt_tokens: 'num', completion_tokens: 'num', total_tokens: 'num' },
  tool: { type: 'any', function: 'obj:functionDef' },
  functionDef: { name: 'any', description: 'any', parameters: 'obj:schema', strict: 'bool' },
  toolCall: { id: 'any', type: 'any', function: 'obj:functionCall', index: 'num' },
  functionCall: { name: 'any', arguments: 'any' },
  toolChoice: { type: 'any', function: 'obj:functionRef' },
  functionRef: { name: 'any' },
  responseFormat: { type: 'rfType', json_schema: 'any' },
  schema: {
    type: 'any',
    description: 'any',
    properties: 'obj:schemaMap',
    required: 'any',
    items: 'obj:schema',
    anyOf: 'arr:schema',
    $defs: 'obj:schemaMap',
  },
  schemaMap: {},
};
const VALUE_TABLE_SHAPES: Record<string, Readonly<Record<string, string>>> = {
  role: T1_ROLES,
  finish: T1_FINISH_REASONS,
  model: T1_MODELS,
  rfType: T1_RESPONSE_FORMAT_TYPES,
};

const positional = fc.letrec<Record<string, JsonValue>>((tie) => {
  const valueFor = (kind: string): fc.Arbitrary<JsonValue> => {
    // the shaped value most of the time, anything else sometimes (the first option is the one kept deep down)
    const shaped = (a: fc.Arbitrary<JsonValue>) =>
      fc.oneof({ depthSize: 'small' }, { weight: 1, arbitrary: tie('any') }, { weight: 4, arbitrary: a });
    if (kind.startsWith('obj:')) return shaped(tie(kind.slice(4)));
    if (kind.startsWith('arr:')) return shaped(fc.array(shaped(tie(kind.slice(4))), { maxLength: 2 }));
    const table = VALUE_TABLE_SHAPES[kind];
    if (table) {
      const forms = Object.entries(table).flat();
      return fc.oneof(fc.constantFrom(...forms, ...forms.map((f) => T1_ESCAPE + f), '~', '', 'developer'), tie('any'));
    }
    if (kind === 'num') return fc.oneof(numberArb, tie('any'));
    if (kind === 'bool') return fc.oneof(fc.boolean(), tie('any'));
    return tie('any');
  };
  const builders: Record<string, fc.Arbitrary<JsonValue>> = { any: jsonArb };
  for (const [name, shape] of Object.entries(SHAPES)) {
    const own = Object.entries(shape).map(([k, kind]) => ({
      weight: kind.includes(':') ? 4 : 1,
      arbitrary: fc.tuple(fc.constant(k), valueFor(kind)),
    }));
    const member =
      name === 'schemaMap'
        ? fc.tuple(keyArb, valueFor('obj:schema'))
        : fc.oneof({ weight: 3, arbitrary: fc.oneof(...own) }, { weight: 1, arbitrary: fc.tuple(keyArb, tie('any')) });
    builders[name] = fc
      .uniqueArray(member as fc.Arbitrary<[string, JsonValue]>, { selector: (e) => e[0], maxLength: 5 })
      .map(toObject);
  }
  return builders;
}).root as fc.Arbitrary<JsonValue>;

// Realistic chat-completion requests and responses.
const text = fc.oneof(
  fc.constantFrom('Hello!', 'What is the capital of France?', 'You are a helpful assistant.', '', 'user', 's'),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);
const num = (raw: string) => new JsonNumber(raw);
const obj = (...entries: [string, JsonValue | undefined][]) =>
  toObject(entries.filter((e): e is [string, JsonValue] => e[1] !== undefined));
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const modelArb = fc.oneof(fc.constantFrom(...Object.keys(T1_MODELS)), fc.constantFrom('gpt-5', 'claude-3', 'o1'));
const nameArb = fc.stringMatching(/^[a-z_]{1,12}$/);
const schemaArb: fc.Arbitrary<JsonValue> = fc
  .uniqueArray(fc.tuple(nameArb, fc.constantFrom('string', 'number', 'boolean', 'integer'), opt(text)), {
    selector: (p) => p[0],
    maxLength: 4,
  })
  .chain((props) =>
    fc
      .subarray(props.map((p) => p[0]))
      .map((required) =>
        obj(
          ['type', 'object'],
          ['properties', toObject(props.map(([n, t, d]) => [n, obj(['type', t], ['description', d])]))],
          ['required', required],
        ),
      ),
  );
const toolCallArb = fc
  .tuple(nameArb, nameArb, fc.jsonValue({ maxDepth: 2 }))
  .map(([id, name, args]) =>
    obj(
      ['id', `call_${id}`],
      ['type', 'function'],
      ['function', obj(['name', name], ['arguments', JSON.stringify(args)])],
    ),
  );
const messageArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc
    .tuple(fc.constantFrom('system', 'user', 'developer'), text, opt(nameArb))
    .map(([role, content, name]) => obj(['role', role], ['content', content], ['name', name])),
  fc
    .tuple(text, fc.constantFrom('text', 'image_url'))
    .map(([t, type]) =>
      obj(
        ['role', 'user'],
        [
          'content',
          [
            type === 'text'
              ? obj(['type', 'text'], ['text', t])
              : obj(['type', 'image_url'], ['image_url', obj(['url', t])]),
          ],
        ],
      ),
    ),
  fc
    .tuple(opt(text), fc.array(toolCallArb, { maxLength: 2 }))
    .map(([content, calls]) =>
      obj(['role', 'assistant'], ['content', content ?? null], ['tool_calls', calls.length ? calls : undefined]),
    ),
  fc.tuple(nameArb, text).map(([id, content]) => obj(['role', 'tool'], ['tool_call_id', id], ['content', content])),
);
const paramNum = (defaults: string[], others: string[]) => fc.constantFrom(...defaults, ...others).map(num);
const shuffled = (entries: [string, JsonValue | undefined][]) =>
  fc
    .shuffledSubarray(
      entries.filter((e): e is [string, JsonValue] => e[1] !== undefined),
      { minLength: entries.filter((e) => e[1] !== undefined).length },
    )
    .map(toObject);
const requestArb: fc.Arbitrary<JsonValue> = fc
  .record({
    model: modelArb,
    messages: fc.array(messageArb, { minLength: 1, maxLength: 6 }),
    temperature: opt(paramNum(['1', '1.0', '1e0'], ['0.7', '0', '2', '1.0000000000000000001'])),
    top_p: opt(paramNum(['1', '1.0'], ['0.9'])),
    n: opt(paramNum(['1'], ['2', '10'])),
    stream: opt(fc.boolean()),
    stop: opt(fc.oneof(fc.constant(null), text, fc.array(text, { maxLength: 2 }))),
    max_tokens: opt(paramNum([], ['100', '4096'])),
    seed: opt(paramNum([], ['42', '12345678901234567890'])),
    user: opt(text),
    frequency_penalty: opt(paramNum(['0', '0.0', '-0'], ['0.5', '-1.5'])),
    presence_penalty: opt(paramNum(['0'], ['1'])),
    logit_bias: opt(fc.constantFrom(obj(), obj(['50256', num('-100')], ['15', num('5')]))),
    logprobs: opt(fc.boolean()),
    top_logprobs: opt(paramNum([], ['5'])),
    response_format: opt(
      fc.oneof(
        fc.constantFrom('text', 'json_object').map((t) => obj(['type', t])),
        schemaArb.map((s) => obj(['type', 'json_schema'], ['json_schema', obj(['name', 'answer'], ['schema', s])])),
      ),
    ),
    tools: opt(
      fc.array(
        fc
          .tuple(nameArb, opt(text), schemaArb)
          .map(([name, d, s]) =>
            obj(['type', 'function'], ['function', obj(['name', name], ['description', d], ['parameters', s])]),
          ),
        { minLength: 1, maxLength: 3 },
      ),
    ),
    tool_choice: opt(
      fc.oneof(
        fc.constantFrom('auto', 'none', 'required'),
        nameArb.map((n) => obj(['type', 'function'], ['function', obj(['name', n])])),
      ),
    ),
    metadata: opt(
      fc
        .dictionary(fc.constantFrom('model', 'role', 'user', 'M', 'm', 'trace'), text)
        .map((d) => toObject(Object.entries(d))),
    ),
  })
  .chain((r) => shuffled(Object.entries(r) as [string, JsonValue | undefined][]));
const responseArb: fc.Arbitrary<JsonValue> = fc
  .tuple(
    nameArb,
    fc.boolean(),
    modelArb,
    fc.array(
      fc.tuple(
        fc.oneof(
          messageArb,
          text.map((c) => obj(['content', c])),
        ),
        fc.oneof(fc.constantFrom(...Object.keys(T1_FINISH_REASONS)), fc.constant(null)),
      ),
      { minLength: 1, maxLength: 3 },
    ),
    opt(fc.tuple(fc.nat(5000), fc.nat(5000))),
    opt(nameArb),
  )
  .map(([id, chunk, model, choices, usage, fp]) =>
    obj(
      ['id', `chatcmpl-${id}`],
      ['object', chunk ? 'chat.completion.chunk' : 'chat.completion'],
      ['created', num('1705520400')],
      ['model', model],
      ['system_fingerprint', fp === undefined ? undefined : `fp_${fp}`],
      [
        'choices',
        choices.map(([m, fr], i) =>
          obj(['index', num(String(i))], [chunk ? 'delta' : 'message', m], ['logprobs', null], ['finish_reason', fr]),
        ),
      ],
      [
        'usage',
        usage === undefined
          ? undefined
          : obj(
              ['prompt_tokens', num(String(usage[0]))],
              ['completion_tokens', num(String(usage[1]))],
              ['total_tokens', num(String(usage[0] + usage[1]))],
            ),
      ],
    ),
  );
const chatArb = fc.oneof(requestArb, responseArb);

function checkRoundTrip(v: JsonValue): void {
  const json = stringifyJson(v);
  expect(decodeT1(encodeT1(json, { omitDefaults: false }))).toBe(json);
  expect(decodeT1(encodeT1(json))).toBe(stringifyJson(withoutDefaults(v)));
}

describe('T1 properties', () => {
  it('random JSON round-trips exactly (omitDefaults false) and modulo defaults', () => {
    fc.assert(fc.property(jsonArb, checkRoundTrip), { numRuns: 3000 });
  });

  it('deep JSON (up to the depth limit) round-trips', () => {
    fc.assert(fc.property(deepArb, checkRoundTrip), { numRuns: 1000 });
  });

  it('position-shaped JSON with adversarial keys and values round-trips', () => {
    fc.assert(fc.property(positional, checkRoundTrip), { numRuns: 3000 });
  });

  it('realistic chat requests and responses round-trip and get smaller', () => {
    fc.assert(
      fc.property(chatArb, (v) => {
        checkRoundTrip(v);
        const json = stringifyJson(v);
        expect(encodeT1(json).length).toBeLessThan(json.length);
        expect(encodeT1(json, { omitDefaults: false }).length).toBeLessThan(json.length);
      }),
      { numRuns: 3000 },
    );
  });

  /** decodeT1 gives JSON text or an M2MError; what it gives is canonical (re-encoding and decoding keeps it). */
  function checkDecode(wire: string): void {
    let out: string;
    try {
      out = decodeT1(wire);
    } catch (err) {
      expect(err).toBeInstanceOf(M2MError);
      expect(['INVALID_PREFIX', 'INVALID_JSON', 'CONTENT_TOO_LARGE']).toContain((err as M2MError).code);
      return;
    }
    expect(stringifyJson(parseJson(out))).toBe(out);
    expect(decodeT1(encodeT1(out, { omitDefaults: false }))).toBe(out);
  }

  it('mutated wire strings decode to JSON or fail with an M2MError', () => {
    const pieces = [
      '{',
      '}',
      '[',
      ']',
      '"',
      ':',
      ',',
      '~',
      '\\',
      '"m":',
      '"~',
      'null',
      '1e999',
      '"M":"4o"',
      '\ud800',
      '#T1|',
    ];
    const mutation = fc.record({
      kind: fc.constantFrom('delete', 'insert', 'replace', 'truncate', 'duplicate'),
      at: fc.nat(),
      len: fc.nat(8),
      piece: fc.oneof(fc.constantFrom(...pieces), fc.string({ unit: 'binary', maxLength: 2 })),
    });
    const wireArb = fc.oneof(chatArb, positional, jsonArb).map((v) => encodeT1(stringifyJson(v)));
    fc.assert(
      fc.property(wireArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (wire, mutations) => {
        let w = wire;
        for (const m of mutations) {
          const at = m.at % (w.length + 1);
          if (m.kind === 'delete') w = w.slice(0, at) + w.slice(at + m.len);
          else if (m.kind === 'insert') w = w.slice(0, at) + m.piece + w.slice(at);
          else if (m.kind === 'replace') w = w.slice(0, at) + m.piece + w.slice(at + 1);
          else if (m.kind === 'truncate') w = w.slice(0, at);
          else w = w.slice(0, at) + w.slice(at, at + m.len) + w.slice(at);
        }
        checkDecode(w);
      }),
      { numRuns: 5000 },
    );
  });

  it('random strings, with or without the prefix, decode to JSON or fail with an M2MError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string().map((s) => T1_PREFIX + s),
        ),
        checkDecode,
      ),
      { numRuns: 3000 },
    );
  });

  it('random text encodes or fails with INVALID_JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
        try {
          const wire = encodeT1(s);
          expect(wire.startsWith(T1_PREFIX)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(M2MError);
          expect((err as M2MError).code).toBe('INVALID_JSON');
        }
      }),
      { numRuns: 3000 },
    );
  });
});
