// Trained dictionaries (#BD|, crates/m2m-core/src/codec/trained.rs) over the development corpus
// (../shared/data/traffic-dev): every chat request, response and SSE event compressed with
// `dictionaries: true` round-trips exactly and never expands; native and wasm give the same wire;
// auto never uses them unless asked; a receiver without the named dictionary refuses with
// DICTIONARY_UNAVAILABLE. Skips without the corpus, except under CI (see sharedData).
import { existsSync, readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DICTIONARIES, loadFamilies } from '../scripts/gen-dictionaries.mjs';
import { backend } from '../ts/core/backend.js';
import { coreTables, wirePrefix } from '../ts/core/tables.js';
import * as m2m from '../ts/index.js';
import { base85Decode, sharedData } from './helpers.js';

const backendUnderTest = (process.env.M2M_BACKEND ?? 'native') as 'native' | 'wasm';

function bodies(ctx: { skip: (note?: string) => void }): string[] | undefined {
  const dir = sharedData('traffic-dev', ctx);
  if (dir === undefined) return undefined;
  const families = loadFamilies(dir) as Record<string, { body: string }[]>;
  return Object.values(families).flatMap((docs) => docs.map((d) => d.body));
}

const dictionaryPath = (id: string) => new URL(`../build/dictionaries/${id}.m2md`, import.meta.url);

