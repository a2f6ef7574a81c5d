/**
 * A stand-in for an LLM API on 127.0.0.1 that answers with responses recorded
 * in the development corpus (`../shared/data/traffic-dev`): each Chat
 * Completions request of `sessions.jsonl` that has its response (a JSON body
 * or an SSE stream) and each embeddings pair, looked up by the request's JSON
 * value. The gateway tests and bench/gateway.ts put it behind `m2m gateway`.
 *
 * The request header `x-replay` makes it misbehave on purpose: `status:<n>`
 * (the recorded body under that status, with `Retry-After: 7`), `hang` (never
 * answers), `stall` (an SSE stream that sends its first event and then waits),
 * `cut` (an SSE stream broken off after its first event), `flood` (the first
 * event of the recorded stream repeated up to 64 MiB, written only as fast as
 * the connection drains; `flooded` counts the bytes written).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

/** A recorded request with its recorded answer. */
export interface ReplayPair {
  /** `chat` or `embeddings`. */
  api: string;
  request: string;
  response: string;
  /** The response is an SSE stream. */
  sse: boolean;
  /** The recording's source (`owner/repo:path`). */
  source: string;
}

/** Every request/response pair of the corpus in `dir` (chat and embeddings), in file order, first of equal requests. */
export function loadReplayPairs(dir: string): ReplayPair[] {
  const lines = readFileSync(resolve(dir, 'traffic.jsonl'), 'utf8').split('\n');
  const record = (n: number) => JSON.parse(lines[n] as string) as { kind: string; body: string; source: string };
  const seen = new Set<string>();
  const out: ReplayPair[] = [];
  for (const line of readFileSync(resolve(dir, 'sessions.jsonl'), 'utf8').split('\n')) {
    if (line === '') continue;
    const session = JSON.parse(line) as {
      interactions: { api: string; request: number | null; response: number | null }[];
    };
    for (const i of session.interactions) {
      if ((i.api !== 'chat' && i.api !== 'embeddings') || i.request === null || i.response === null) continue;
      const req = record(i.request);
      const res = record(i.response);
      let key: string;
      try {
        key = canonical(req.body);
      } catch {
        continue; // not JSON: not something a client SDK sends
      }
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ api: i.api, request: req.body, response: res.body, sse: res.kind === 'sse', source: req.source });
    }
  }
  return out;
}

/** The lookup key of a request body: its JSON value, re-serialized. */
export function canonical(body: string): string {
  return JSON.stringify(JSON.parse(body));
}

/** What the upstream saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Resolves when the request's connection or response closed; `true` if before the response was complete. */
  closed: Promise<boolean>;
}

export interface ReplayUpstream {
  /** Base URL including `/v1`. */
  url: string;
  seen: SeenRequest[];
  /** Bytes of the last `flood` stream written so far. */
  readonly flooded: number;
  close(): Promise<void>;
}

/** The models list `/v1/models` answers (the corpus records none). */
export const MODELS_LIST = JSON.stringify({
  object: 'list',
  data: [{ id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' }],
});

/** Starts the replaying upstream on 127.0.0.1 (a free port). */
export async function startReplayUpstream(pairs: readonly ReplayPair[]): Promise<ReplayUpstream> {
  const byRequest = new Map(pairs.map((p) => [canonical(p.request), p]));
  const seen: SeenRequest[] = [];
  let flooded = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    const closed = new Promise<boolean>((done) => res.on('close', () => done(!res.writableFinished)));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, closed });
      answer(req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
    const how = String(req.headers['x-replay'] ?? '');
    if (how === 'hang') return;
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(MODELS_LIST);
      return;
    }
    let pair: ReplayPair | undefined;
    try {
      pair = byRequest.get(canonical(body));
    } catch {
      pair = undefined;
    }
    if (!pair) {
      const error = { error: { message: 'no recorded response for this request', type: 'invalid_request_error' } };
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(error));
      return;
    }
    if (how.startsWith('status:')) {
      res.writeHead(Number(how.slice(7)), { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(pair.response);
      return;
    }
    if (!pair.sse) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_replay' }).end(pair.response);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    if (how === 'flood') {
      const first = pair.response.slice(0, pair.response.search(/\r?\n\r?\n/));
      const event = `${first}\n\n`;
      flooded = 0;
      const pump = () => {
        while (flooded < 64 * 1024 * 1024 && !res.destroyed) {
          flooded += Buffer.byteLength(event);
          if (!res.write(event)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (how === 'stall' || how === 'cut') {
      const first = pair.response.search(/\r?\n\r?\n/);
      res.write(pair.response.slice(0, first + 2));
      res.write('\n');
      if (how === 'cut') setTimeout(() => res.destroy(), 50);
      return;
    }
    // Event by event, as an API streams them.
    const events = pair.response.split(/(?<=\n\n)/);
    let i = 0;
    const next = () => {
      if (i >= events.length) return void res.end();
      const ok = res.write(events[i++] as string);
      if (ok) setImmediate(next);
      else res.once('drain', next);
    };
    next();
  }

  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    seen,
    get flooded() {
      return flooded;
    },
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}
