/**
 * The scanner's classifier (in the Rust core) against the rules layer (in
 * TypeScript), on the same texts in one process: the classifier alone through
 * each backend, and `scan()` with and without it. Texts: English prose and
 * source code from bench/texts.ts (1 KB, 10 KB, 1 MB), a chat request of
 * 10 KB (bench/corpus.ts). Throughput is UTF-8 MB/s of input.
 *
 * Run: npx tsx bench/classify.ts
 */
import { Bench } from 'tinybench';
import { BACKENDS } from '../test/helpers.js';
import { scan } from '../ts/security.js';
import { chatPayloadOfSize } from './corpus.js';
import { prose, sourceCode } from './texts.js';

const texts: Record<string, string> = {
  '1 KB prose': prose(1024),
  '10 KB prose': prose(10 * 1024),
  '10 KB code': sourceCode(10 * 1024),
  '1 MB prose': prose(1 << 20),
  '10 KB chat JSON': chatPayloadOfSize(10 * 1024),
};
const bytes = (s: string) => Buffer.byteLength(s);

const start = performance.now();
BACKENDS.native.classifyText('load the weights');
const loadMs = performance.now() - start;

const bench = new Bench({ time: 1000, warmupTime: 200 });
for (const [name, text] of Object.entries(texts)) {
  bench.add(`classifier native | ${name}`, () => BACKENDS.native.classifyText(text));
  bench.add(`classifier wasm   | ${name}`, () => BACKENDS.wasm.classifyText(text));
  if (name !== '1 MB prose') {
    bench.add(`scan rules only   | ${name}`, () => scan(text, { model: false }));
    bench.add(`scan rules+model  | ${name}`, () => scan(text));
  }
}
await bench.run();
const rows = bench.tasks.map((t) => {
  const res = t.result as unknown as { latency?: { mean: number } } | undefined;
  const ms = res?.latency?.mean ?? Number.NaN;
  const name = t.name.split('| ')[1] as string;
  return {
    task: t.name,
    'mean (ms)': Number(ms.toFixed(4)),
    'MB/s': Number((bytes(texts[name] as string) / ms / 1000).toFixed(1)),
  };
});
console.log(`first classifier call (parses and checks the weights, native): ${loadMs.toFixed(1)} ms`);
console.table(rows);
