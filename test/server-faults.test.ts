// The server under faults, on loopback only: Redis stopped and restarted
// mid-run, a worker killed mid-session, slow and oversized requests, a large
// T1 request beside small ones, hostile input. Each test checks what keeps
// working and exactly what the clients see.
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { compress, decompress, decompressAsync, decompressDetailed, decompressDetailedAsync } from '../ts/index.js';
import { startServer } from '../ts/node/server/index.js';
import { createMessage, serializeMessage } from '../ts/node/session/index.js';

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** Spawns a process and resolves with the first stdout line that matches. */
function spawnUntil(cmd: string, args: string[], ready: RegExp, env?: NodeJS.ProcessEnv) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise<{ child: ChildProcess; line: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (ready.test(line)) resolve({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code} before it was ready`)));
  });
}

const freePort = () => 20_000 + Math.floor(Math.random() * 20_000);

/** redis-server on loopback without persistence: a restart loses everything, as an unconfigured Redis does. */
async function startRedis(port: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  return (await spawnUntil('redis-server', args, /Ready to accept connections/)).child;
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field
type Json = Record<string, any>;

/** One request on a fresh connection (so a cluster spreads them over its workers). */
function http(
  method: string,
  url: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
) {
  return new Promise<{ status: number; body: Json; text: string }>((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: { 'content-type': 'application/json', ...headers } });
    if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Json = {};
        try {
          json = JSON.parse(text) as Json;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body: json, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const hello = () =>
  serializeMessage(createMessage('HELLO', null, { version: '1.0', algorithms: ['TOKEN_NATIVE', 'NONE'] }, Date.now()));
const ping = (id: string) => serializeMessage(createMessage('PING', id, {}, Date.now()));
const CHAT = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Explain Brotli briefly.' }] });

describe('Redis stopped and restarted mid-run', () => {
  it('keeps the stateless routes and /health up, answers 503 on sessions, then recovers and says SESSION_LOST', async () => {
    const port = freePort();
    let redis = await startRedis(port);
    const server = await startServer({ port: 0, logLevel: false, redisUrl: `redis://127.0.0.1:${port}` });
    const base = server.url;
    try {
      const accept = await http('POST', `${base}/v1/session`, hello());
      expect(accept.status).toBe(200);
      const id = accept.body.session_id as string;
      expect((await http('POST', `${base}/v1/session/${id}/message`, ping(id))).body.type).toBe('PONG');
      expect((await http('GET', `${base}/health`)).body).toMatchObject({ status: 'ok', rate_limit: 'redis' });

      await kill(redis);
      await waitFor(async () => (await http('GET', `${base}/health`)).body.store?.state === 'down', 'store down');
      const health = await http('GET', `${base}/health`);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'degraded', store: { type: 'redis', state: 'down' } });
      // Stateless work needs no Redis.
      for (let i = 0; i < 5; i++) {
        const c = await http('POST', `${base}/v1/compress`, JSON.stringify({ content: CHAT, algorithm: 'brotli' }));
        expect(c.status).toBe(200);
        const d = await http('POST', `${base}/v1/decompress`, JSON.stringify({ wire: c.body.wire }));
        expect(d.body.content).toBe(CHAT);
      }
      expect((await http('GET', `${base}/health`)).body.rate_limit).toBe('memory (Redis unreachable)');
      // Sessions do, and say so.
      const lost = await http('POST', `${base}/v1/session/${id}/message`, ping(id));
      expect(lost.status).toBe(503);
      expect(lost.body.error.code).toBe('STORE_UNAVAILABLE');
      const refused = await http('POST', `${base}/v1/session`, hello());
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('STORE_UNAVAILABLE');
      const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/ws`);
      const wsReply = await new Promise<Json>((resolve, reject) => {
        ws.once('open', () => ws.send(hello()));
        ws.once('message', (data) => resolve(JSON.parse(String(data)) as Json));
        ws.once('error', reject);
      });
      expect(wsReply).toMatchObject({ type: 'REJECT', payload: { code: 'SERVER_BUSY' } });
      expect(wsReply.payload.message).toContain('STORE_UNAVAILABLE');
      ws.close();

      // Redis comes back empty: the old session is reported lost, new ones work, counts go back to Redis.
      redis = await startRedis(port);
      await waitFor(async () => (await http('GET', `${base}/health`)).body.status === 'ok', 'store up');
      const gone = await http('POST', `${base}/v1/session/${id}/message`, ping(id));
      expect(gone.status).toBe(410);
      expect(gone.body.error.code).toBe('SESSION_LOST');
      const again = await http('POST', `${base}/v1/session`, hello());
      expect(again.body.type).toBe('ACCEPT');
      const id2 = again.body.session_id as string;
      expect((await http('POST', `${base}/v1/session/${id2}/message`, ping(id2))).body.type).toBe('PONG');
      // The limiter tries Redis again on the next limited request a second after a failure.
      await waitFor(async () => {
        await http('POST', `${base}/v1/compress`, JSON.stringify({ content: 'hi' }));
        return (await http('GET', `${base}/health`)).body.rate_limit === 'redis';
      }, 'limiter on Redis');
    } finally {
      await server.close();
      await kill(redis);
    }
  }, 90_000);
});

describe('a worker killed mid-session (two workers sharing Redis)', () => {
  it('carries the session on in the other worker and the replacement, losing nothing', async () => {
    const port = freePort();
    const redis = await startRedis(port);
    const env = { ...process.env, M2M_REDIS_URL: `redis://127.0.0.1:${port}` };
    const cli = ['--import', 'tsx', 'ts/node/cli.ts', 'server', '--port', '0', '--workers', '2', '--json'];
    const { child, line } = await spawnUntil(process.execPath, cli, /"url"/, env);
    const base = (JSON.parse(line) as { url: string }).url;
    try {
      const accept = await http('POST', `${base}/v1/session`, hello());
      const id = accept.body.session_id as string;
      const pids = new Set<number>();
      for (let i = 0; i < 6; i++) {
        expect((await http('POST', `${base}/v1/session/${id}/message`, ping(id))).body.type).toBe('PONG');
      }
      for (let i = 0; i < 4; i++) pids.add((await http('GET', `${base}/status`)).body.pid as number);
      expect(pids.size).toBe(2);
      process.kill([...pids][0] as number, 'SIGKILL');
      // A connection the primary hands to the worker as it dies is lost (the client times out, here
      // after 3 s, and retries); every other request is answered, by the survivor or the replacement.
      let lost = 0;
      for (let i = 0; i < 10; i++) {
        const r = await http('POST', `${base}/v1/session/${id}/message`, ping(id), {}, 3000).catch(() => undefined);
        if (r === undefined) lost++;
        else expect(r.body.type).toBe('PONG');
      }
      expect(lost).toBeLessThanOrEqual(1);
      const info = await http('GET', `${base}/v1/session/${id}`);
      // HELLO and every answered PING are recorded: the session's state lives in Redis, not in the worker.
      expect(info.body.messages_received).toBe(1 + 6 + 10 - lost);
    } finally {
      await kill(child, 'SIGTERM');
      await kill(redis);
    }
  }, 90_000);
});

