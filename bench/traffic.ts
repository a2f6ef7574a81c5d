/**
 * Auto on real traffic: for every kind of message in the development corpus
 * (bench/traffic-data.ts), the median and p90 of bytes and tokens saved by
 * `compress()`'s auto, by an oracle (the best lossless outcome per message
 * among every algorithm and every Brotli quality, in hindsight), and by each
 * algorithm alone; how often auto matches the oracle's size; and the time
 * per message of auto beside node:zlib's Brotli (the peer a user would call
 * instead) at quality 5 and at 11 (the reference's quality).
 *
 * Run: `npx tsx bench/traffic.ts [--backend native|wasm] [--write] [--time-only]`
 * (`--write` saves the tables to bench/results/traffic.md; `--time-only`
 * prints only the time per message, e.g. for the wasm backend).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants } from 'node:zlib';
import { decodeT1, encodeT1 } from '../ts/codec/t1.js';
import { backend } from '../ts/core/backend.js';
import { utf8Length } from '../ts/core/utf8.js';
import { compress, decompress, useBackend } from '../ts/index.js';
import { byKind, hasTraffic, loadTraffic, TRAFFIC_DIR } from './traffic-data.js';
import { mdHeader, mdRow } from './util.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    write: { type: 'boolean', default: false },
    dump: { type: 'string' },
    'time-only': { type: 'boolean', default: false },
  },
});
if (!hasTraffic()) {
  console.error(`bench/traffic.ts: the development corpus is not at ${TRAFFIC_DIR} (set M2M_TRAFFIC_DIR)`);
  process.exit(1);
}
const kindName = values.backend as 'native' | 'wasm';
useBackend(kindName);
const core = backend();
const ENCODING = 'cl100k_base';
core.ensureEncoding(ENCODING);

/** `sorted[floor(f*(n-1)+0.5)]`, the corpus README's quantile. */
function quantile(xs: readonly number[], f: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(f * (s.length - 1) + 0.5)] as number;
}

const pct = (saved: number, of: number) => (of === 0 ? 0 : (100 * saved) / of);

/** The wire forms every candidate produces, lossless ones only (undefined: not applicable or not exact). */
function candidates(content: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  out.none = core.hasWirePrefix(content) ? undefined : content;
  out['token-native'] = core.compressTokenNative(content, ENCODING);
  out.dictionary = core.compressDictionary(content);
  let t1: string | undefined;
  try {
    const wire = encodeT1(content, { omitDefaults: false });
    if (decodeT1(wire) === content) t1 = wire;
  } catch {
    // not JSON T1 can carry
  }
  out.token = t1;
  for (let q = 0; q <= 11; q++) out[`brotli-q${q}`] = core.compressBrotli(content, q, false);
  return out;
}

const COLUMNS = ['token-native', 'token', 'dictionary', 'brotli-q5', 'brotli-q11'] as const;

interface KindStats {
  n: number;
  bytes: Record<string, number[]>;
  tokens: Record<string, number[]>;
  agree: number;
  picks: Map<string, number>;
}

const groups = byKind(loadTraffic());
const stats = new Map<string, KindStats>();
const dump: unknown[] = [];
for (const [kind, bodies] of values['time-only'] ? [] : groups) {
  const s: KindStats = { n: bodies.length, bytes: {}, tokens: {}, agree: 0, picks: new Map() };
  const push = (rec: Record<string, number[]>, k: string, v: number) => {
    const xs = rec[k] ?? [];
    rec[k] = xs;
    xs.push(v);
  };
  for (const content of bodies) {
    const bytes = utf8Length(content);
    const tokens = core.countTokens(content, ENCODING);
    const cands = candidates(content);
    let bestBytes = Number.POSITIVE_INFINITY;
    let bestTokens = Number.POSITIVE_INFINITY;
    const sizes: Record<string, [number, number]> = {};
    for (const [name, wire] of Object.entries(cands)) {
      if (wire === undefined) continue;
      const b = utf8Length(wire);
      const t = core.countTokens(wire, ENCODING);
      sizes[name] = [b, t];
      bestBytes = Math.min(bestBytes, b);
      bestTokens = Math.min(bestTokens, t);
    }
    // Only lossless outcomes count; never larger than the input when passthrough applies.
    push(s.bytes, 'oracle', pct(bytes - bestBytes, bytes));
    push(s.tokens, 'oracle', pct(tokens - bestTokens, tokens));
    for (let q = 0; q <= 11; q++) {
      const size = sizes[`brotli-q${q}`] as [number, number];
      push(s.bytes, `brotli-q${q}`, pct(bytes - size[0], bytes));
    }
    for (const c of COLUMNS) {
      const size = sizes[c];
      push(s.bytes, c, size ? pct(bytes - size[0], bytes) : 0);
      push(s.tokens, c, size ? pct(tokens - size[1], tokens) : 0);
    }
    const auto = compress(content);
    if (decompress(auto.wire) !== content) throw new Error(`auto was not lossless on a ${kind} body`);
    push(s.bytes, 'auto', pct(bytes - auto.wireBytes, bytes));
    push(s.bytes, 'auto-min0', pct(bytes - compress(content, { minSize: 0 }).wireBytes, bytes));
    push(s.tokens, 'auto', pct(tokens - core.countTokens(auto.wire, ENCODING), tokens));
    const autoT = compress(content, { optimize: 'tokens' });
    push(s.tokens, 'auto-tokens', pct(tokens - (autoT.wireTokens as number), tokens));
    if (auto.wireBytes === bestBytes) s.agree++;
    const oracleName = Object.entries(sizes).find(([, v]) => v[0] === bestBytes)?.[0] ?? '?';
    const key = `${auto.algorithm} (oracle ${oracleName})`;
    s.picks.set(key, (s.picks.get(key) ?? 0) + 1);
    if (values.dump) dump.push({ kind, bytes, tokens, sizes, auto: [auto.algorithm, auto.wireBytes] });
  }
  stats.set(kind, s);
}
if (values.dump) writeFileSync(values.dump, JSON.stringify(dump));

