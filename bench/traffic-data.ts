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

/** Every record of the corpus in `dir`, in file order (`traffic.jsonl`, then `sse-events.jsonl`). */
export function loadTraffic(dir: string = TRAFFIC_DIR): TrafficRecord[] {
  const out: TrafficRecord[] = [];
  for (const file of FILES) {
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
