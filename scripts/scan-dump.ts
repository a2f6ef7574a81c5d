/**
 * Writes every scan result over the real texts beside the checkout, one JSON line per input, so
 * two versions of the scanner can be compared exactly (`diff` of two dumps): every text of
 * ../shared/data/security-train (as it is, inside a chat request, and mutated with the evasions
 * the normaliser undoes), and every body and SSE event of ../shared/data/traffic-dev.
 *
 * Run: `npx tsx scripts/scan-dump.ts OUT.jsonl`, in each checkout, then `cmp A.jsonl B.jsonl`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadTraffic, TRAFFIC_DIR } from '../bench/traffic-data.js';
import { scan, scanMessages } from '../ts/security.js';

const out = process.argv[2];
if (!out) throw new Error('usage: npx tsx scripts/scan-dump.ts OUT.jsonl');
const TRAIN = resolve(TRAFFIC_DIR, '../security-train/train.jsonl');

/** A deterministic mutation: case changes, zero-width characters, homoglyphs, leetspeak, split letters. */
function mutate(text: string, seed: number): string {
  let s = seed >>> 0 || 1;
  const r = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const SWAP: Record<string, string> = { a: 'а', e: 'е', o: 'о', i: '1', s: '$', t: '7' };
  let o = '';
  for (const ch of text) {
    const x = r();
    if (x < 0.03) o += `${ch}\u200b`;
    else if (x < 0.06 && SWAP[ch]) o += SWAP[ch];
    else if (x < 0.08) o += ch.toUpperCase();
    else if (x < 0.09) o += `${ch} `;
    else if (x < 0.095) o += `${ch}.`;
    else o += ch;
  }
  return o;
}

const lines: string[] = [];
const record = (name: string, result: ReturnType<typeof scan>) => {
  lines.push(JSON.stringify({ name, safe: result.safe, bytes: result.scannedBytes, threats: result.threats }));
};
const train = readFileSync(TRAIN, 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => (JSON.parse(l) as { text: string }).text);
train.forEach((text, i) => {
  record(`train ${i}`, scan(text));
  record(`train ${i} chat`, scan(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: text }] })));
  record(`train ${i} mutated`, scan(mutate(text, i + 1)));
  const parts = text.split(/(?<=[.!?\n])\s+/).slice(0, 6);
  if (parts.length > 1)
    record(`train ${i} messages`, scanMessages(parts.map((content) => ({ role: 'user', content }))));
});
loadTraffic().forEach((r, i) => {
  record(`traffic ${i} ${r.kind}`, scan(r.body));
});
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`${lines.length} scans written to ${out}`);
