/**
 * A measured alternative for sessions that remember (not what the wire uses):
 * raw deflate (node:zlib) with the last `--bytes` of the stream's earlier
 * events as its preset dictionary, against `#BH|` (Brotli q5 against the
 * trained dictionary and the history, bench/session-history.ts), on the SSE
 * events of the held-out split, event by event. The deflate wire is counted
 * with the same 14-character head as `#BH|<8 hex>||` and base64, so only the
 * codec differs.
 *
 * Run: `npx tsx bench/session-history-deflate.ts [--bytes 24576]`
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { CORPUS_DIR, isHeldOut, repoOf } from '../scripts/gen-dictionaries.mjs';

const { values } = parseArgs({ options: { bytes: { type: 'string', default: '24576' } } });
const window = Math.min(Number(values.bytes), 32 * 1024); // deflate's window
const HEAD = '#BH|00000000||'.length;

const records = readFileSync(join(CORPUS_DIR, 'traffic.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { source: string });
const streams = new Map<number, string[]>();
for (const l of readFileSync(join(CORPUS_DIR, 'sse-events.jsonl'), 'utf8').trim().split('\n')) {
  const e = JSON.parse(l) as { stream: number; index: number; body: string };
  if (!isHeldOut(repoOf((records[e.stream] as { source: string }).source))) continue;
  const list = streams.get(e.stream) ?? [];
  list[e.index] = e.body;
  streams.set(e.stream, list);
}

const quantile = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1) + 0.5)];
for (const level of [6, 9]) {
  const saved: number[] = [];
  for (const stream of streams.values()) {
    let history = Buffer.alloc(0);
    for (const event of stream.filter((e) => typeof e === 'string')) {
      const bytes = Buffer.from(event);
      const packed = deflateRawSync(bytes, history.length > 0 ? { level, dictionary: history } : { level });
      const wire = Math.min(HEAD + Math.ceil(packed.length / 3) * 4, bytes.length);
      saved.push(100 * (1 - wire / bytes.length));
      history = Buffer.concat([history, bytes]).subarray(-window);
    }
  }
  console.log(
    `raw deflate level ${level}, ${window}-byte dictionary: ${saved.length} events, saved median ${quantile(saved, 0.5)?.toFixed(1)}% (p90 ${quantile(saved, 0.9)?.toFixed(1)}%)`,
  );
}
