// Tokenizers through the public API and both backends: ids equal tiktoken's
// (and Meta's Llama 3) on the shared fixture corpus and on random strings,
// exact round trips, and typed decode errors.
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { get_encoding } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import type { Encoding, M2MError } from '../ts/index.js';
import * as m2m from '../ts/index.js';
import { BACKENDS } from './helpers.js';

const initial = m2m.backendKind();
afterAll(() => {
  m2m.useBackend(initial);
});

interface Case {
  mode: 'O' | 'A' | 'S';
  names: string[];
  text: string;
  ids: number[];
}

/** The corpus scripts/gen-bpe-fixtures.mjs writes from the reference tokenizers (run by npm test). */
function fixtures(name: string): Case[] {
  const path = new URL(`../build/fixtures/bpe/${name}.tsv`, import.meta.url);
  if (!existsSync(path)) throw new Error(`${path.pathname} is missing: run node scripts/gen-bpe-fixtures.mjs`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mode, names, text, ids] = line.split('\t') as [Case['mode'], string, string, string];
      return {
        mode,
        names: names ? Buffer.from(names, 'base64').toString('utf8').split('\n') : [],
        text: Buffer.from(text, 'base64').toString('utf8'),
        ids: ids ? ids.split(' ').map(Number) : [],
      };
    });
}

const FIXTURE_SETS: [string, Encoding][] = [
  ['cl100k_base', 'cl100k_base'],
  ['o200k_base', 'o200k_base'],
  ['llama3', 'llama3'],
  ['llama3-js', 'llama3'],
];

for (const kind of ['native', 'wasm'] as const) {
  describe(`tokenizers on the ${kind} backend`, () => {
    for (const [set, encoding] of FIXTURE_SETS) {
      it(`equals the reference on the ${set} corpus`, () => {
        m2m.useBackend(kind);
        const cases = fixtures(set);
        expect(cases.length).toBeGreaterThan(3000);
        let mismatches = 0;
        for (const c of cases) {
          const allowedSpecial = c.mode === 'O' ? undefined : c.mode === 'A' ? 'all' : c.names;
          const ids = Array.from(m2m.encode(c.text, encoding, { allowedSpecial }));
          if (ids.length !== c.ids.length || ids.some((x, i) => x !== c.ids[i])) mismatches++;
          if (c.mode === 'O') {
            expect(m2m.countTokens(c.text, encoding)).toBe(c.ids.length);
            expect(m2m.decode(ids, encoding)).toBe(c.text);
          }
        }
        expect(mismatches).toBe(0);
      });
    }

    it('equals tiktoken on random Unicode and round-trips (property)', () => {
      m2m.useBackend(kind);
      const ref = { cl100k_base: get_encoding('cl100k_base'), o200k_base: get_encoding('o200k_base') };
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'grapheme' }),
            fc.string({ unit: 'binary' }),
            fc.string({
              unit: fc.constantFrom(' ', '\n', '\r', '\t', 'a', 'A', "'", 'é', '1', '🙂', '\u200d', '\u00a0', 's'),
            }),
          ),
          fc.constantFrom('cl100k_base', 'o200k_base') as fc.Arbitrary<'cl100k_base' | 'o200k_base'>,
          (text, encoding) => {
            const ids = m2m.encode(text, encoding);
            expect(Array.from(ids)).toEqual(Array.from(ref[encoding].encode_ordinary(text)));
            expect(m2m.decode(ids, encoding)).toBe(text.isWellFormed() ? text : text.toWellFormed());
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('treats special-token text as plain text unless allowed', () => {
      m2m.useBackend(kind);
      const text = 'a<|endoftext|>b';
      expect(Array.from(m2m.encode(text, 'cl100k_base'))).not.toContain(100257);
      expect(Array.from(m2m.encode(text, 'cl100k_base', { allowedSpecial: 'all' }))).toContain(100257);
      expect(Array.from(m2m.encode(text, 'cl100k_base', { allowedSpecial: ['<|fim_prefix|>'] }))).not.toContain(100257);
      expect(Array.from(m2m.encode('<|endofprompt|>', 'o200k_base', { allowedSpecial: 'all' }))).toEqual([200018]);
      expect(Array.from(m2m.encode('<|eot_id|>', 'llama3', { allowedSpecial: 'all' }))).toEqual([128009]);
      expect(m2m.decode([128000, 9906], 'llama3')).toBe('<|begin_of_text|>Hello');
    });

    it('rejects unknown ids and ids that split a character, with no partial output', () => {
      m2m.useBackend(kind);
      const codeOf = (fn: () => unknown) => {
        try {
          fn();
        } catch (err) {
          return (err as M2MError).code;
        }
        return 'none';
      };
      expect(codeOf(() => m2m.decode([100256], 'cl100k_base'))).toBe('UNKNOWN_TOKEN');
      expect(codeOf(() => m2m.decode([300_000], 'o200k_base'))).toBe('UNKNOWN_TOKEN');
      // '🦊' is several byte-level tokens in cl100k: its first token alone is half a character.
      const fox = Array.from(m2m.encode('🦊', 'cl100k_base'));
      expect(fox.length).toBeGreaterThan(1);
      expect(codeOf(() => m2m.decode([fox[0] as number], 'cl100k_base'))).toBe('INVALID_UTF8');
      expect(m2m.decode(fox, 'cl100k_base')).toBe('🦊');
      expect(codeOf(() => m2m.encode('x', 'gpt2' as Encoding))).toBe('UNKNOWN_TOKENIZER');
      expect(codeOf(() => m2m.decode([-1], 'cl100k_base'))).toBe('INVALID_TOKEN_ID');
    });
  });
}

describe('worst cases stay fast (no quadratic blow-up)', () => {
  // Correctness on 1 MB pathological inputs; a quadratic merge would not finish
  // within the test timeout. Throughput is reported by bench/tokenize.ts.
  const MB = 1 << 20;
  const inputs: [string, string][] = [
    ['no spaces', 'abcdefghij'.repeat(MB / 10)],
    ['one repeated character', 'a'.repeat(MB)],
    [
      'random code points',
      Array.from({ length: MB / 4 }, (_, i) => String.fromCodePoint(0x20 + ((i * 2654435761) % 0xd000))).join(''),
    ],
  ];
  for (const [name, text] of inputs) {
    it(name, () => {
      for (const backend of Object.values(BACKENDS)) {
        backend.ensureEncoding('o200k_base');
        const ids = backend.encodeOrdinary(text, 'o200k_base');
        expect(backend.decodeTokens(ids, 'o200k_base')).toBe(text);
      }
    });
  }
});
