/**
 * The two-gateway deployment on the development traffic: agent → local
 * `m2m gateway --upstream-m2m` → (the link) → remote `m2m gateway` → an
 * upstream that replays the recorded responses (bench/replay-upstream.ts), all
 * on 127.0.0.1 in this process.
 *
 * 1. Bytes on the link per request: every recorded Chat Completions pair with
 *    its response (JSON or SSE) once, request and response bodies as they
 *    cross the link, against the same bodies sent plain (headers not counted):
 *    the default (trained dictionaries both gateways have, and SSE events
 *    against their stream's earlier events), without the dictionaries
 *    (`dictionaries: false`), and with neither (also `streamHistory: 0`); over
 *    all pairs and over the held-out split (the repositories
 *    scripts/gen-dictionaries.mjs did not train on).
 * 2. Added latency per request: the same requests sent straight to the
 *    upstream and through the pair, interleaved, for about `SECONDS` seconds;
 *    p50 and p99 of each, and of the difference; both gateways scan requests
 *    (the default, monitor mode), and again with the local one not scanning.
 *
 *   npx tsx bench/gateway.ts            (M2M_BENCH_SECONDS=10 by default)
 */
import { performance } from 'node:perf_hooks';
import { isHeldOut, repoOf } from '../scripts/gen-dictionaries.mjs';
import { startServer } from '../ts/node/server/index.js';
import { loadReplayPairs, startReplayUpstream } from './replay-upstream.js';
import { hasTraffic, TRAFFIC_DIR } from './traffic-data.js';

if (!hasTraffic()) {
  console.error(`the development corpus is absent (${TRAFFIC_DIR}): nothing to measure`);
  process.exit(1);
}
const SECONDS = Number(process.env.M2M_BENCH_SECONDS ?? 10);
const pairs = loadReplayPairs(TRAFFIC_DIR).filter((p) => p.api === 'chat');

const upstream = await startReplayUpstream(pairs);
const remote = await startServer({
  port: 0,
  logLevel: false,
  rateLimit: { perClient: 100_000_000 },
  gateway: { upstream: upstream.url },
});

let link = { requestBytes: 0, responseBytes: 0 };
let measuring = true;
const linkFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (!measuring) return res;
  link.requestBytes += typeof init?.body === 'string' ? Buffer.byteLength(init.body) : 0;
  const bytes = new Uint8Array(await res.arrayBuffer());
  link.responseBytes += bytes.byteLength;
  return new Response(bytes, { status: res.status, statusText: res.statusText, headers: res.headers });
};
const local = await startServer({
  port: 0,
  logLevel: false,
  rateLimit: { perClient: 100_000_000 },
  gateway: { upstream: `${remote.url}/v1`, upstreamM2M: true, fetch: linkFetch },
});
// The same pair without trained dictionaries (the local side names none, so the remote uses none), and with
// neither those nor a stream history (the local side offers none).
const localPlain = await startServer({
  port: 0,
  logLevel: false,
  rateLimit: { perClient: 100_000_000 },
  gateway: { upstream: `${remote.url}/v1`, upstreamM2M: true, fetch: linkFetch, dictionaries: false },
});
const localBare = await startServer({
  port: 0,
  logLevel: false,
  rateLimit: { perClient: 100_000_000 },
  gateway: {
    upstream: `${remote.url}/v1`,
    upstreamM2M: true,
    fetch: linkFetch,
    dictionaries: false,
    streamHistory: 0,
  },
});
// The same pair with the scanner on one side only (the remote gateway's): each scan costs a few ms.
const localUnscanned = await startServer({
  port: 0,
  logLevel: false,
  rateLimit: { perClient: 100_000_000 },
  security: { mode: 'disabled' },
  gateway: { upstream: `${remote.url}/v1`, upstreamM2M: true, fetch: linkFetch },
});

