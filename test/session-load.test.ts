// 1,000 concurrent sessions on one server over real WebSocket: no cross-talk, nothing left behind.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect, it } from 'vitest';
import { attachSessionWebSocket, M2MClient, MemorySessionStore, SessionManager } from '../ts/node/session/index.js';

const SESSIONS = 1000;

function getGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

async function settle(gc: (() => void) | undefined): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().heapUsed;
}

it(`serves ${SESSIONS} concurrent sessions without cross-talk or leaks`, async () => {
  const gc = getGc();
  const store = new MemorySessionStore();
  const errors: string[] = [];
  const manager = new SessionManager({
    store,
    onData: (content, ctx) => `${ctx.sessionId}|${content}`,
    onError: (e) => errors.push(e.code),
  });
  const server = createServer();
  const handle = attachSessionWebSocket(server, manager);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}/v1/ws`;

  // Warm up (code paths, tokenizer ranks) so the heap figures compare like with like.
  const warm = new M2MClient({ url });
  await warm.connect();
  await warm.send('warm up');
  await warm.close();

  const heapBefore = await settle(gc);
  const started = performance.now();
  const clients = Array.from({ length: SESSIONS }, () => new M2MClient({ url }));
  await Promise.all(clients.map((c) => c.connect()));
  const connectedAt = performance.now();
  expect(await store.list()).toHaveLength(SESSIONS);
  expect(new Set(clients.map((c) => c.sessionId)).size).toBe(SESSIONS);

  const results = await Promise.all(
    clients.map(async (c, i) => {
      const received = c.messages();
      const mine = [
        `client ${i} first`,
        JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `n=${i}` }] }),
      ];
      const got: string[] = [];
      for (const text of mine) {
        await c.send(text);
        const next = await received.next();
        got.push(next.value as string);
      }
      await received.return?.();
      return { expected: mine.map((t) => `${c.sessionId}|${t}`), got };
    }),
  );
  for (const r of results) expect(r.got).toEqual(r.expected);
  const exchangedAt = performance.now();

  await Promise.all(clients.map((c) => c.close()));
  for (const c of clients) expect(c.state).toBe('CLOSED');
  // The server finishes each close when it sees the socket close.
  for (let i = 0; i < 100 && (manager.connectionCount > 0 || (await store.list()).length > 0); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const closedAt = performance.now();
  expect(manager.connectionCount).toBe(0);
  expect(manager.pendingLocks).toBe(0);
  expect(await store.list()).toEqual([]);
  expect(store.size).toBe(0);
  expect(errors).toEqual([]);
  clients.length = 0;
  results.length = 0;

  const heapAfter = await settle(gc);
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(
    `[session-load] ${SESSIONS} sessions: connect ${(connectedAt - started).toFixed(0)} ms, ` +
      `2 round trips each ${(exchangedAt - connectedAt).toFixed(0)} ms, close ${(closedAt - exchangedAt).toFixed(0)} ms, ` +
      `total ${(closedAt - started).toFixed(0)} ms; heapUsed before ${mib(heapBefore)} MiB, after ${mib(heapAfter)} MiB ` +
      `(${gc ? 'after gc()' : 'gc not available'})`,
  );

  await handle.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
