/**
 * Small requests beside a large one: p50/p99 of `POST /v1/compress/auto`
 * (~100 B chat JSON, 8 concurrent clients) against `m2m server` (1 worker)
 * without a large request, then while a ~16 MiB request of each form is
 * served: a T1 wire to decompress, JSON content to compress with auto, and a
 * T1 wire as the DATA of an HTTP session (under DATA's 10 MiB content limit).
 * Run after the set-up: `npx tsx bench/large.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { compress } from '../ts/index.js';
import { createMessage, serializeMessage } from '../ts/node/session/index.js';
import { mdHeader, mdRow } from './util.js';

function post(base: string, path: string, body: string, onBody?: (text: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (onBody) text += c;
      });
      res.on('end', () => {
        onBody?.(text);
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** p50 and p99 of small requests from 8 clients while `until` runs (at least 400 requests). */
async function smallWhile(base: string, until: Promise<unknown>) {
  let settled = false;
  void until.finally(() => {
    settled = true;
  });
  const small = JSON.stringify({ content: '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}' });
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (!settled || times.length < 400) {
        const t0 = performance.now();
        await post(base, '/v1/compress/auto', small);
        times.push(performance.now() - t0);
      }
    }),
  );
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.floor(times.length * q)] as number).toFixed(1);
  return { n: times.length, p50: at(0.5), p99: at(0.99) };
}

const messages = Array.from({ length: 9_900 }, (_, i) => ({
  role: i % 2 ? 'assistant' : 'user',
  content: `message ${i}: ${'the quick brown fox jumps over the lazy dog, again and again. '.repeat(26)}`,
}));
const request16 = JSON.stringify({ model: 'gpt-4o', messages });
const t1 = JSON.stringify({ wire: compress(request16, { algorithm: 'token' }).wire });
const content = JSON.stringify({ content: request16.slice(0, 16 * 1024 * 1024 - 1024) });
const sessionWire = compress(JSON.stringify({ model: 'gpt-4o', messages: messages.slice(0, 6_000) }), {
  algorithm: 'token',
}).wire;

const child: ChildProcess = spawn(
  process.execPath,
  ['dist/node/cli.js', 'server', '--port', '0', '--log-level', 'error'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, M2M_RATE_LIMIT_PER_CLIENT: '100000000' },
  },
);
const base = await new Promise<string>((resolve) => {
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const m = /https?:\/\/[^\s"]+/.exec(line);
    if (m) resolve(m[0]);
  });
});
await post(base, '/v1/decompress', JSON.stringify({ wire: `#T1|${'x'.repeat(20_000)}` })); // starts the work thread
console.log('Small requests (8 clients) beside one large request, 1 worker');
for (const line of mdHeader([
  'large request',
  'bytes',
  'status',
  'large ms',
  'small n',
  'small p50 ms',
  'small p99 ms',
]))
  console.log(line);
const none = await smallWhile(base, Promise.resolve());
console.log(mdRow(['none', 0, '-', '-', none.n, none.p50, none.p99]));
const hello = createMessage('HELLO', null, { version: '1.0', algorithms: ['TOKEN', 'BROTLI', 'NONE'] }, Date.now());
let sessionId = '';
await post(base, '/v1/session', serializeMessage(hello), (text) => {
  sessionId = (JSON.parse(text) as { session_id: string }).session_id;
});
const data = serializeMessage(
  createMessage('DATA', sessionId, { algorithm: 'TOKEN', content: sessionWire }, Date.now()),
);
for (const [name, path, body] of [
  ['T1 decompress', '/v1/decompress', t1],
  ['auto compress', '/v1/compress/auto', content],
  ['T1 session DATA', `/v1/session/${sessionId}/message`, data],
] as const) {
  const t0 = performance.now();
  let ms = 0;
  let status = 0;
  const big = post(base, path, body).then((s) => {
    status = s;
    ms = performance.now() - t0;
  });
  const r = await smallWhile(base, big);
  console.log(mdRow([name, body.length, status, Math.round(ms), r.n, r.p50, r.p99]));
}
child.kill('SIGTERM');
