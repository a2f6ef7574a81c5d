// Every core function through both backends on the same inputs: the results
// must be byte-identical and failures must carry the same error code.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../ts/index.js';
import { BACKENDS, normalise, outcome } from './helpers.js';

const { native, wasm } = BACKENDS;
const RUNS = 2_000;

function same(call: (b: Backend) => unknown): unknown {
  const a = outcome(() => normalise(call(native)));
  const b = outcome(() => normalise(call(wasm)));
  expect(b).toEqual(a);
  return a;
}

const encodings = fc.constantFrom('cl100k_base', 'o200k_base', 'llama3');
// Small ids, vocabulary-sized ids and the whole u32 range, all common.
const tokenId = fc.oneof(
  fc.integer({ min: 0, max: 127 }),
  fc.integer({ min: 0, max: 300_000 }),
  fc.nat({ max: 0xffff_ffff }),
);
const ids = fc.array(tokenId, { maxLength: 300 }).map((a) => Uint32Array.from(a));
const wireAlphabet = fc.constantFrom(...'#TKCOL|AQIDBAgw+/=!é\u0000 \n'.split(''), 'A', 'g', '/', '8');
const wireLike = fc.oneof(
  fc.string(),
  fc.array(wireAlphabet, { maxLength: 40 }).map((c) => c.join('')),
  fc
    .tuple(
      fc.constantFrom('#TK|', '#TK', '#tk|', ''),
      fc.constantFrom('C', 'O', 'L', 'X', 'CC', ''),
      fc.constantFrom('|', '', '||'),
      fc.base64String(),
    )
    .map((p) => p.join('')),
);