describe('trained dictionaries', () => {
  it('the core ships the ids the script builds, and the build made them', (ctx) => {
    if (sharedData('traffic-dev', ctx) === undefined) return;
    expect(coreTables().dictionaries).toEqual(DICTIONARIES.map((d: { id: string }) => d.id));
    for (const id of coreTables().dictionaries) expect(existsSync(dictionaryPath(id)), id).toBe(true);
    expect(wirePrefix('BROTLI_DICTIONARY')).toBe('#BD|');
  });

  it('round-trips every chat request, response and SSE event and never expands', (ctx) => {
    const all = bodies(ctx);
    if (all === undefined) return;
    m2m.useBackend(backendUnderTest);
    const bad: string[] = [];
    let used = 0;
    for (const [i, body] of all.entries()) {
      const r = m2m.compress(body, { dictionaries: true });
      if (r.wire.startsWith('#BD|')) used++;
      if (m2m.decompress(r.wire) !== body) bad.push(`${i}: ${r.algorithm} did not round-trip`);
      if (r.wireBytes > r.originalBytes) bad.push(`${i}: expanded`);
    }
    expect(bad).toEqual([]);
    expect(used).toBeGreaterThan(all.length / 2);
  });

  it('auto never uses them unless asked, nor in a session framing or the reference profile', () => {
    m2m.useBackend(backendUnderTest);
    const body = JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Paris is the capital of France.' } }],
      usage: { prompt_tokens: 10, completion_tokens: 8, total_tokens: 18 },
    });
    expect(m2m.compress(body).wire.startsWith('#BD|')).toBe(false);
    expect(m2m.compress(body, { dictionaries: false }).wire.startsWith('#BD|')).toBe(false);
    expect(m2m.compress(body, { dictionaries: true, session: true }).wire.startsWith('#BD|')).toBe(false);
    expect(m2m.compress(body, { dictionaries: true, profile: 'reference' }).wire.startsWith('#BD|')).toBe(false);
    const r = m2m.compress(body, { dictionaries: ['res'] });
    expect(r.wire.startsWith('#BD|res.')).toBe(true);
    expect(m2m.decompress(r.wire)).toBe(body);
    expect(() => m2m.compress(body, { dictionaries: ['nope'] })).toThrow(
      expect.objectContaining({ code: 'DICTIONARY_UNAVAILABLE' }),
    );
  });

  it('a #BD|<name>: payload is raw deflate against the dictionary: zlib reads it as well as the core', (ctx) => {
    const all = bodies(ctx);
    if (all === undefined) return;
    m2m.useBackend(backendUnderTest);
    // The file: "M2MD", format, id length, id, u32 version, u32 content length, content.
    const content = (id: string) => {
      const file = readFileSync(dictionaryPath(id));
      const start = 6 + (file[5] as number) + 8;
      return file.subarray(start, start + file.readUInt32LE(start - 4));
    };
    const counts = { deflate: 0, brotli: 0 };
    for (const body of all.slice(0, 1500)) {
      const { wire } = m2m.compress(body, { dictionaries: true });
      const head = /^#BD\|([a-z0-9-]+)\.\d+\.[0-9a-f]{8}([|:])/.exec(wire);
      if (!head) continue;
      if (head[2] === '|') {
        counts.brotli++;
        continue;
      }
      counts.deflate++;
      const packed = base85Decode(wire.slice(head[0].length));
      const dictionary = content(head[1] as string).subarray(-32 * 1024);
      expect(inflateRawSync(packed, { dictionary }).toString()).toBe(body);
    }
    expect(counts.deflate).toBeGreaterThan(100);
    expect(counts.brotli).toBeGreaterThan(10);
  });

  it('a message naming a dictionary the receiver lacks is refused, never misread', () => {
    m2m.useBackend(backendUnderTest);
    const body = JSON.stringify({ object: 'chat.completion', choices: [{ message: { content: 'x'.repeat(200) } }] });
    const wire = m2m.compress(body, { dictionaries: true }).wire;
    expect(wire.startsWith('#BD|res.')).toBe(true);
    const end = 4 + wire.slice(4).search(/[|:]/);
    const rest = wire.slice(end);
    const [, version, hash] = wire.slice(4, end).split('.');
    for (const other of [
      `#BD|zzz.${version}.${hash}${rest}`,
      `#BD|res.99.${hash}${rest}`,
      `#BD|res.${version}.0${rest}`,
    ]) {
      expect(() => m2m.decompress(other), other).toThrow(expect.objectContaining({ code: 'DICTIONARY_UNAVAILABLE' }));
    }
  });

  it('a payload that is not base85 is INVALID_BASE85, never decoded', () => {
    m2m.useBackend(backendUnderTest);
    const body = JSON.stringify({ object: 'chat.completion', choices: [{ message: { content: 'x'.repeat(200) } }] });
    const wire = m2m.compress(body, { dictionaries: true }).wire;
    const end = 5 + wire.slice(4).search(/[|:]/);
    expect(m2m.decompress(wire)).toBe(body);
    // A character outside the alphabet, a lone last digit, a group over 2^32 - 1, a non-canonical last group.
    for (const payload of [
      `${wire.slice(end, -1)}"`,
      `${wire.slice(end)}${'!'.repeat(6 - ((wire.length - end) % 5))}`,
      '{=^0#',
      'z{',
    ]) {
      const bad = wire.slice(0, end) + payload;
      expect(() => m2m.decompress(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_BASE85' }));
    }
  });

  it.runIf(backendUnderTest === 'native')('native and wasm give the same wire for every body', (ctx) => {
    const all = bodies(ctx);
    if (all === undefined) return;
    const wires = (kind: 'native' | 'wasm') => {
      m2m.useBackend(kind);
      return all.map((b) => m2m.compress(b, { dictionaries: true }).wire);
    };
    const native = wires('native');
    const wasm = wires('wasm');
    m2m.useBackend(backendUnderTest);
    expect(native.filter((w) => w.startsWith('#BD|')).length).toBeGreaterThan(all.length / 2);
    expect(native.flatMap((w, i) => (w === wasm[i] ? [] : [i]))).toEqual([]);
    // And each decodes the other's.
    m2m.useBackend('wasm');
    const bad = native.flatMap((w, i) => (m2m.decompress(w) === all[i] ? [] : [i]));
    m2m.useBackend(backendUnderTest);
    expect(bad).toEqual([]);
  });

  it('loading a malformed dictionary file is a typed error', () => {
    m2m.useBackend(backendUnderTest);
    const file = existsSync(dictionaryPath('res')) ? readFileSync(dictionaryPath('res')) : Buffer.from('M2MD');
    expect(() => backend().loadDictionary(new Uint8Array(file.subarray(0, 20)))).toThrow(
      expect.objectContaining({ code: 'DICTIONARY_CORRUPT' }),
    );
  });
});
