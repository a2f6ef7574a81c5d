/**
 * The cost of the Node boundary: m2m's public `encode()` and `countTokens()`
 * through the native addon against m2m-core's own `encode_ordinary` and
 * `count` on the same texts (cl100k_base). The core side is
 * `crates/m2m-core/examples/encode_calls.rs`, run as a child process between
 * the Node rounds; both sides time the best of five batches of calls, and the
 * table gives the median over the rounds. Ratio = core time / addon time (1.0:
 * the boundary costs nothing).
 *
 * Run: `npx tsx bench/boundary.ts [--quick]` (builds the example with cargo).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mixedScript } from '../scripts/mixed-script.mjs';
import { countTokens, encode } from '../ts/index.js';
import { chatPayloadOfSize } from './corpus.js';
import { hasTraffic, loadTraffic, sampleBySize } from './traffic-data.js';
import { mdHeader, mdRow, median, on } from './util.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const root = new URL('..', import.meta.url).pathname;

const inputs: [label: string, texts: string[]][] = [
  ['100 B chat JSON', [chatPayloadOfSize(100)]],
  ['1 KB chat JSON', [chatPayloadOfSize(1_000)]],
  ['10 KB chat JSON', [chatPayloadOfSize(10_000)]],
  ['1 KB mixed-script', [mixedScript(1_000)]],
];
if (hasTraffic()) {
  inputs.push(['real bodies 768–1280 B (64)', sampleBySize(loadTraffic(), 768, 1280, 64)]);
} else {
  console.error('../shared/data/traffic-dev is absent: the real-traffic row is left out');
}

/** Microseconds per call: the best of five batches of `calls` calls, cycling through `texts`. */
function bestOfFive(texts: string[], calls: number, fn: (text: string) => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  let next = 0;
  for (let batch = 0; batch < 5; batch++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) fn(texts[next++ % texts.length] as string);
    best = Math.min(best, ((performance.now() - start) * 1000) / calls);
  }
  return best;
}

/** The Rust example's batch size for the same input (examples/timing: ~4 MB per batch, 10 to 40,000 calls). */
function callsFor(bytes: number): number {
  return Math.min(40_000, Math.max(10, Math.floor(4_000_000 / Math.max(1, bytes))));
}

execFileSync('cargo', ['build', '-q', '--release', '-p', 'm2m-core', '--example', 'encode_calls'], {
  cwd: root,
  stdio: 'inherit',
});
const dir = mkdtempSync(join(tmpdir(), 'm2m-boundary-'));
const files = inputs.map(([, texts], i) => {
  const file = join(dir, `${i}.txt`);
  writeFileSync(file, texts.join('\0'));
  return file;
});
const bytesPerText = inputs.map(([, texts]) => Buffer.byteLength(texts.join('')) / texts.length);

const core = inputs.map(() => ({ encode: [] as number[], count: [] as number[] }));
const addon = inputs.map(() => ({ encode: [] as number[], count: [] as number[] }));
on('native', () => {
  for (let round = 0; round < ROUNDS; round++) {
    const out = execFileSync(join(root, 'target/release/examples/encode_calls'), files, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    out
      .trim()
      .split('\n')
      .forEach((line, i) => {
        const [, enc, count] = line.split('\t');
        core[i]?.encode.push(Number(enc));
        core[i]?.count.push(Number(count));
      });
    inputs.forEach(([, texts], i) => {
      const calls = callsFor(bytesPerText[i] as number);
      addon[i]?.encode.push(bestOfFive(texts, calls, (t) => encode(t, 'cl100k_base')));
      addon[i]?.count.push(bestOfFive(texts, calls, (t) => countTokens(t, 'cl100k_base')));
    });
  }
});
rmSync(dir, { recursive: true, force: true });

const us = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const lines = [
  `m2m-core against the native addon, cl100k_base, µs per call (median of ${ROUNDS} rounds, each the best of five batches); ratio = core / addon`,
  '',
  ...mdHeader(['input', 'core encode', 'addon encode()', 'ratio', 'core count', 'addon countTokens()', 'ratio']),
];
inputs.forEach(([label], i) => {
  const c = core[i] as { encode: number[]; count: number[] };
  const a = addon[i] as { encode: number[]; count: number[] };
  const [ce, ae, cc, ac] = [median(c.encode), median(a.encode), median(c.count), median(a.count)];
  lines.push(mdRow([label, us(ce), us(ae), `${(ce / ae).toFixed(2)}×`, us(cc), us(ac), `${(cc / ac).toFixed(2)}×`]));
});
console.log(lines.join('\n'));
