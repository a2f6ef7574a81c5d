import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  JSON_LIMITS,
  JsonNumber,
  JsonObject,
  type JsonValue,
  jsonEquals,
  jsonNumber,
  numberEqualsInteger,
  parseJson,
  stringifyJson,
} from '../ts/codec/json.js';
import { M2MError } from '../ts/core/errors.js';
import { utf8Length, utf8LengthPortable } from '../ts/core/utf8.js';

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

const roundTrip = (text: string) => stringifyJson(parseJson(text));

describe('parseJson / stringifyJson: lossless round trips', () => {
  it('keeps the exact text of numbers', () => {
    for (const n of [
      '0',
      '-0',
      '1.0',
      '1.50',
      '1e5',
      '1E5',
      '1e+5',
      '1E-05',
      '-0.0e-0',
      '12345678901234567890',
      '-98765432109876543210987654321.000000000000000000001',
      '1e400',
      '5e-400',
      '0.1',
      '9007199254740993',
    ]) {
      expect(roundTrip(n)).toBe(n);
      expect(roundTrip(`[${n}]`)).toBe(`[${n}]`);
      const v = parseJson(`{"n":${n}}`) as JsonObject;
      expect((v.get('n') as JsonNumber).raw).toBe(n);
    }
  });

  it('keeps key order, including integer-like keys that JSON.parse would move first', () => {
    const text = '{"b":1,"a":2,"10":3,"2":4,"__proto__":{"x":null},"constructor":5}';
    expect(roundTrip(text)).toBe(text);
    expect(JSON.stringify(JSON.parse(text))).not.toBe(text);
    const o = parseJson(text) as JsonObject;
    expect(o.keys).toEqual(['b', 'a', '10', '2', '__proto__', 'constructor']);
  });

  it('drops insignificant whitespace only', () => {
    expect(roundTrip(' \t\r\n{ "a" : [ 1 , true , false , null , "x y" ] , "b" : { } , "c" : [ ] } \n')).toBe(
      '{"a":[1,true,false,null,"x y"],"b":{},"c":[]}',
    );
  });

  it('unescapes strings and writes the minimal escapes back', () => {
    const v = parseJson('"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\u0000\\u001f\\u007f"');
    expect(v).toBe('"\\/\b\f\n\r\tAé€\u0000\u001f\u007f');
    expect(stringifyJson(v)).toBe('"\\"\\\\/\\b\\f\\n\\r\\tAé€\\u0000\\u001f\u007f"');
    // raw non-ASCII, U+2028/9 and DEL are allowed unescaped
    expect(roundTrip('"é€😀\u2028\u2029\u007f"')).toBe('"é€😀\u2028\u2029\u007f"');
  });

  it('joins escaped surrogate pairs and keeps lone surrogates as escapes', () => {
    expect(parseJson('"\\ud83d\\ude00"')).toBe('😀');
    expect(roundTrip('"\\ud83d\\ude00"')).toBe('"😀"');
    for (const lone of ['"\\ud800"', '"\\udfff"', '"a\\udc00b"', '"\\ude00\\ud83d"', '"\\ud800\\ud800"']) {
      expect(roundTrip(lone)).toBe(lone);
      expect(parseJson(roundTrip(lone))).toBe(JSON.parse(lone));
    }
    // upper-case hex comes back lower-case (same value)
    expect(roundTrip('"\\uD800"')).toBe('"\\ud800"');
    // a raw (unescaped) lone surrogate in the input text is written as an escape
    expect(roundTrip('"\ud800"')).toBe('"\\ud800"');
  });

  it('round-trips any JSON.stringify output exactly (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const text = JSON.stringify(v);
        expect(roundTrip(text)).toBe(text);
        expect(roundTrip(JSON.stringify(v, null, 2))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with JSON.parse on acceptance and value for random JSON-like text (property)', () => {
    const atoms = [
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      '"a"',
      '"\\u00',
      'u',
      '0',
      '1',
      '9',
      '-',
      '.',
      'e',
      'E',
      '+',
      'true',
      'false',
      'null',
      'nul',
      ' ',
      '\n',
      '\u0001',
      'x',
      'é',
      '\ud800',
    ];
    const textArb = fc.oneof(
      fc.array(fc.constantFrom(...atoms), { maxLength: 30 }).map((a) => a.join('')),
      fc.jsonValue({ maxDepth: 4 }).chain((v) => {
        const t = JSON.stringify(v);
        return fc
          .tuple(fc.nat(t.length), fc.nat(3), fc.constantFrom(...atoms))
          .map(([i, del, ins]) => t.slice(0, i) + ins + t.slice(i + del));
      }),
    );
    fc.assert(
      fc.property(textArb, (text) => {
        let expected: { ok: true; value: unknown } | { ok: false };
        try {
          expected = { ok: true, value: JSON.parse(text) };
        } catch {
          expected = { ok: false };
        }
        let actual: JsonValue;
        try {
          actual = parseJson(text);
        } catch (err) {
          expect(err).toBeInstanceOf(M2MError);
          const e = err as M2MError;
          if (expected.ok) {
            // Only duplicate keys separate the two (JSON.parse keeps the last one).
            expect(e.code).toBe('INVALID_JSON');
            expect(e.message).toMatch(/duplicate key/);
          } else {
            expect(e.code).toBe('INVALID_JSON');
          }
          return;
        }
        expect(expected.ok).toBe(true);
        if (expected.ok) expect(JSON.parse(stringifyJson(actual))).toEqual(expected.value);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parseJson: malformed input', () => {
  const cases: [string, RegExp][] = [
    ['', /offset 0: expected a JSON value, found end of input/],
    ['   ', /offset 3: expected a JSON value, found end of input/],
    ['{', /offset 1: expected a '"' starting a key or '}', found end of input/],
    ['[1,', /offset 3: expected a JSON value/],
    ['{"a":1', /offset 6: expected ',' or '}' after an object member/],
    ['{"a" 1}', /offset 5: expected ':' after an object key, found '1'/],
    ['[1,]', /offset 3: expected a JSON value, found '\]'/],
    ['{"a":1,}', /offset 7: expected a '"' starting a key/],
    ['[1 2]', /offset 3: expected ',' or '\]' after an array element/],
    ['{a:1}', /offset 1: expected a '"' starting a key/],
    ["{'a':1}", /offset 1/],
    ['01', /offset 1: .*no leading zeros/],
    ['-01', /offset 2: .*no leading zeros/],
    ['00.5', /offset 1: .*no leading zeros/],
    ['-', /offset 1: expected a digit, found end of input/],
    ['1.', /offset 2: expected a digit after '.'/],
    ['.5', /offset 0: expected a JSON value/],
    ['1e', /offset 2: expected a digit in the exponent/],
    ['1e+', /offset 3: expected a digit in the exponent/],
    ['+1', /offset 0/],
    ['NaN', /offset 0: expected a JSON value, found 'N'/],
    ['Infinity', /offset 0/],
    ['-Infinity', /offset 1: expected a digit, found 'I'/],
    ['undefined', /offset 0/],
    ['tru', /offset 3: expected 'true', found end of input/],
    ['nul', /offset 3/],
    ['truE', /offset 3: expected 'true'/],
    ['"abc', /offset 4: expected a closing '"', found end of input/],
    ['"\\', /offset 2: expected an escape character/],
    ['"\\x"', /offset 2: expected an escape character .*found 'x'/],
    ['"\\u12G4"', /offset 5: expected a hex digit in a \\u escape, found 'G'/],
    ['"\\u12"', /offset 5: expected a hex digit/],
    ['"a\nb"', /offset 2: .*control characters must be escaped.*U\+000A/],
    ['"\u0000"', /U\+0000/],
    ['"\t"', /U\+0009/],
    ['[1] x', /offset 4: expected the end of input after the JSON value, found 'x'/],
    ['{}{}', /offset 2: expected the end of input/],
    ['{"a":1}}', /offset 7: expected the end of input/],
    ['\u00a01', /offset 0/], // NBSP is not JSON whitespace
    ['\ufeff{}', /offset 0/], // neither is a BOM
    ['[,1]', /offset 1/],
    ['{"a":}', /offset 5/],
  ];
  it.each(cases)('%j is INVALID_JSON with the offset and what was expected', (text, message) => {
    const err = errorOf(() => parseJson(text));
    expect(err.code).toBe('INVALID_JSON');
    expect(err.message).toMatch(message);
  });

  it('rejects duplicate keys, in narrow and wide objects, at any depth', () => {
    expect(errorOf(() => parseJson('{"a":1,"a":1}')).message).toMatch(/offset 7: duplicate key "a"/);
    expect(errorOf(() => parseJson('[{"x":{"a":1,"b":2,"a":3}}]')).code).toBe('INVALID_JSON');
    for (const n of [15, 16, 17, 40]) {
      const keys = Array.from({ length: n }, (_, i) => `"k${i}":${i}`);
      expect(() => parseJson(`{${keys.join(',')}}`)).not.toThrow();
      for (const dup of [0, n - 1]) {
        const text = `{${keys.join(',')},"k${dup}":0}`;
        expect(errorOf(() => parseJson(text)).message).toMatch(new RegExp(`duplicate key "k${dup}"`));
      }
    }
    // a nested wide object must not confuse the outer one's bookkeeping
    const inner = `{${Array.from({ length: 20 }, (_, i) => `"i${i}":0`).join(',')}}`;
    const outer = Array.from({ length: 20 }, (_, i) => `"o${i}":${inner}`);
    expect(() => parseJson(`{${outer.join(',')}}`)).not.toThrow();
    expect(errorOf(() => parseJson(`{${outer.join(',')},"o3":1}`)).message).toMatch(/duplicate key "o3"/);
    // keys are compared after unescaping
    expect(errorOf(() => parseJson('{"a":1,"\\u0061":2}')).message).toMatch(/duplicate key "a"/);
  });
});

describe('parseJson: limits', () => {
  const nestArrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const nestObjects = (n: number) => `${'{"a":'.repeat(n - 1)}{}${'}'.repeat(n - 1)}`;

  it(`accepts depth ${JSON_LIMITS.maxDepth} and rejects ${JSON_LIMITS.maxDepth + 1}`, () => {
    expect(JSON_LIMITS.maxDepth).toBe(32);
    for (const nest of [
      nestArrays,
      nestObjects,
      (n: number) => `${'[{"a":'.repeat(n / 2 - 1)}[{}]${'}]'.repeat(n / 2 - 1)}`,
    ]) {
      expect(() => parseJson(nest(32))).not.toThrow();
      expect(roundTrip(nest(32))).toBe(nest(32));
      const err = errorOf(() => parseJson(nest(34)));
      expect(err.code).toBe('CONTENT_TOO_LARGE');
    }
    const err = errorOf(() => parseJson(nestArrays(33)));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.message).toBe('JSON depth exceeds the limit of 32');
    expect(errorOf(() => parseJson(nestObjects(33))).code).toBe('CONTENT_TOO_LARGE');
    // scalars inside the deepest container do not count
    expect(() => parseJson(`${'['.repeat(32)}1${']'.repeat(32)}`)).not.toThrow();
  });

  it('fails fast on 100,000-deep nesting, without a stack overflow', () => {
    for (const text of [
      '['.repeat(100_000),
      nestArrays(100_000),
      '{"a":'.repeat(100_000),
      `${'[{"k":'.repeat(50_000)}`,
    ]) {
      const t0 = performance.now();
      const err = errorOf(() => parseJson(text));
      expect(err.code).toBe('CONTENT_TOO_LARGE');
      expect(err.message).toMatch(/depth exceeds the limit of 32/);
      expect(performance.now() - t0).toBeLessThan(100);
    }
  });

  it('stringifyJson also refuses values nested deeper than the limit (and cycles)', () => {
    let v: JsonValue = [];
    for (let i = 1; i < 32; i++) v = [v];
    expect(stringifyJson(v)).toBe(nestArrays(32));
    expect(errorOf(() => stringifyJson([v])).code).toBe('CONTENT_TOO_LARGE');
    const cyclic: JsonValue[] = [];
    cyclic.push(cyclic);
    expect(errorOf(() => stringifyJson(cyclic)).code).toBe('CONTENT_TOO_LARGE');
  });

  it('accepts 10,000 array elements and rejects 10,001', () => {
    expect(JSON_LIMITS.maxArrayLength).toBe(10_000);
    const arr = (n: number) => `[${Array(n).fill('0').join(',')}]`;
    expect((parseJson(arr(10_000)) as JsonValue[]).length).toBe(10_000);
    const err = errorOf(() => parseJson(arr(10_001)));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.message).toBe('JSON array exceeds the limit of 10000 elements');
    // the limit is per array
    expect(() => parseJson(`[${arr(10_000)},${arr(10_000)}]`)).not.toThrow();
    // objects have no member limit of their own
    const wide = `{${Array.from({ length: 10_001 }, (_, i) => `"${i}":0`).join(',')}}`;
    expect((parseJson(wide) as JsonObject).size).toBe(10_001);
  });

  it('measures strings as UTF-8 bytes of the unescaped value: 10 MiB accepted, 10 MiB + 1 rejected', () => {
    expect(JSON_LIMITS.maxStringBytes).toBe(10 * MiB);
    const ascii = 'a'.repeat(10 * MiB);
    expect((parseJson(`"${ascii}"`) as string).length).toBe(10 * MiB);
    const err = errorOf(() => parseJson(`"${ascii}a"`));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.message).toMatch(/^JSON string exceeds the limit of 10 MiB/);
    // two-byte characters: 5 Mi of them are exactly 10 MiB, although only 5 Mi UTF-16 units
    const e2 = 'é'.repeat(5 * MiB);
    expect(() => parseJson(`"${e2}"`)).not.toThrow();
    expect(errorOf(() => parseJson(`"${e2}a"`)).code).toBe('CONTENT_TOO_LARGE');
    // escapes count as what they decode to: "\n" is one byte
    expect(() => parseJson(`"${'a'.repeat(10 * MiB - 1)}\\n"`)).not.toThrow();
    expect(errorOf(() => parseJson(`"${'a'.repeat(10 * MiB)}\\n"`)).code).toBe('CONTENT_TOO_LARGE');
    // keys are strings too
    expect(errorOf(() => parseJson(`{"${ascii}a":1}`)).code).toBe('CONTENT_TOO_LARGE');
  });

  it('measures the input as UTF-8 bytes: 16 MiB accepted, 16 MiB + 1 rejected', () => {
    expect(JSON_LIMITS.maxInputBytes).toBe(16 * MiB);
    const body = `["${'a'.repeat(8 * MiB)}","${'b'.repeat(8 * MiB - 10)}"`;
    const exact = `${body}${' '.repeat(16 * MiB - body.length - 1)}]`;
    expect(exact.length).toBe(16 * MiB);
    expect((parseJson(exact) as string[]).length).toBe(2);
    const err = errorOf(() => parseJson(`${exact} `));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.message).toMatch(/^JSON text exceeds the limit of 16 MiB/);
    // multi-byte text: fewer than 16 Mi UTF-16 units, but 16 MiB (+1) of UTF-8
    const wide = `"${'é'.repeat(5 * MiB)}"`; // 10 MiB + 2 bytes
    const padded = wide + ' '.repeat(16 * MiB - (10 * MiB + 2));
    expect(padded.length).toBeLessThan(16 * MiB);
    expect(utf8Length(padded)).toBe(16 * MiB);
    expect(() => parseJson(padded)).not.toThrow();
    expect(errorOf(() => parseJson(`${padded} `)).code).toBe('CONTENT_TOO_LARGE');
  });
});

describe('value model helpers', () => {
  it('JsonNumber validates its text; jsonNumber converts doubles and bigints', () => {
    expect(new JsonNumber('-1.5e3').raw).toBe('-1.5e3');
    for (const bad of ['', '01', '+1', '1.', 'NaN', '0x10', ' 1', '1 ']) {
      expect(errorOf(() => new JsonNumber(bad)).code).toBe('INVALID_JSON');
    }
    expect(jsonNumber(1.5).raw).toBe('1.5');
    expect(jsonNumber(1e21).raw).toBe('1e+21');
    expect(jsonNumber(12345678901234567890n).raw).toBe('12345678901234567890');
    expect(errorOf(() => jsonNumber(Number.NaN)).code).toBe('INVALID_JSON');
    expect(errorOf(() => jsonNumber(Number.POSITIVE_INFINITY)).code).toBe('INVALID_JSON');
    expect(new JsonNumber('12345678901234567890').toNumber()).toBe(12345678901234567000);
  });

  it('JsonObject keeps order, and from() rejects duplicates', () => {
    const o = JsonObject.from([
      ['z', 1 as unknown as JsonValue],
      ['a', 'x'],
    ]);
    expect(o.keys).toEqual(['z', 'a']);
    o.set('m', null).set('z', true);
    expect(stringifyJson(o)).toBe('{"z":true,"a":"x","m":null}');
    expect(o.delete('a')).toBe(true);
    expect(o.delete('a')).toBe(false);
    expect(o.get('m')).toBeNull();
    expect(o.get('nope')).toBeUndefined();
    expect([...o.entries()]).toEqual([
      ['z', true],
      ['m', null],
    ]);
    expect(
      errorOf(() =>
        JsonObject.from([
          ['a', null],
          ['a', null],
        ]),
      ).code,
    ).toBe('INVALID_JSON');
  });

  it('jsonEquals compares structure, order and number text', () => {
    const a = parseJson('{"a":[1,{"b":null}],"c":"x"}');
    expect(jsonEquals(a, parseJson('{ "a" : [ 1 , { "b" : null } ] , "c" : "x" }'))).toBe(true);
    expect(jsonEquals(a, parseJson('{"c":"x","a":[1,{"b":null}]}'))).toBe(false);
    expect(jsonEquals(parseJson('1.0'), parseJson('1'))).toBe(false);
  });

  it('numberEqualsInteger compares decimals exactly', () => {
    for (const one of ['1', '1.0', '1.000', '1e0', '10e-1', '0.1E1', '100e-2', '0.01e+2']) {
      expect(numberEqualsInteger(one, 1)).toBe(true);
    }
    for (const notOne of ['-1', '1.0000000000000000001', '0.99999999999999999999', '11', '1e1', '10', '2', '0']) {
      expect(numberEqualsInteger(notOne, 1)).toBe(false);
    }
    for (const zero of ['0', '-0', '0.0', '0e99999999999999999999', '-0.000e-5']) {
      expect(numberEqualsInteger(zero, 0)).toBe(true);
    }
    for (const notZero of ['1e-400', '0.0000000000000000000001', '1']) {
      expect(numberEqualsInteger(notZero, 0)).toBe(false);
    }
    expect(numberEqualsInteger('1e99999999999999999999', 1)).toBe(false);
  });

  it('utf8Length (Node) and the portable loop (browsers) match Buffer.byteLength (property)', () => {
    const units = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), // lone surrogates too
    );
    fc.assert(
      fc.property(units, (s) => {
        expect(utf8LengthPortable(s)).toBe(Buffer.byteLength(s, 'utf8'));
        expect(utf8Length(s)).toBe(Buffer.byteLength(s, 'utf8'));
      }),
      { numRuns: 3000 },
    );
    // lone surrogates count as 3 bytes, like the U+FFFD Buffer writes for them
    for (const f of [utf8Length, utf8LengthPortable]) {
      expect(f('\ud800')).toBe(3);
      expect(f('\udc00\ud800')).toBe(6);
    }
  });
});
