import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Backend, type BackendKind, loadBackend, M2MError } from '../ts/index.js';

/** Both backends, loaded; a backend that fails to load fails the suite. */
export const BACKENDS: Record<BackendKind, Backend> = {
  native: loadBackend('native'),
  wasm: loadBackend('wasm'),
};

/** What a call produced: its value, or the code of the M2MError it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string };

export function outcome<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (!(err instanceof M2MError)) throw err;
    return { ok: false, code: err.code };
  }
}

/** Typed arrays compared by content and type (Buffer and Uint8Array differ in toEqual). */
export function normalise(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    return {
      type: value.constructor.name,
      bytes: Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)),
    };
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}

/**
 * The path `../shared/<rel>` beside the repository (real recorded data and
 * reference vectors the project may read but not ship), or undefined when it
 * is absent, after a message; under CI it must be there.
 */
export function sharedPath(rel: string): string | undefined {
  const path = fileURLToPath(new URL(`../../shared/${rel}`, import.meta.url));
  if (existsSync(path)) return path;
  const message = `../shared/${rel} is absent (${path})`;
  if (process.env.CI === 'true') throw new Error(`${message}: CI must run this test`);
  console.warn(`${message}: its tests are skipped`);
  return undefined;
}

/**
 * The folder `../shared/data/<name>`. When it is absent the test is skipped
 * with a message, except under CI, where it must be there.
 */
export function sharedData(name: string, ctx: { skip: (note?: string) => void }): string | undefined {
  const dir = sharedPath(`data/${name}`);
  if (dir === undefined) ctx.skip(`../shared/data/${name} is absent: skipped`);
  return dir;
}

/** The SSE streams of a traffic corpus (`sse-events.jsonl`), each its event bodies in order, streams in file order. */
export function sseStreams(dir: string): string[][] {
  const byStream = new Map<number, string[]>();
  for (const line of readFileSync(join(dir, 'sse-events.jsonl'), 'utf8').trim().split('\n')) {
    const e = JSON.parse(line) as { stream: number; index: number; body: string };
    const list = byStream.get(e.stream) ?? [];
    list[e.index] = e.body;
    byStream.set(e.stream, list);
  }
  return [...byStream.values()];
}

/**
 * Decodes the base85 payload of a `#BD|` / `#BH|` message (written here
 * apart from the core's, to check it): 5 digits per 4 bytes, big-endian, a
 * last group of n + 1 digits for n bytes, padded with the highest digit.
 */
export function base85Decode(text: string): Buffer {
  const alphabet = '!#$%()*+,-./0123456789;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{}~';
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 5) {
    const group = text.slice(i, i + 5);
    let value = 0;
    for (let k = 0; k < 5; k++) {
      const digit = k < group.length ? alphabet.indexOf(group[k] as string) : 84;
      if (digit < 0) throw new Error(`not a base85 digit: ${group[k]}`);
      value = value * 85 + digit;
    }
    const bytes = [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
    out.push(...bytes.slice(0, group.length === 5 ? 4 : group.length - 1));
  }
  return Buffer.from(out);
}
