// The native backend hands out small encode results as views of shared pools
// (ts/core/id-pool.ts), and reads strings and encoding names through stack and
// thread-local buffers (crates/m2m-napi): the results must be exactly the
// wasm backend's, never overlap, and outlive the pool they came from.
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ID_POOL_IDS } from '../ts/core/id-pool.js';
import { M2MError } from '../ts/index.js';
import { BACKENDS } from './helpers.js';

const { native, wasm } = BACKENDS;
for (const b of [native, wasm]) for (const e of ['cl100k_base', 'o200k_base']) b.ensureEncoding(e);

const words = (i: number) => `message ${i}: the quick brown fox ${'jumps '.repeat(i % 7)}over ${i * 7919}`;

describe('pooled encode results (native)', () => {
  it('gives each result its own ids, equal to the wasm backend, across many pools', () => {
    const kept: [Uint32Array, number[]][] = [];
    for (let i = 0; i < 3 * ID_POOL_IDS; i++) {
      const text = words(i);
      const ids = native.encodeOrdinary(text, 'cl100k_base');
      kept.push([ids, Array.from(wasm.encodeOrdinary(text, 'cl100k_base'))]);
    }
    const buffers = new Set(kept.map(([ids]) => ids.buffer));
    expect(buffers.size).toBeGreaterThan(1); // the pool rolled over
    expect(buffers.size).toBeLessThan(kept.length); // and was shared
    for (const [ids, expected] of kept) expect(Array.from(ids)).toEqual(expected);
  });

  it('can be handed back to the core as views: decoded and packed from their own offset', () => {
    for (let i = 0; i < 200; i++) {
      const text = words(i);
      const ids = native.encodeOrdinary(text, 'cl100k_base');
      expect(native.decodeTokens(ids, 'cl100k_base')).toBe(text);
      expect(Array.from(native.unpackTokenNative(native.packTokenNative(ids, 'cl100k_base')).ids)).toEqual(
        Array.from(ids),
      );
    }
  });

  it('never lets one result overlap another, so writing one leaves the others alone', () => {
    const a = native.encodeOrdinary(words(1), 'cl100k_base');
    const b = native.encodeOrdinary(words(2), 'cl100k_base');
    const before = Array.from(b);
    a.fill(0xffff_ffff);
    expect(Array.from(b)).toEqual(before);
    if (a.buffer === b.buffer) expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.byteLength);
  });

  it('returns a result too big for the pool in a buffer of its own', () => {
    const text = words(3).repeat(1_000);
    const ids = native.encodeOrdinary(text, 'cl100k_base');
    expect(ids.length).toBeGreaterThan(ID_POOL_IDS);
    expect(ids.byteOffset).toBe(0);
    expect(ids.buffer.byteLength).toBe(ids.byteLength);
    expect(Array.from(ids)).toEqual(Array.from(wasm.encodeOrdinary(text, 'cl100k_base')));
  });

  it('cannot be moved out of the pool by postMessage: the other results stay intact', async () => {
    const first = native.encodeOrdinary(words(4), 'cl100k_base');
    const second = native.encodeOrdinary(words(5), 'cl100k_base');
    expect(second.buffer).toBe(first.buffer);
    const expected = Array.from(first);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<Uint32Array>((resolve) => port2.once('message', resolve));
    let refused = false;
    try {
      // Node 20 copies an untransferable buffer; Node 21 and later refuse it.
      port1.postMessage(second, [second.buffer as ArrayBuffer]);
    } catch (err) {
      refused = true;
      expect((err as Error).name).toBe('DataCloneError');
    }
    if (!refused) expect(Array.from(await received)).toEqual(Array.from(second));
    port1.close();
    expect(first.byteLength).toBeGreaterThan(0);
    expect(Array.from(first)).toEqual(expected);
  });

  it('turns binding failures into M2MError', () => {
    expect(() => native.encodeOrdinary('x', 'nope')).toThrow(M2MError);
    try {
      native.encodeOrdinary('x', 'nope');
    } catch (err) {
      expect((err as M2MError).code).toBe('UNKNOWN_TOKENIZER');
    }
  });
});

describe('strings and encoding names read by the addon', () => {
  it('reads strings around the size of its buffer exactly, pairs cut at the edge included', () => {
    // crates/m2m-napi's TEXT_BUFFER_UNITS is 16 Ki units.
    for (const units of [16_382, 16_383, 16_384, 16_385, 40_000]) {
      for (const tail of ['', '😀', '\ud83d', 'é']) {
        const text = 'a'.repeat(units - 1) + tail + 'b c';
        const ids = Array.from(native.encodeOrdinary(text, 'cl100k_base'));
        expect(ids).toEqual(
          Array.from(wasm.encodeOrdinary(text.replace(/\ud83d(?!\ude00)/g, '\ufffd'), 'cl100k_base')),
        );
        expect(native.countTokens(text, 'cl100k_base')).toBe(ids.length);
      }
    }
  });

  it('accepts only exact encoding names, however they are written', () => {
    const code = (name: string) => {
      try {
        native.countTokens('x', name);
        return 'ok';
      } catch (err) {
        return (err as M2MError).code;
      }
    };
    expect(code('cl100k_base')).toBe('ok');
    expect(code('o200k_base')).toBe('ok');
    // A non-ASCII look-alike (ţ narrows to "c" in Latin-1), a longer name, names around the stack buffer's size.
    for (const name of [
      'ţl100k_base',
      'cl100k_base ',
      'cl100k_basé',
      'x'.repeat(27),
      'x'.repeat(28),
      'x'.repeat(100),
      '',
    ]) {
      expect(code(name)).toBe('UNKNOWN_TOKENIZER');
    }
    expect(() => native.countTokens('x', 'y'.repeat(100))).toThrow('y'.repeat(100));
  });
});