describe('backend parity', () => {
  it('both backends load and report their kind', () => {
    expect(native.kind).toBe('native');
    expect(wasm.kind).toBe('wasm');
  });

  it('fixed vectors', () => {
    const vectors: [string, (b: Backend) => unknown, unknown][] = [
      ['varint 300', (b) => Array.from(b.varintEncode(Uint32Array.of(300))), [0xac, 0x02]],
      ['varint max', (b) => Array.from(b.varintEncode(Uint32Array.of(0xffff_ffff))), [0xff, 0xff, 0xff, 0xff, 0x0f]],
      ['pack C', (b) => b.packTokenNative(Uint32Array.of(9906, 1917), 'cl100k_base'), '#TK|C|sk39Dg=='],
      ['pack L', (b) => b.packTokenNative(Uint32Array.of(128_000), 'llama3'), '#TK|L|gOgH'],
      ['pack empty', (b) => b.packTokenNative(new Uint32Array(), 'o200k_base'), '#TK|O|'],
      [
        'binary O',
        (b) => Array.from(b.packTokenNativeBinary(Uint32Array.of(1, 200_018), 'o200k_base')),
        [1, 1, 0xd2, 0x9a, 0x0c],
      ],
      ['base64', (b) => b.base64Encode(new TextEncoder().encode('m2m')), 'bTJt'],
    ];
    for (const [name, call, expected] of vectors) {
      expect(same(call), name).toEqual({ ok: true, value: normalise(expected) });
    }
  });

  it('error codes', () => {
    const cases: [string, (b: Backend) => unknown][] = [
      ['TRUNCATED_VARINT', (b) => b.varintDecode(Uint8Array.of(0x80))],
      ['VARINT_OVERFLOW', (b) => b.varintDecode(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x10))],
      ['VARINT_OVERFLOW', (b) => b.varintDecode(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01))],
      ['NON_CANONICAL_VARINT', (b) => b.varintDecode(Uint8Array.of(0x81, 0x00))],
      ['INVALID_BASE64', (b) => b.base64Decode('abc')],
      ['INVALID_PREFIX', (b) => b.unpackTokenNative('#T1|{}')],
      ['MISSING_SEPARATOR', (b) => b.unpackTokenNative('#TK|C')],
      ['UNKNOWN_TOKENIZER', (b) => b.unpackTokenNative('#TK|Q|AA==')],
      ['UNKNOWN_TOKENIZER', (b) => b.packTokenNative(Uint32Array.of(1), 'gpt2')],
      ['UNKNOWN_TOKENIZER', (b) => b.unpackTokenNativeBinary(Uint8Array.of(7, 1))],
      ['UNKNOWN_TOKENIZER', (b) => b.unpackTokenNativeBinary(new Uint8Array())],
      ['INVALID_BASE64', (b) => b.unpackTokenNative('#TK|C|AA=')],
      ['TRUNCATED_VARINT', (b) => b.unpackTokenNative('#TK|C|gA==')],
      ['CONTENT_TOO_LARGE', (b) => b.unpackTokenNative(`#TK|C|${'A'.repeat(16 * 1024 * 1024)}`)],
    ];
    for (const [code, call] of cases) {
      expect(same(call), code).toEqual({ ok: false, code });
    }
  });

  it('varint and base64 agree on random input', () => {
    fc.assert(
      fc.property(ids, fc.uint8Array({ maxLength: 64 }), (values, bytes) => {
        same((b) => b.varintEncode(values));
        same((b) => b.varintDecode(bytes));
        same((b) => b.base64Encode(bytes));
        same((b) => b.varintDecode(b.varintEncode(values)));
      }),
      { numRuns: RUNS },
    );
  });

  it('base64 decoding agrees on random text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.base64String(), fc.string()), (text) => {
        same((b) => b.base64Decode(text));
      }),
      { numRuns: RUNS },
    );
  });

  it('token decoding agrees on any ids: whole tokens, tokens that cut characters, specials, unknown ids', () => {
    // The wasm backend joins strings in JavaScript (ts/core/decode-table.ts) and asks the core only when
    // it must; the text and every error must be the core's, as the native backend gives them.
    for (const encoding of ['cl100k_base', 'o200k_base', 'llama3']) {
      native.ensureEncoding(encoding);
      wasm.ensureEncoding(encoding);
    }
    const special = { cl100k_base: 100_257, o200k_base: 199_999, llama3: 128_000 } as const;
    // Ids of real text (any code point class), cut at any two points, with specials and unknown ids mixed in.
    const textIds = fc
      .tuple(
        fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 })),
        encodings,
        fc.nat(),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('special', 'unknown', 'any')), { maxLength: 3 }),
      )
      .map(([text, encoding, a, b, inserts]) => {
        const all = Array.from(native.encodeOrdinary(text.replace(/[\ud800-\udfff]/g, ''), encoding));
        const [from, to] = [a % (all.length + 1), b % (all.length + 1)].sort((x, y) => x - y) as [number, number];
        const out = all.slice(from, to === from ? all.length : to);
        for (const [at, kind] of inserts) {
          const id =
            kind === 'special'
              ? special[encoding as keyof typeof special]
              : kind === 'unknown'
                ? 0xffff_fff0
                : at % 300_000;
          out.splice(at % (out.length + 1), 0, id);
        }
        return { encoding, ids: Uint32Array.from(out) };
      });
    fc.assert(
      fc.property(
        fc.oneof(
          textIds,
          fc.tuple(ids, encodings).map(([i, e]) => ({ encoding: e, ids: i })),
        ),
        (c) => {
          same((b) => b.decodeTokens(c.ids, c.encoding));
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('TokenNative packing agrees and round-trips', () => {
    fc.assert(
      fc.property(ids, encodings, (values, encoding) => {
        const text = same((b) => b.packTokenNative(values, encoding)) as { ok: true; value: string };
        expect(same((b) => b.unpackTokenNative(text.value))).toEqual({
          ok: true,
          value: normalise({ encoding, ids: values }),
        });
        const bin = native.packTokenNativeBinary(values, encoding);
        same((b) => b.packTokenNativeBinary(values, encoding));
        expect(same((b) => b.unpackTokenNativeBinary(bin))).toEqual({
          ok: true,
          value: normalise({ encoding, ids: values }),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('TokenNative unpacking agrees on malformed wire strings and bytes', () => {
    fc.assert(
      fc.property(wireLike, fc.uint8Array({ maxLength: 32 }), (wire, bytes) => {
        same((b) => b.unpackTokenNative(wire));
        same((b) => b.unpackTokenNativeBinary(bytes));
      }),
      { numRuns: RUNS },
    );
  });
});