describe('limits that hold', () => {
  it('cuts slow headers and slow bodies with 408 within a second of the deadline, and serves others meanwhile', async () => {
    const server = await startServer({ port: 0, logLevel: false, requestTimeoutMs: 1000 });
    const { port } = new URL(server.url);
    const slow = (first: string, drip: string) =>
      new Promise<{ text: string; ms: number }>((resolve) => {
        const t0 = Date.now();
        const socket = connect(Number(port), '127.0.0.1');
        let text = '';
        socket.write(first);
        const timer = setInterval(() => socket.writable && socket.write(drip), 100);
        socket.on('data', (d) => {
          text += d.toString();
        });
        socket.on('close', () => {
          clearInterval(timer);
          resolve({ text, ms: Date.now() - t0 });
        });
        socket.on('error', () => {});
      });
    try {
      const [headers, body, health] = await Promise.all([
        slow('POST /v1/compress HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n'),
        slow(
          'POST /v1/compress HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
          ' ',
        ),
        http('GET', `${server.url}/health`),
      ]);
      expect(health.status).toBe(200);
      for (const r of [headers, body]) {
        expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
        expect(JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4))).toEqual({
          error: { code: 'REQUEST_TIMEOUT', message: 'the request was not received within 1000 ms' },
        });
        // The bound: enforced within a second of the setting.
        expect(r.ms).toBeLessThan(2000);
      }
    } finally {
      await server.close();
    }
  });

  it('answers a 64 KiB header with 431 and a code (the client reads it; no reset)', async () => {
    const server = await startServer({ port: 0, logLevel: false });
    try {
      const r = await http('GET', `${server.url}/health`, undefined, { 'x-big': 'a'.repeat(64 * 1024) });
      expect(r.status).toBe(431);
      expect(r.body.error.code).toBe('HEADERS_TOO_LARGE');
      expect(r.body.error.message).not.toBe('');
    } finally {
      await server.close();
    }
  });

  it('never rate-limits /health and /metrics; a 429 has a code, a message and Retry-After', async () => {
    const server = await startServer({ port: 0, logLevel: false, rateLimit: { perClient: 3 } });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 5; i++) {
        last = await fetch(`${server.url}/v1/compress`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content: 'hi' }),
        });
        statuses.push(last.status);
        if (i < 4) await last.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await last?.json()) as Json;
      expect(body.error.code).toBe('RATE_LIMITED');
      expect(body.error.message).toMatch(/3 requests per minute/);
      for (let i = 0; i < 10; i++) {
        expect((await fetch(`${server.url}/health`)).status).toBe(200);
        expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
      }
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/m2m_rate_limited_total 2/);
    } finally {
      await server.close();
    }
  });

  it('shares the per-client limit between two workers without Redis', async () => {
    const env = { ...process.env, M2M_RATE_LIMIT_PER_CLIENT: '40' };
    const cli = ['--import', 'tsx', 'ts/node/cli.ts', 'server', '--port', '0', '--workers', '2', '--json'];
    const { child, line } = await spawnUntil(process.execPath, cli, /"url"/, env);
    const base = (JSON.parse(line) as { url: string }).url;
    try {
      // The limit counts in fixed one-minute windows: start well inside one, so that no new window
      // (with fresh counts) opens during the 124 requests.
      const left = 60_000 - (Date.now() % 60_000);
      if (left < 20_000) await new Promise((done) => setTimeout(done, left + 100));
      // Both workers serve (these 4 requests count too).
      const pids = new Set<number>();
      for (let i = 0; i < 4; i++) pids.add((await http('GET', `${base}/status`)).body.pid as number);
      expect(pids.size).toBe(2);
      let ok = 0;
      for (let i = 0; i < 120; i++) {
        const r = await http('POST', `${base}/v1/compress`, JSON.stringify({ content: 'hi' }));
        if (r.status === 200) ok++;
        else expect(r.body.error.code).toBe('RATE_LIMITED');
      }
      // Counted per worker, two workers would allow 80 in all; shared, 40 (plus what one sync interval lets through).
      expect(ok).toBeGreaterThanOrEqual(36);
      expect(ok).toBeLessThan(56);
    } finally {
      await kill(child, 'SIGTERM');
    }
  }, 60_000);
});

