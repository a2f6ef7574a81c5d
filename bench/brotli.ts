/**
 * Brotli on real recorded traffic (`bench/traffic.ts`): m2m native and wasm
 * against node:zlib (C Brotli) at the same quality, per size class, from the
 * same JS string to the same wire string (compress) and back (decompress).
 * Each task runs over every body of its class (a deterministic sample), so a
 * ratio weighs the class's bodies as a server would see them. Checks that
 * native and wasm give identical bytes on every sampled body.
 *
 * Run: `npx tsx bench/brotli.ts [--quick] [--quality N]` (default quality 5,
 * m2m's default).
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { compress, decompress } from '../ts/index.js';
import { BODIES_FILE, hasTraffic, loadTraffic, sampleBySize, TRAFFIC_DIR, utf8Length } from './traffic-data.js';
import { measure, on, report } from './util.js';

const quick = process.argv.includes('--quick');
const qualityArg = process.argv.indexOf('--quality');
const QUALITY = qualityArg >= 0 ? Number(process.argv[qualityArg + 1]) : 5;
/** Size classes of real bodies: name, UTF-8 length range [min, max). */
const CLASSES: [name: string, min: number, max: number][] = [
  ['1 KB', 700, 1_500],
  ['3 KB', 2_000, 4_500],
  ['10 KB', 7_000, 15_000],
  ['30 KB', 20_000, 45_000],
  ['100 KB', 60_000, 160_000],
];
const PER_CLASS = quick ? 8 : 24;

if (!hasTraffic()) {
  console.error(`bench/brotli.ts needs the development corpus at ${TRAFFIC_DIR} (set M2M_TRAFFIC_DIR)`);
  process.exit(1);
}
const records = loadTraffic(TRAFFIC_DIR, [BODIES_FILE]);

console.log(`Brotli q${QUALITY} on real bodies (traffic-dev/${BODIES_FILE}), ratios vs node:zlib`);
const summary: string[] = [];
for (const [name, min, max] of CLASSES) {
  const bodies = sampleBySize(records, min, max, PER_CLASS);
  const bytes = bodies.reduce((n, b) => n + utf8Length(b), 0);
  const opts = (b: string) => ({
    params: { [constants.BROTLI_PARAM_QUALITY]: QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: utf8Length(b) },
  });
  const brotli = { algorithm: 'brotli', brotliQuality: QUALITY } as const;
  const wires = bodies.map((b) => on('native', () => compress(b, brotli)).wire);
  bodies.forEach((b, i) => {
    if (on('wasm', () => compress(b, brotli)).wire !== wires[i]) {
      throw new Error(`native and wasm Brotli differ on a ${utf8Length(b)} B body at q${QUALITY}`);
    }
  });
  const packed = wires.map((w) => Buffer.from(w.slice(4), 'base64'));
  const zlibBytes = bodies.reduce((n, b) => n + brotliCompressSync(b, opts(b)).length, 0);
  const oursBytes = packed.reduce((n, p) => n + p.length, 0);

  const rows = await measure(
    {
      'm2m native compress': () => bodies.map((b) => on('native', () => compress(b, brotli))),
      'm2m wasm compress': () => bodies.map((b) => on('wasm', () => compress(b, brotli))),
      'node:zlib compress': () => bodies.map((b) => `#BR|${brotliCompressSync(b, opts(b)).toString('base64')}`),
      'm2m native decompress': () => wires.map((w) => on('native', () => decompress(w))),
      'm2m wasm decompress': () => wires.map((w) => on('wasm', () => decompress(w))),
      'node:zlib decompress': () =>
        wires.map((w) => brotliDecompressSync(Buffer.from(w.slice(4), 'base64')).toString()),
    },
    quick ? 150 : 400,
  );
  const title = `${name} class: ${bodies.length} bodies, ${bytes} B in all (m2m ${oursBytes} B, node:zlib ${zlibBytes} B packed)`;
  report(`${title}, compress`, rows.slice(0, 3), 'node:zlib compress', bytes);
  report(`${title}, decompress`, rows.slice(3), 'node:zlib decompress', bytes);
  const mean = (n: string) => rows.find((r) => r.name === n)?.meanUs ?? Number.NaN;
  const x = (peer: string, ours: string) => (mean(peer) / mean(ours)).toFixed(2);
  summary.push(
    `| ${name} | ${bodies.length} | ${x('node:zlib compress', 'm2m native compress')}× | ${x('node:zlib compress', 'm2m wasm compress')}× | ${x('node:zlib decompress', 'm2m native decompress')}× | ${x('node:zlib decompress', 'm2m wasm decompress')}× | ${((100 * oursBytes) / zlibBytes).toFixed(1)}% |`,
  );
}
console.log(`\nSummary, Brotli q${QUALITY} against node:zlib (× = node:zlib's time / m2m's, higher is faster)\n`);
console.log(
  '| real bodies | count | compress native | compress wasm | decompress native | decompress wasm | size vs node:zlib |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const line of summary) console.log(line);
