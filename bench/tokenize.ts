/**
 * Tokenizer speed: m2m (native and wasm) against tiktoken (wasm), js-tiktoken
 * and gpt-tokenizer for cl100k_base and o200k_base, and llama3-tokenizer-js
 * for Llama 3, on the same inputs in one process. Ids are checked equal first.
 * Run: `npx tsx bench/tokenize.ts [--quick]`.
 */
import { createRequire } from 'node:module';
import { Tiktoken as JsTiktoken } from 'js-tiktoken/lite';
import llama3 from 'llama3-tokenizer-js';
import { get_encoding } from 'tiktoken';
import { loadBackend } from '../ts/index.js';
import { chatPayloadOfSize } from './corpus.js';
import { measure, report } from './util.js';

const require = createRequire(import.meta.url);
const quick = process.argv.includes('--quick');
const native = loadBackend('native');
const wasm = loadBackend('wasm');
for (const b of [native, wasm]) for (const e of ['cl100k_base', 'o200k_base', 'llama3']) b.ensureEncoding(e);

const peers = {
  cl100k_base: {
    tiktoken: get_encoding('cl100k_base'),
    jsTiktoken: new JsTiktoken(require('js-tiktoken/ranks/cl100k_base')),
    gptTokenizer: require('gpt-tokenizer/cjs/encoding/cl100k_base'),
  },
  o200k_base: {
    tiktoken: get_encoding('o200k_base'),
    jsTiktoken: new JsTiktoken(require('js-tiktoken/ranks/o200k_base')),
    gptTokenizer: require('gpt-tokenizer/cjs/encoding/o200k_base'),
  },
};

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((x, i) => x === b[i]);
const sizes = quick ? [1_000, 100_000] : [100, 1_000, 10_000, 100_000];

for (const size of sizes) {
  const text = chatPayloadOfSize(size);
  for (const encoding of ['cl100k_base', 'o200k_base'] as const) {
    const p = peers[encoding];
    const ids = native.encodeOrdinary(text, encoding);
    const checks = {
      wasm: wasm.encodeOrdinary(text, encoding),
      tiktoken: p.tiktoken.encode_ordinary(text),
      'js-tiktoken': p.jsTiktoken.encode(text),
      'gpt-tokenizer': p.gptTokenizer.encode(text),
    };
    for (const [name, other] of Object.entries(checks))
      if (!same(ids, other)) throw new Error(`${name} ids differ (${encoding}, ${size} B)`);
    const rows = await measure({
      'm2m native': () => native.encodeOrdinary(text, encoding),
      'm2m wasm': () => wasm.encodeOrdinary(text, encoding),
      'tiktoken (wasm)': () => p.tiktoken.encode_ordinary(text),
      'js-tiktoken': () => p.jsTiktoken.encode(text),
      'gpt-tokenizer': () => p.gptTokenizer.encode(text),
    });
    report(`encode ${encoding}, ${size} B chat payload`, rows, 'tiktoken (wasm)', size);
  }
  const ids = native.encodeOrdinary(text, 'llama3');
  if (!same(ids, llama3.encode(text, { bos: false, eos: false }))) throw new Error(`llama3 ids differ (${size} B)`);
  const rows = await measure({
    'm2m native': () => native.encodeOrdinary(text, 'llama3'),
    'm2m wasm': () => wasm.encodeOrdinary(text, 'llama3'),
    'llama3-tokenizer-js': () => llama3.encode(text, { bos: false, eos: false }),
  });
  report(`encode llama3, ${size} B chat payload`, rows, 'llama3-tokenizer-js', size);
}