describe('the work pool budget', () => {
  it('stops a large request past its budget with 503 BUDGET_EXCEEDED and keeps serving', async () => {
    // 1 ms cannot even start the work thread: the job is stopped, the thread replaced.
    const server = await startServer({ port: 0, logLevel: false, workBudgetMs: 1 });
    try {
      const large = JSON.stringify({ content: CHAT.repeat(400) });
      const r = await http('POST', `${server.url}/v1/compress`, large);
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('BUDGET_EXCEEDED');
      const small = await http('POST', `${server.url}/v1/compress`, JSON.stringify({ content: CHAT }));
      expect(small.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('exact input', () => {
  it('refuses bytes that are not UTF-8 with 400 INVALID_UTF8, small or large, stateless or in a session', async () => {
    const server = await startServer({ port: 0, logLevel: false });
    const bad = (n: number) =>
      Buffer.concat([Buffer.from('{"content":"'), Buffer.alloc(n, 'a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    try {
      for (const body of [bad(10), bad(100_000)]) {
        const r = await http('POST', `${server.url}/v1/compress`, body);
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('INVALID_UTF8');
      }
      const accept = await http('POST', `${server.url}/v1/session`, hello());
      const id = accept.body.session_id as string;
      const r = await http('POST', `${server.url}/v1/session/${id}/message`, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]));
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('INVALID_UTF8');
      // A lone surrogate, escaped in valid JSON, is refused by decompression too.
      const s = await http('POST', `${server.url}/v1/decompress`, '{"wire":"ab\\udc00cd"}');
      expect(s.status).toBe(400);
      expect(s.body.error.code).toBe('INVALID_UTF8');
    } finally {
      await server.close();
    }
  });

  it('refuses lone surrogates in every decompress entry point (passthrough, #DI|, #T1|)', async () => {
    for (const wire of ['ab\udc00cd', '#DI|ab\ud800', '#T1|{"c":"\udfff"}', `#BR|\ud800${'x'.repeat(70_000)}`]) {
      for (const fn of [decompress, (w: string) => decompressDetailed(w).text]) {
        expect(() => fn(wire)).toThrow(expect.objectContaining({ code: 'INVALID_UTF8' }));
      }
      for (const fn of [decompressAsync, async (w: string) => (await decompressDetailedAsync(w)).text]) {
        await expect(fn(wire)).rejects.toMatchObject({ code: 'INVALID_UTF8' });
      }
    }
    // Well-formed pairs are fine.
    expect(decompress('ab\ud83d\ude00cd')).toBe('ab\ud83d\ude00cd');
  });
});

describe('a large T1 request beside small ones', () => {
  const messages = Array.from({ length: 9_000 }, (_, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: `message ${i}: ${'the quick brown fox jumps over the lazy dog, again and again. '.repeat(22)}`,
  }));
  const request = JSON.stringify({ model: 'gpt-4o', messages });
  const wire = compress(request, { algorithm: 'token' }).wire;

  /** A server process with no per-client limit (this measures latency; the small requests' count depends on how long the decode takes). */
  async function serverProcess() {
    const { child, line } = await spawnUntil(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/server-process.ts', '{"port":0,"rateLimit":{"perClient":1000000}}'],
      /^http/,
    );
    return { child, base: line.trim() };
  }

  /** p99 of small requests from 8 concurrent clients, until `until` settles (and at least 200 requests). */
  async function p99While(base: string, until: Promise<unknown>): Promise<number> {
    const small = JSON.stringify({ content: CHAT });
    let settled = false;
    void until.finally(() => {
      settled = true;
    });
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!settled || times.length < 200) {
          const t0 = performance.now();
          const r = await http('POST', `${base}/v1/compress/auto`, small);
          times.push(performance.now() - t0);
          expect(r.status).toBe(200);
        }
      }),
    );
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length * 0.99)] as number;
  }

  it('keeps small requests fast while a ~12 MiB T1 wire is decoded', async () => {
    expect(wire.startsWith('#T1|')).toBe(true);
    const large = JSON.stringify({ wire });
    expect(large.length).toBeGreaterThan(10 * 1024 * 1024);
    const { child, base } = await serverProcess();
    try {
      // Warm up (the first large request starts the work thread).
      expect(
        (await http('POST', `${base}/v1/decompress`, JSON.stringify({ wire: wire.slice(0, 20_000) }))).status,
      ).toBe(400);
      // The same load without and with the large request: this machine is shared, so the bound is relative.
      const baseline = await p99While(base, Promise.resolve());
      // The large request's own time is not the point (a shared machine may take 20 s or more): only the small ones'.
      const big = http('POST', `${base}/v1/decompress`, large, {}, 90_000);
      const during = await p99While(base, big);
      const result = await big;
      expect(result.status).toBe(200);
      expect(result.body.content).toBe(request);
      // Decoded on the event loop, the T1 wire would hold every small request for seconds.
      // The target is 50 ms on an idle machine (bench/load.ts measures it); the bound here is generous.
      expect(during).toBeLessThan(Math.max(250, 4 * baseline));
    } finally {
      await kill(child, 'SIGTERM');
    }
  }, 120_000);

  it('keeps small requests fast while a ~8 MiB T1 session DATA is decoded and its reply encoded', async () => {
    // Under the 10 MiB a DATA message's content may have.
    const sessionRequest = JSON.stringify({ model: 'gpt-4o', messages: messages.slice(0, 7_000) });
    const sessionWire = compress(sessionRequest, { algorithm: 'token' }).wire;
    expect(sessionWire.length).toBeGreaterThan(8 * 1024 * 1024);
    const { child, base } = await serverProcess();
    try {
      const helloT1 = serializeMessage(
        createMessage('HELLO', null, { version: '1.0', algorithms: ['TOKEN', 'BROTLI', 'NONE'] }, Date.now()),
      );
      const accept = await http('POST', `${base}/v1/session`, helloT1);
      expect(accept.body.type).toBe('ACCEPT');
      const id = accept.body.session_id as string;
      const data = (content: string) =>
        serializeMessage(createMessage('DATA', id, { algorithm: 'TOKEN', content }, Date.now()));
      // Warm up the work thread with a DATA it refuses (a truncated T1 wire), as the stateless test does.
      const refused = await http('POST', `${base}/v1/session/${id}/message`, data(sessionWire.slice(0, 20_000)));
      expect(refused.status).toBe(400);
      const baseline = await p99While(base, Promise.resolve());
      const big = http('POST', `${base}/v1/session/${id}/message`, data(sessionWire), {}, 90_000);
      const during = await p99While(base, big);
      const result = await big;
      expect(result.body).toMatchObject({ type: 'DATA' });
      expect(result.status).toBe(200);
      // The server's handler echoes what it received: the reply decodes to exactly that.
      expect(decompress(result.body.payload.content)).toBe(`echo:${sessionRequest}`);
      expect(during).toBeLessThan(Math.max(250, 4 * baseline));
    } finally {
      await kill(child, 'SIGTERM');
    }
  }, 120_000);
});

