/**
 * The development corpus of real recorded LLM API traffic
 * (`../shared/data/traffic-dev`, or the folder named by `M2M_TRAFFIC_DIR`):
 * every body of `traffic.jsonl` under its kind, and every event of
 * `sse-events.jsonl` as the kind `sse-event`. It is not in the repository;
 * benchmarks and tests read it from beside the checkout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** One recorded body and its kind (`request`, `response`, `sse`, `sse-event`, `anthropic-request`, ...). */
export interface TrafficRecord {
  kind: string;
  body: string;
}

/** Where the corpus is looked for. */
export const TRAFFIC_DIR =
  process.env.M2M_TRAFFIC_DIR ?? resolve(new URL('.', import.meta.url).pathname, '../../shared/data/traffic-dev');

const FILES = ['traffic.jsonl', 'sse-events.jsonl'] as const;

/** True when both corpus files are present. */
export function hasTraffic(): boolean {
  return FILES.every((f) => existsSync(resolve(TRAFFIC_DIR, f)));
}

/** The corpus's file of whole bodies (without the separate SSE events). */
export const BODIES_FILE = 'traffic.jsonl';
/** The corpus's file of single SSE events. */
export const SSE_EVENTS_FILE = 'sse-events.jsonl';

/**
 * Every record of the corpus in `dir`, in file order (`traffic.jsonl`, then `sse-events.jsonl`),
 * or of the `files` given.
 */
export function loadTraffic(dir: string = TRAFFIC_DIR, files: readonly string[] = FILES): TrafficRecord[] {
  const out: TrafficRecord[] = [];
  for (const file of files) {
    for (const line of readFileSync(resolve(dir, file), 'utf8').split('\n')) {
      if (line === '') continue;
      const { kind, body } = JSON.parse(line) as TrafficRecord;
      out.push({ kind, body });
    }
  }
  return out;
}

/** The kinds in the order tables list them. */
export const KIND_ORDER = [
  'request',
  'response',
  'sse',
  'sse-event',
  'responses-request',
  'responses-response',
  'responses-sse',
  'anthropic-request',
  'anthropic-response',
  'anthropic-sse',
  'embeddings-request',
  'embeddings-response',
] as const;

/** Records grouped by kind, in `KIND_ORDER` (kinds not listed there come last). */
export function byKind(records: readonly TrafficRecord[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const k of KIND_ORDER) groups.set(k, []);
  for (const r of records) {
    const g = groups.get(r.kind) ?? [];
    if (g.length === 0) groups.set(r.kind, g);
    g.push(r.body);
  }
  for (const [k, g] of groups) if (g.length === 0) groups.delete(k);
  return groups;
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
