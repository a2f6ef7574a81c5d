/**
 * The development corpus of real recorded LLM API traffic
 * (`../shared/data/traffic-dev/traffic.jsonl`, beside the repository; not
 * part of it). Benchmarks and tests read it from there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the corpus is expected. */
export const TRAFFIC_PATH = fileURLToPath(new URL('../../shared/data/traffic-dev/traffic.jsonl', import.meta.url));

/** One recorded HTTP body and its kind (`request`, `response`, `sse`, `anthropic-request`, ...). */
export interface TrafficRecord {
  kind: string;
  body: string;
}

/** Every record of the corpus (at `path`) in file order, or `undefined` when the file is absent. */
export function loadTraffic(path = TRAFFIC_PATH): TrafficRecord[] | undefined {
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const { kind, body } = JSON.parse(line) as TrafficRecord;
      return { kind, body };
    });
}

/** UTF-8 length of a string. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * A deterministic sample of at most `count` bodies whose UTF-8 length is in
 * `[min, max)`: the bodies in that range sorted by length (then by position),
 * taken at evenly spaced ranks, so the sample spans the range.
 */
export function sampleBySize(records: readonly TrafficRecord[], min: number, max: number, count: number): string[] {
  const inRange = records
    .map((r, i) => ({ body: r.body, len: utf8Length(r.body), i }))
    .filter((r) => r.len >= min && r.len < max)
    .sort((a, b) => a.len - b.len || a.i - b.i);
  if (inRange.length <= count) return inRange.map((r) => r.body);
  return Array.from(
    { length: count },
    (_, k) => (inRange[Math.floor((k * inRange.length) / count)] as { body: string }).body,
  );
}
