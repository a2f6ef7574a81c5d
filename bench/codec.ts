/**
 * Codec latency, native and wasm, for ~100 B, 1 KB, 10 KB and 100 KB chat
 * payloads; Brotli against node:zlib (C Brotli) and brotli-wasm at the same
 * quality, with each one's compressed size. Run: `npx tsx bench/codec.ts [--quick]`.
 */

import { createRequire } from 'node:module';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { type Algorithm, compress, decompress } from '../ts/index.js';
import { chatPayloadOfSize } from './corpus.js';
import { measure, on, report } from './util.js';

const require = createRequire(import.meta.url);
const brotliWasm = require('brotli-wasm') as {
  compress(b: Uint8Array, o?: { quality?: number }): Uint8Array;
  decompress(b: Uint8Array): Uint8Array;
};
const quick = process.argv.includes('--quick');
const sizes = quick ? [1_000, 100_000] : [100, 1_000, 10_000, 100_000];
const algorithms: (Algorithm | 'auto')[] = ['auto', 'token-native', 'token', 'brotli', 'dictionary'];
const QUALITY = 5;

for (const size of sizes) {
  const text = chatPayloadOfSize(size);
  const tasks: Record<string, () => unknown> = {};
  for (const kind of ['native', 'wasm'] as const) {
    for (const algorithm of algorithms) {
      const wire = on(kind, () => compress(text, { algorithm })).wire;
      tasks[`${kind} compress ${algorithm}`] = () => on(kind, () => compress(text, { algorithm }));
      tasks[`${kind} decompress ${algorithm}`] = () => on(kind, () => decompress(wire));
    }
  }
  report(
    `compress/decompress, ${size} B chat payload`,
    await measure(tasks, quick ? 150 : 300),
    'native compress auto',
  );

  const bytes = Buffer.from(text);
  const opts = {
    params: { [constants.BROTLI_PARAM_QUALITY]: QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  };
  const zlibPacked = brotliCompressSync(bytes, opts);
  const wasmPacked = brotliWasm.compress(bytes, { quality: QUALITY });
  const sizesLine = {
    native: on('native', () => compress(text, { algorithm: 'brotli', brotliQuality: QUALITY })).wire,
    wasm: on('wasm', () => compress(text, { algorithm: 'brotli', brotliQuality: QUALITY })).wire,
  };
  if (sizesLine.native !== sizesLine.wasm) throw new Error('native and wasm Brotli differ');
  const ours = Buffer.from(sizesLine.native.slice(4), 'base64');
  console.log(
    `  Brotli q${QUALITY} sizes: m2m ${ours.length} B, node:zlib ${zlibPacked.length} B, brotli-wasm ${wasmPacked.length} B (of ${bytes.length} B)`,
  );
  const rows = await measure(
    {
      'm2m native brotli': () => on('native', () => compress(text, { algorithm: 'brotli', brotliQuality: QUALITY })),
      // Peers start from the same JS string and end with the same wire string as m2m.
      'node:zlib brotli (+base64)': () => `#BR|${brotliCompressSync(text, opts).toString('base64')}`,
      'm2m wasm brotli': () => on('wasm', () => compress(text, { algorithm: 'brotli', brotliQuality: QUALITY })),
      'brotli-wasm (+base64)': () =>
        `#BR|${Buffer.from(brotliWasm.compress(Buffer.from(text), { quality: QUALITY })).toString('base64')}`,
      'm2m native unbrotli': () => on('native', () => decompress(sizesLine.native)),
      'node:zlib unbrotli (+base64)': () =>
        brotliDecompressSync(Buffer.from(sizesLine.native.slice(4), 'base64')).toString(),
      'm2m wasm unbrotli': () => on('wasm', () => decompress(sizesLine.native)),
      'brotli-wasm unbrotli (+base64)': () =>
        Buffer.from(brotliWasm.decompress(Buffer.from(sizesLine.native.slice(4), 'base64'))).toString(),
    },
    quick ? 150 : 300,
  );
  report(`Brotli q${QUALITY} vs peers, ${size} B`, rows, 'node:zlib brotli (+base64)', size);
}
