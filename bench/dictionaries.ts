/**
 * Trained dictionaries (`#BD|`) on the held-out split of the development
 * corpus: the messages of the repositories scripts/gen-dictionaries.mjs did
 * not train on. Per family (Chat Completions requests, responses, SSE
 * events), message by message: bytes saved (percent of the original) by
 * today's stateless auto and by auto with `dictionaries: true`, median and
 * p10/p90; how much smaller the wire is than today's auto; and the time per
 * message of both (compress, and decompress), as a ratio.
 *
 * Run: `npx tsx bench/dictionaries.ts [--backend native|wasm] [--write]`
 * (`--write` saves the table to bench/results/dictionaries.md). Needs
 * build/dictionaries/ (`node scripts/gen-dictionaries.mjs`).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CORPUS_DIR, isHeldOut, loadFamilies } from '../scripts/gen-dictionaries.mjs';
import { backend } from '../ts/core/backend.js';
import { utf8Length } from '../ts/core/utf8.js';
import { compress, decompress, useBackend } from '../ts/index.js';
import { mdHeader, mdRow } from './util.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    write: { type: 'boolean', default: false },
  },
});
useBackend(values.backend as 'native' | 'wasm');
const core = backend();

/** `sorted[floor(f*(n-1)+0.5)]`, the corpus README's quantile. */
function quantile(xs: readonly number[], f: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(f * (s.length - 1) + 0.5)] as number;
}

function timePerMessage(bodies: readonly string[], fn: (s: string) => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 5; rep++) {
    const start = process.hrtime.bigint();
    for (const b of bodies) fn(b);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / bodies.length);
  }
  return best;
}

const families = loadFamilies(CORPUS_DIR) as Record<string, { repo: string; body: string }[]>;
const names: Record<string, string> = { req: 'chat requests', res: 'chat responses', sse: 'SSE events' };
const lines: string[] = [];
const out = (line: string) => {
  lines.push(line);
  console.log(line);
};
out(
  `Held-out split (${Object.keys(families).length} families; repositories scripts/gen-dictionaries.mjs holds out), backend ${core.kind}`,
);
out('');
for (const line of mdHeader([
  'family',
  'messages',
  'median bytes',
  'auto saved median',
  'auto p10 / p90',
  '+dict saved median',
  '+dict p10 / p90',
  'wire vs auto median (p90)',
  'compress time ×',
  'decompress time ×',
]))
  out(line);
for (const [family, docs] of Object.entries(families)) {
  const bodies = docs.filter((d) => isHeldOut(d.repo)).map((d) => d.body);
  const auto = bodies.map((b) => compress(b).wire);
  const dict = bodies.map((b) => compress(b, { dictionaries: true }).wire);
  const saved = (wires: string[]) => wires.map((w, i) => 100 * (1 - utf8Length(w) / utf8Length(bodies[i] as string)));
  dict.forEach((w, i) => {
    if (decompress(w) !== bodies[i]) throw new Error(`${family} ${i}: not a round trip`);
    if (utf8Length(w) > utf8Length(bodies[i] as string)) throw new Error(`${family} ${i}: longer than the input`);
  });
  const a = saved(auto);
  const d = saved(dict);
  // How much smaller the dictionary wire is than today's auto wire.
  const vsAuto = dict.map((w, i) => 100 * (1 - utf8Length(w) / utf8Length(auto[i] as string)));
  const tAuto = timePerMessage(bodies, (b) => compress(b));
  const tDict = timePerMessage(bodies, (b) => compress(b, { dictionaries: true }));
  const dAuto = timePerMessage(auto, (w) => decompress(w));
  const dDict = timePerMessage(dict, (w) => decompress(w));
  const f = (x: number) => `${x.toFixed(1)}%`;
  out(
    mdRow([
      names[family] ?? family,
      String(bodies.length),
      String(quantile(bodies.map(utf8Length), 0.5)),
      f(quantile(a, 0.5)),
      `${f(quantile(a, 0.1))} / ${f(quantile(a, 0.9))}`,
      f(quantile(d, 0.5)),
      `${f(quantile(d, 0.1))} / ${f(quantile(d, 0.9))}`,
      `${f(quantile(vsAuto, 0.5))} smaller (${f(quantile(vsAuto, 0.9))})`,
      `${(tDict / tAuto).toFixed(2)}× (${tAuto.toFixed(0)} → ${tDict.toFixed(0)} µs)`,
      `${(dDict / dAuto).toFixed(2)}× (${dAuto.toFixed(0)} → ${dDict.toFixed(0)} µs)`,
    ]),
  );
}
out('');
out(`Dictionaries: ${core.loadedDictionaries().join(', ')}`);
if (values.write) writeFileSync(new URL('./results/dictionaries.md', import.meta.url), `${lines.join('\n')}\n`);
