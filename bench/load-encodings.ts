/**
 * Load time and memory of each encoding's rank data, per backend, in a fresh
 * process each. Run: `npx tsx bench/load-encodings.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mdHeader, mdRow } from './util.js';

const child = `
const m2m = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
const [kind, encoding] = process.argv.slice(1);
const b = m2m.loadBackend(kind);
globalThis.gc?.();
const rss0 = process.memoryUsage().rss, ext0 = process.memoryUsage().arrayBuffers;
const t = performance.now();
b.ensureEncoding(encoding);
const ms = performance.now() - t;
b.encodeOrdinary('warm up', encoding);
globalThis.gc?.();
const mu = process.memoryUsage();
console.log(JSON.stringify({ ms, rssMiB: (mu.rss - rss0) / 2 ** 20 }));
`;
for (const line of mdHeader(['backend', 'encoding', 'load ms', 'RSS growth MiB'])) console.log(line);
for (const kind of ['native', 'wasm']) {
  for (const encoding of ['cl100k_base', 'o200k_base', 'llama3']) {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', child, kind, encoding], {
      encoding: 'utf8',
    });
    const r = JSON.parse(out) as { ms: number; rssMiB: number };
    console.log(mdRow([kind, encoding, r.ms.toFixed(1), r.rssMiB.toFixed(1)]));
  }
}
