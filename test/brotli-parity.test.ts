// Native and wasm Brotli give identical bytes at every quality (0-11) on real
// recorded traffic (../shared/data/traffic-dev, beside the repository): a
// deterministic sample of bodies of every size, the largest included, and of
// single SSE events (the small messages auto compresses at quality 10; auto's
// own settings are compared on every body in test/traffic.test.ts). Both
// backends are compared in one process, so the suite runs it once (in the
// M2M_BACKEND=native pass) rather than twice. Without the corpus it is
// skipped with a message, except under CI=true, where that fails
// (sharedPath).
import { describe, expect, it } from 'vitest';
import { BODIES_FILE, loadTraffic, SSE_EVENTS_FILE, utf8Length } from '../bench/traffic-data.js';
import { BACKENDS, sharedPath } from './helpers.js';

const corpus = sharedPath('data/traffic-dev');
const records = corpus === undefined ? undefined : loadTraffic(corpus, [BODIES_FILE]);
const events = corpus === undefined ? undefined : loadTraffic(corpus, [SSE_EVENTS_FILE]);
const secondPass = process.env.M2M_BACKEND === 'wasm';
/**
 * Every STRIDE-th body in file order, plus the LARGEST biggest ones. With 7,
 * the sample holds the bodies (lines 497, 532, 2835) whose q10/q11 bytes
 * differed before the fixes described in docs/performance.md.
 */
const STRIDE = 7;
const LARGEST = 8;
/** Every EVENT_STRIDE-th SSE event. */
const EVENT_STRIDE = 20;

function sample(): string[] {
  const all = records ?? [];
  const bySize = all.map((r, i) => ({ i, len: utf8Length(r.body) })).sort((a, b) => b.len - a.len || a.i - b.i);
  const picked = new Set(bySize.slice(0, LARGEST).map((r) => r.i));
  for (let i = 0; i < all.length; i += STRIDE) picked.add(i);
  const bodies = [...picked].sort((a, b) => a - b).map((i) => (all[i] as { body: string }).body);
  const sse = (events ?? []).filter((_, i) => i % EVENT_STRIDE === 0).map((r) => r.body);
  return [...bodies, ...sse];
}

describe.skipIf(secondPass || records === undefined)('Brotli parity on real traffic', () => {
  it('the development corpus is all there', () => {
    expect(records?.length).toBeGreaterThan(1000);
    expect(events?.length).toBeGreaterThan(1000);
  });

  const bodies = sample();
  for (let quality = 0; quality <= 11; quality++) {
    it(`native and wasm give identical bytes at quality ${quality}`, { timeout: 300_000 }, () => {
      const differ: number[] = [];
      for (const [i, body] of bodies.entries()) {
        const native = BACKENDS.native.compressBrotli(body, quality, false);
        const wasm = BACKENDS.wasm.compressBrotli(body, quality, false);
        if (native !== wasm) differ.push(utf8Length(body));
        // Both decode to the body (the bytes are a valid stream, not just equal).
        if (i % 10 === 0) expect(BACKENDS.wasm.decompress(native).text).toBe(body);
      }
      expect(differ, `sizes of the ${bodies.length} bodies whose bytes differ`).toEqual([]);
    });
  }
});
