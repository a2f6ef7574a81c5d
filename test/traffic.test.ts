// Auto on the development corpus of real recorded traffic (../shared/data/traffic-dev):
// every body round-trips exactly and never expands, with the backend under test, in both
// optimisation modes, stateless and as session DATA; and native and wasm give the same wire.
// Skips without the corpus, except under CI (see sharedData).
import { describe, expect, it } from 'vitest';
import { loadTraffic } from '../bench/traffic-data.js';
import * as m2m from '../ts/index.js';
import { encodeData } from '../ts/protocol/data.js';
import type { SessionParams } from '../ts/protocol/negotiate.js';
import { sharedData } from './helpers.js';

const backendUnderTest = (process.env.M2M_BACKEND ?? 'native') as 'native' | 'wasm';

function corpus(ctx: { skip: (note?: string) => void }): string[] | undefined {
  const dir = sharedData('traffic-dev', ctx);
  return dir === undefined ? undefined : loadTraffic(dir).map((r) => r.body);
}

describe('auto on real traffic', () => {
  it('round-trips every body byte for byte and never expands (bytes and tokens)', (ctx) => {
    const bodies = corpus(ctx);
    if (bodies === undefined) return;
    m2m.useBackend(backendUnderTest);
    const bad: string[] = [];
    for (const [i, body] of bodies.entries()) {
      const r = m2m.compress(body);
      if (m2m.decompress(r.wire) !== body) bad.push(`${i}: ${r.algorithm} did not round-trip`);
      if (r.wireBytes > r.originalBytes) bad.push(`${i}: ${r.algorithm} expanded`);
      const t = m2m.compress(body, { optimize: 'tokens' });
      if (m2m.decompress(t.wire) !== body) bad.push(`${i}: tokens ${t.algorithm} did not round-trip`);
      if ((t.wireTokens as number) > (t.originalTokens as number)) bad.push(`${i}: tokens ${t.algorithm} expanded`);
    }
    expect(bad).toEqual([]);
    expect(bodies.length).toBeGreaterThan(10_000);
  });

  it('picks the same in sessions (DATA framing) and in compressAsync', async (ctx) => {
    const bodies = corpus(ctx);
    if (bodies === undefined) return;
    m2m.useBackend(backendUnderTest);
    const params: SessionParams = {
      version: '3.0',
      algorithms: ['token-native', 'brotli', 'dictionary', 'token'],
      encoding: 'cl100k_base',
      securityScanning: false,
      maxPayloadSize: 16 << 20,
      sessionTimeoutMs: 60_000,
      pingIntervalMs: 30_000,
      pingTimeoutMs: 10_000,
      binaryFrames: false,
    };
    const bad: string[] = [];
    for (const [i, body] of bodies.entries()) {
      if (i % 7 !== 0) continue; // a seventh of the corpus: every kind, a fraction of the time
      const r = m2m.compress(body, { session: true });
      const data = encodeData(body, params, { blocking: false });
      // Session auto leaves T1 out (it is used in DATA only when asked for); otherwise the same pick.
      if (r.algorithm !== 'token' && data.payload.content !== r.wire) bad.push(`${i}: DATA differs from compress`);
      if (m2m.decompress(data.payload.content) !== body) bad.push(`${i}: DATA did not round-trip`);
      const a = await m2m.compressAsync(body, { session: true });
      if (a.wire !== r.wire) bad.push(`${i}: compressAsync differs`);
    }
    expect(bad).toEqual([]);
  });

  it.runIf(backendUnderTest === 'native')('native and wasm give the same auto wire for every body', (ctx) => {
    const bodies = corpus(ctx);
    if (bodies === undefined) return;
    const wires = (kind: 'native' | 'wasm') => {
      m2m.useBackend(kind);
      return bodies.map((b) => m2m.compress(b).wire);
    };
    const native = wires('native');
    const wasm = wires('wasm');
    m2m.useBackend(backendUnderTest);
    const differ = native.flatMap((w, i) => (w === wasm[i] ? [] : [i]));
    expect(differ).toEqual([]);
  });
});
