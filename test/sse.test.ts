import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as m2m from '../ts/index.js';
import { sharedData, sseStreams } from './helpers.js';

const STREAM = [
  'data: {"id":"chatcmpl-abc123","object":"chat.completion.chunk","created":1705520400,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}',
  'data: {"id":"chatcmpl-abc123","object":"chat.completion.chunk","created":1705520400,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"The"},"finish_reason":null}]}',
  ': keep-alive comment\nevent: message\nid: 3\ndata: {"id":"chatcmpl-abc123","object":"chat.completion.chunk","created":1705520400,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" capital"},"finish_reason":null}]}',
  'data: line one\ndata: line two\u0087',
  'data: [DONE]',
]
  .map((e) => `${e}\n\n`)
  .join('');

async function pipe(chunks: (string | Uint8Array)[], stream: TransformStream<string | Uint8Array, string>) {
  const out: string[] = [];
  const writer = stream.writable.getWriter();
  const reading = (async () => {
    const reader = stream.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      out.push(value);
    }
  })();
  for (const c of chunks) await writer.write(c);
  await writer.close();
  await reading;
  return out;
}

describe('SSE streams', () => {
  it('compresses event by event, keeping boundaries, other fields and [DONE]', () => {
    const compressed = m2m.compressSse(STREAM, { algorithm: 'token-native' });
    const events = compressed.split('\n\n').filter(Boolean);
    expect(events).toHaveLength(5);
    expect(events[0]?.startsWith('data: #TK|C|')).toBe(true);
    expect(events[2]).toMatch(/^: keep-alive comment\nevent: message\nid: 3\ndata: #TK\|C\|/);
    expect(events[4]).toBe('data: [DONE]');
    expect(m2m.decompressSse(compressed)).toBe(STREAM);
  });

  it('works as a TransformStream whatever the chunking, for text and bytes', async () => {
    const whole = m2m.compressSse(STREAM, { algorithm: 'dictionary' });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: STREAM.length }), { maxLength: 8 }),
        fc.boolean(),
        async (cuts, asBytes) => {
          const points = [0, ...cuts.sort((a, b) => a - b), STREAM.length];
          const chunks = points.slice(1).map((p, i) => STREAM.slice(points[i], p));
          const input = asBytes ? chunks.map((c) => new TextEncoder().encode(c)) : chunks;
          const out = await pipe(input, m2m.createSseCompressStream({ algorithm: 'dictionary' }));
          expect(out.join('')).toBe(whole);
          expect(out).toHaveLength(5); // one chunk per event
          const back = await pipe(out, m2m.createSseDecompressStream());
          expect(back.join('')).toBe(STREAM);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('with a stream history: real streams round-trip exactly, shorter, the same wire on both backends', async (ctx) => {
    const dir = sharedData('traffic-dev', ctx);
    if (dir === undefined) return;
    const streams = sseStreams(dir).slice(0, 40);
    const asText = (events: string[]) => events.map((e) => `data: ${e}\n\n`).join('');
    let withHistory = 0;
    let without = 0;
    for (const events of streams) {
      const text = asText(events);
      const wires: string[] = [];
      for (const kind of ['native', 'wasm'] as const) {
        m2m.useBackend(kind);
        const out = (await pipe([text], m2m.createSseCompressStream({}, { bytes: 24576 }))).join('');
        expect((await pipe([out], m2m.createSseDecompressStream({}, { bytes: 24576 }))).join('')).toBe(text);
        wires.push(out);
      }
      m2m.useBackend((process.env.M2M_BACKEND ?? 'native') as 'native' | 'wasm');
      expect(wires[1]).toBe(wires[0]);
      withHistory += (wires[0] as string).length;
      without += m2m.compressSse(text).length;
    }
    expect(withHistory).toBeLessThan(without * 0.5);
    // Decoded with another history size, a #BH| event is refused or differs: never silently the same.
    const text = asText(streams[0] as string[]);
    const out = (await pipe([text], m2m.createSseCompressStream({}, { bytes: 24576 }))).join('');
    const body = new Response(out).body as ReadableStream<Uint8Array>;
    const decoded = body
      .pipeThrough(m2m.createSseDecompressStream({}, { bytes: 100 }))
      .pipeThrough(new TextEncoderStream());
    const other = await new Response(decoded).text().catch((err: m2m.M2MError) => err.code);
    expect(other).not.toBe(text);
  });
});