describe('hostile session messages over WebSocket', () => {
  it('answers every refused message with ERROR and a code, and the session stays usable', async () => {
    const server = await startServer({
      port: 0,
      logLevel: false,
      rateLimit: { perSession: 3 },
      onData: (content) => `echo:${content}`,
    });
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/ws`);
    const inbox: Json[] = [];
    let wake: (() => void) | undefined;
    ws.on('message', (data) => {
      inbox.push(JSON.parse(String(data)) as Json);
      wake?.();
    });
    const next = async (): Promise<Json> => {
      while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
      return inbox.shift() as Json;
    };
    const send = (type: string, sessionId: string | null, payload: object) =>
      ws.send(serializeMessage(createMessage(type as 'DATA', sessionId, payload as never, Date.now())));
    try {
      await new Promise((r) => ws.once('open', r));
      ws.send(hello());
      const accept = await next();
      expect(accept.type).toBe('ACCEPT');
      const id = accept.session_id as string;

      ws.send(hello());
      expect(await next()).toMatchObject({
        type: 'ERROR',
        session_id: id,
        payload: { code: 'INVALID_STATE', refused: 'HELLO' },
      });
      send('DATA', id, { algorithm: 'BROTLI', content: '#BR|not base64!' });
      const refused = await next();
      expect(refused).toMatchObject({ type: 'ERROR', payload: { refused: 'DATA' } });
      expect(refused.payload.code).toMatch(/^[A-Z_]+$/);
      send('DATA', id, { algorithm: 'NONE', content: 'one' });
      expect(await next()).toMatchObject({ type: 'DATA', payload: { content: 'echo:one' } });
      send('DATA', id, { algorithm: 'NONE', content: 'two' });
      expect(await next()).toMatchObject({ type: 'DATA' });
      // The third DATA of the minute is over the per-session limit.
      send('DATA', id, { algorithm: 'NONE', content: 'three' });
      expect(await next()).toMatchObject({ type: 'ERROR', payload: { code: 'RATE_LIMITED', refused: 'DATA' } });
      // Still ESTABLISHED: PING works.
      send('PING', id, {});
      expect(await next()).toMatchObject({ type: 'PONG', session_id: id });
      // A malformed message ends the session (spec §6.8.2) with CLOSE ERROR.
      ws.send('{"type":"DATA","session_id":');
      expect(await next()).toMatchObject({ type: 'CLOSE', payload: { reason: 'ERROR' } });
    } finally {
      ws.terminate();
      await server.close();
    }
  });
});

describe('logs', () => {
  /** Runs `m2m server` with `flags`, makes a few requests, and returns its stdout lines. */
  async function logLines(flags: string[], env: NodeJS.ProcessEnv = {}) {
    const cli = ['--import', 'tsx', 'ts/node/cli.ts', 'server', '--port', '0', ...flags];
    const child = spawn(process.execPath, cli, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.add(child);
    const lines: string[] = [];
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => lines.push(l));
    await waitFor(async () => lines.some((l) => /127\.0\.0\.1:\d+/.test(l) && !/Server listening/.test(l)), 'url');
    const base = /http:\/\/127\.0\.0\.1:\d+/.exec(lines.find((l) => /m2m server|"url"/.test(l)) ?? '')?.[0] as string;
    const secret = 'the secret content of a request';
    await http('POST', `${base}/v1/compress`, JSON.stringify({ content: secret, algorithm: 'brotli' }));
    const accept = await http('POST', `${base}/v1/session`, hello());
    const id = accept.body.session_id as string;
    await http('POST', `${base}/v1/session/${id}/message`, ping(id));
    await kill(child, 'SIGTERM');
    return { lines, id, secret };
  }

  for (const [name, flags, env] of [
    ['--log-json', ['--log-json'], {}],
    ['M2M_LOG_JSON=true', [], { M2M_LOG_JSON: 'true' }],
    ['text', [], {}],
  ] as [string, string[], NodeJS.ProcessEnv][]) {
    it(`${name}: one line per request, in one format, without bodies or session ids`, async () => {
      const { lines, id, secret } = await logLines(flags, env);
      const json = name !== 'text';
      for (const line of lines) {
        expect(line.startsWith('{')).toBe(json);
        if (json) expect(() => JSON.parse(line)).not.toThrow();
        expect(line).not.toContain(id);
        expect(line).not.toContain(secret);
      }
      const requests = lines.filter((l) => (json ? JSON.parse(l).msg === 'request' : / INFO request /.test(l)));
      expect(requests).toHaveLength(3);
      if (json) {
        expect(JSON.parse(requests[0] as string)).toMatchObject({
          method: 'POST',
          route: '/v1/compress',
          status: 200,
          algorithm: 'brotli',
          bytes_in: expect.any(Number),
          bytes_out: expect.any(Number),
          ms: expect.any(Number),
        });
        expect(JSON.parse(requests[2] as string).route).toBe('/v1/session/:id/message');
      } else {
        expect(requests[0]).toMatch(
          /method=POST route=\/v1\/compress status=200 ms=[\d.]+ bytes_in=\d+ bytes_out=\d+ algorithm=brotli/,
        );
      }
    }, 60_000);
  }
});