async function send(base: string, body: string): Promise<string> {
  const res = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`status ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

// 1. Bytes on the link.
type Row = { n: number; plain: number; wire: number };
const rows = new Map<string, Row>();
const add = (key: string, plain: number, wire: number) => {
  const row = rows.get(key) ?? { n: 0, plain: 0, wire: 0 };
  row.n++;
  row.plain += plain;
  row.wire += wire;
  rows.set(key, row);
};
for (const [dictionaries, base] of [
  ['with', local.url],
  ['without', localPlain.url],
  ['neither', localBare.url],
] as const) {
  for (const pair of pairs) {
    link = { requestBytes: 0, responseBytes: 0 };
    const text = await send(`${base}/v1`, pair.request);
    if (!pair.sse && text !== pair.response) throw new Error('a response came back changed');
    const plain = Buffer.byteLength(pair.request) + Buffer.byteLength(pair.response);
    const wire = link.requestBytes + link.responseBytes;
    const kind = pair.sse ? 'SSE stream' : 'JSON response';
    for (const split of isHeldOut(repoOf(pair.source)) ? ['all', 'held-out'] : ['all']) {
      add(`${kind}|${split}|${dictionaries}`, plain, wire);
      add(`all|${split}|${dictionaries}`, plain, wire);
    }
  }
}
measuring = false;

// 2. Latency: direct vs through the pair, interleaved.
const direct: number[] = [];
const paired: number[] = [];
const pairedOneScan: number[] = [];
const deadline = performance.now() + SECONDS * 1000;
for (let i = 0; performance.now() < deadline; i++) {
  const pair = pairs[i % pairs.length] as (typeof pairs)[number];
  let t = performance.now();
  await send(upstream.url, pair.request);
  direct.push(performance.now() - t);
  t = performance.now();
  await send(`${local.url}/v1`, pair.request);
  paired.push(performance.now() - t);
  t = performance.now();
  await send(`${localUnscanned.url}/v1`, pair.request);
  pairedOneScan.push(performance.now() - t);
}

await local.close();
await localPlain.close();
await localBare.close();
await localUnscanned.close();
await remote.close();
await upstream.close();

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const added = paired.map((t, i) => t - (direct[i] as number));
const addedOneScan = pairedOneScan.map((t, i) => t - (direct[i] as number));
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`two-gateway pair on ${pairs.length} recorded Chat Completions exchanges (bodies only)\n`);
console.log(
  'kind, split                requests  plain/request  link, default  saved  no dictionaries  saved  neither  saved',
);
for (const kind of ['JSON response', 'SSE stream', 'all']) {
  for (const split of ['all', 'held-out']) {
    const w = rows.get(`${kind}|${split}|with`) as Row;
    const o = rows.get(`${kind}|${split}|without`) as Row;
    const b = rows.get(`${kind}|${split}|neither`) as Row;
    const saved = (r: Row) => `${((1 - r.wire / r.plain) * 100).toFixed(1).padStart(4)}%`;
    console.log(
      `${`${kind}, ${split}`.padEnd(24)} ${String(w.n).padStart(10)}  ${kib(w.plain / w.n).padStart(13)}  ${kib(w.wire / w.n).padStart(13)}  ${saved(w)}  ${kib(o.wire / o.n).padStart(15)}  ${saved(o)}  ${kib(b.wire / b.n).padStart(7)}  ${saved(b)}`,
    );
  }
}
console.log(`\nlatency over ${direct.length} requests each (ms)   p50     p99`);
console.log(
  `straight to the upstream              ${pct(direct, 50).toFixed(2).padStart(6)}  ${pct(direct, 99).toFixed(2).padStart(6)}`,
);
console.log(
  `through the pair                      ${pct(paired, 50).toFixed(2).padStart(6)}  ${pct(paired, 99).toFixed(2).padStart(6)}`,
);
console.log(
  `added by the pair (per request)       ${pct(added, 50).toFixed(2).padStart(6)}  ${pct(added, 99).toFixed(2).padStart(6)}`,
);
console.log(
  `added, scanning on the remote only    ${pct(addedOneScan, 50).toFixed(2).padStart(6)}  ${pct(addedOneScan, 99).toFixed(2).padStart(6)}`,
);