/** Mean µs per message of `fn` over `bodies`, best of several rounds (these machines are noisy). */
function timePerMessage(bodies: readonly string[], fn: (c: string) => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  const t0 = performance.now();
  for (let round = 0; round < 3 || performance.now() - t0 < 300; round++) {
    const t = performance.now();
    for (const c of bodies) fn(c);
    best = Math.min(best, performance.now() - t);
    if (round >= 50) break;
  }
  return (1000 * best) / bodies.length;
}
const zlibBrotli = (q: number) => (c: string) =>
  brotliCompressSync(c, {
    params: { [constants.BROTLI_PARAM_QUALITY]: q, [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(c) },
  });

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  console.log(line);
};
const f1 = (x: number) => x.toFixed(1);
out(`# Auto on real traffic (${kindName} backend)`);
out();
const timeOnly = values['time-only'];
if (!timeOnly) {
  out(
    `Corpus: ${[...stats.values()].reduce((a, s) => a + s.n, 0)} bodies of the development corpus (real recorded traffic, \`../shared/data/traffic-dev\`). ` +
      'Bytes saved are UTF-8 bytes of the wire against the body; tokens are cl100k_base tokens of the wire against the body. ' +
      'Oracle: the smallest lossless outcome per message among TokenNative, T1 (only when it decodes to exactly the body), Dictionary, Brotli at every quality 0–11 and passthrough. ' +
      'Quantiles are `sorted[floor(f·(n−1)+0.5)]`.',
  );
  out();
  out('## Bytes saved, median / p90 (%)');
  out();
  const byteCols = ['auto', 'oracle', 'auto-min0', ...COLUMNS];
  const byteHead = byteCols.map((c) => (c === 'auto-min0' ? 'auto, minSize 0' : c));
  for (const l of mdHeader(['kind', 'n', ...byteHead, 'auto = oracle'])) out(l);
  for (const [kind, s] of stats) {
    const cells = byteCols.map(
      (c) => `${f1(quantile(s.bytes[c] ?? [], 0.5))} / ${f1(quantile(s.bytes[c] ?? [], 0.9))}`,
    );
    out(mdRow([kind, s.n, ...cells, `${f1((100 * s.agree) / s.n)}%`]));
  }
  out();
  out('## Brotli alone by quality: median bytes saved (%)');
  out();
  const qualities = Array.from({ length: 12 }, (_, q) => `brotli-q${q}`);
  for (const l of mdHeader(['kind', ...qualities.map((q) => q.slice(7))])) out(l);
  for (const [kind, s] of stats) out(mdRow([kind, ...qualities.map((q) => f1(quantile(s.bytes[q] ?? [], 0.5)))]));
  out();
  out('## Tokens saved, median / p90 (%)');
  out();
  out('`auto` optimises bytes (the default); `auto (tokens)` is `optimize: "tokens"`.');
  out();
  const tokenCols = ['auto', 'auto-tokens', 'oracle', ...COLUMNS];
  for (const l of mdHeader(['kind', ...tokenCols.map((c) => (c === 'auto-tokens' ? 'auto (tokens)' : c))])) out(l);
  for (const [kind, s] of stats) {
    const cells = tokenCols.map(
      (c) => `${f1(quantile(s.tokens[c] ?? [], 0.5))} / ${f1(quantile(s.tokens[c] ?? [], 0.9))}`,
    );
    out(mdRow([kind, ...cells]));
  }
  out();
}
out('## Time per message (µs, mean; best of several rounds)');
out();
for (const l of mdHeader([
  'kind',
  'mean bytes',
  'auto',
  'zlib Brotli q5',
  'zlib Brotli q11',
  'auto ÷ zlib q5',
  'zlib q11 ÷ auto',
]))
  out(l);
const timeRow = (label: string, bodies: string[]) => {
  const a = timePerMessage(bodies, (c) => compress(c));
  const z5 = timePerMessage(bodies, zlibBrotli(5));
  const z11 = timePerMessage(bodies, zlibBrotli(11));
  const mean = bodies.reduce((x, c) => x + utf8Length(c), 0) / bodies.length;
  out(mdRow([label, Math.round(mean), f1(a), f1(z5), f1(z11), `${f1(a / z5)}×`, `${f1(z11 / a)}×`]));
};
if (!timeOnly) for (const [kind, bodies] of groups) timeRow(kind, bodies);
const all = [...groups.values()].flat();
timeRow(
  '1 KB messages (768–1280 B)',
  all.filter((c) => utf8Length(c) >= 768 && utf8Length(c) <= 1280),
);
timeRow(
  '10 KB messages (8–12 KB)',
  all.filter((c) => utf8Length(c) >= 8192 && utf8Length(c) <= 12288),
);
out();
if (!timeOnly) out('## What auto picked (oracle in brackets), per kind');
if (!timeOnly) out();
for (const [kind, s] of stats) {
  const top = [...s.picks].sort((a, b) => b[1] - a[1]).slice(0, 6);
  out(`- ${kind}: ${top.map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
if (values.write) writeFileSync(new URL('./results/traffic.md', import.meta.url), `${lines.join('\n')}\n`);
