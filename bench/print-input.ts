/**
 * Writes one of the tokenizer benchmark's inputs to stdout, so that the Rust
 * benchmark (crates/m2m-bench) times the very strings bench/tokenize.ts does.
 *
 * Run: `npx tsx bench/print-input.ts NAME [COUNT]`, NAME one of `chat-1k`,
 * `chat-10k`, `prose`, `code`, `mixed-1k`, `mixed-1m`, or a pool of COUNT
 * distinct texts (seeds 1000, 1001, ...) separated by NUL: `mixed-1k-pool`,
 * `mixed-1m-pool`, `latin-1k-pool`.
 */
import { mixedScript } from '../scripts/mixed-script.mjs';
import { chatPayloadOfSize } from './corpus.js';
import { prose, sourceCode } from './texts.js';

/** A pool of `count` distinct generated texts of `bytes` each (cache-cold inputs). */
export function pool(count: number, bytes: number, latin = false): string[] {
  return Array.from({ length: count }, (_, i) => mixedScript(bytes, 1000 + i, latin));
}

const INPUTS: Record<string, (count: number) => string | string[]> = {
  'chat-1k': () => chatPayloadOfSize(1_000),
  'chat-10k': () => chatPayloadOfSize(10_000),
  prose: () => prose(),
  code: () => sourceCode(),
  'mixed-1k': () => mixedScript(1_000),
  'mixed-1m': () => mixedScript(1 << 20),
  'mixed-1k-pool': (n) => pool(n, 1_000),
  'mixed-1m-pool': (n) => pool(n, 1 << 20),
  'latin-1k-pool': (n) => pool(n, 1_000, true),
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const [name = '', count = '1'] = process.argv.slice(2);
  const make = INPUTS[name];
  if (!make) throw new Error(`unknown input ${JSON.stringify(name)}; one of ${Object.keys(INPUTS).join(', ')}`);
  const value = make(Number(count));
  process.stdout.write(Array.isArray(value) ? value.join('\0') : value);
}
