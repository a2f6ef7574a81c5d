/**
 * How good is `compress(..., { algorithm: 'auto' })`? Compares, on realistic
 * traffic (bench/corpus.ts), the bytes auto saves with an oracle that runs
 * every lossless algorithm and keeps the smallest in hindsight, and the time
 * each takes. Run: `npx tsx bench/auto.ts [--backend native|wasm] [--tokens]`.
 */
import { parseArgs } from 'node:util';
import { ALGORITHMS, type Algorithm, compress, decompress, useBackend } from '../ts/index.js';
import { traffic } from './corpus.js';
import { median } from './util.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    tokens: { type: 'boolean', default: false },
    count: { type: 'string', default: '2000' },
  },
});
useBackend(values.backend as 'native' | 'wasm');
const optimize = values.tokens ? 'tokens' : 'bytes';
const items = traffic(Number(values.count));

function size(r: { wireBytes: number; wireTokens?: number }): number {
  return optimize === 'tokens' ? (r.wireTokens as number) : r.wireBytes;
}

function oracle(content: string) {
  let best: { algorithm: Algorithm; size: number } | undefined;
  for (const algorithm of ALGORITHMS) {
    try {
      const r = compress(content, { algorithm, omitDefaults: false, countTokens: optimize === 'tokens' });
      if (decompress(r.wire) !== content) continue; // only lossless outcomes count
      if (!best || size(r) < best.size) best = { algorithm, size: size(r) };
    } catch {
      // not applicable (e.g. T1 on non-JSON, passthrough of prefixed text)
    }
  }
  return best as { algorithm: Algorithm; size: number };
}

const autoSaved: number[] = [];
const oracleSaved: number[] = [];
const picks = new Map<string, number>();
let agree = 0;
let tAuto = 0;
let tOracle = 0;
for (const { content } of items) {
  const original =
    optimize === 'tokens'
      ? (compress(content, { algorithm: 'none', countTokens: true }).wireTokens as number)
      : compress(content, { algorithm: 'none' }).wireBytes;
  let t = performance.now();
  const auto = compress(content, { algorithm: 'auto', optimize });
  tAuto += performance.now() - t;
  if (decompress(auto.wire) !== content) throw new Error('auto was not lossless');
  t = performance.now();
  const best = oracle(content);
  tOracle += performance.now() - t;
  const autoSize =
    optimize === 'tokens'
      ? (compress(content, { algorithm: auto.algorithm, countTokens: true }).wireTokens as number)
      : auto.wireBytes;
  autoSaved.push((100 * (original - autoSize)) / original);
  oracleSaved.push((100 * (original - best.size)) / original);
  picks.set(
    `${auto.algorithm} (oracle ${best.algorithm})`,
    (picks.get(`${auto.algorithm} (oracle ${best.algorithm})`) ?? 0) + 1,
  );
  if (auto.algorithm === best.algorithm) agree++;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`backend ${values.backend}, optimise ${optimize}, ${items.length} messages`);
console.log(
  `median saved: auto ${median(autoSaved).toFixed(2)}%  oracle ${median(oracleSaved).toFixed(2)}%  gap ${(median(oracleSaved) - median(autoSaved)).toFixed(2)} points`,
);
console.log(`mean saved:   auto ${mean(autoSaved).toFixed(2)}%  oracle ${mean(oracleSaved).toFixed(2)}%`);
console.log(`auto picked the oracle's algorithm for ${((100 * agree) / items.length).toFixed(1)}% of messages`);
console.log(
  `time: auto ${((1000 * tAuto) / items.length).toFixed(1)} µs/msg, oracle (all algorithms + checks) ${((1000 * tOracle) / items.length).toFixed(1)} µs/msg`,
);
for (const [k, v] of [...picks].sort((a, b) => b[1] - a[1])) console.log(`  ${String(v).padStart(5)}  ${k}`);
