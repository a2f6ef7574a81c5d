// Keep-alive, missed PONGs and timeouts, on vitest's fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMessage, M2MClient, MemorySessionStore, SessionManager } from '../ts/node/session/index.js';
import { errorCode, flush, memoryChannel, rawPeer, scriptedServer } from './fixtures/session/helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const accept = (timeout = 300_000) =>
  createMessage(
    'ACCEPT',
    'sess_abc123',
    { version: '1.0', algorithms: ['NONE'], security_scanning: false, session_timeout_ms: timeout },
    Date.now(),
  );

describe('server keep-alive', () => {
  it('three missed PONGs close the session with CLOSE TIMEOUT (PING at 60 s, 70 s, 80 s; closed at 90 s)', async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({ store });
    const peer = rawPeer(manager);
    await peer.hello();
    const pings = () => peer.messages().filter((m) => m.type === 'PING').length;
    await vi.advanceTimersByTimeAsync(59_999);
    expect(pings()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings()).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pings()).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pings()).toBe(3);
    expect(peer.connection.state).toBe('ESTABLISHED');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(peer.connection.state).toBe('CLOSED');
    expect(peer.last()).toMatchObject({ type: 'CLOSE', payload: { reason: 'TIMEOUT' } });
    expect(peer.closed).toBeDefined();
    expect(await store.list()).toEqual([]);
    expect(manager.connectionCount).toBe(0);
  });

  it('a PONG resets the count of missed PONGs', async () => {
    const manager = new SessionManager();
    const peer = rawPeer(manager);
    await peer.hello();
    const id = peer.sessionId();
    await vi.advanceTimersByTimeAsync(60_000 + 10_000 + 10_000); // two missed, a third PING out
    await peer.send(createMessage('PONG', id, {}, Date.now()));
    await vi.advanceTimersByTimeAsync(60_000 + 10_000 + 10_000);
    expect(peer.connection.state).toBe('ESTABLISHED');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(peer.connection.state).toBe('CLOSED');
  });

  it('a client that answers keeps the session alive for hours', async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({ store });
    const client = new M2MClient({ url: 'ws://m/v1/ws', channel: memoryChannel(manager) });
    await client.connect();
    await vi.advanceTimersByTimeAsync(3 * 3_600_000);
    expect(client.state).toBe('ESTABLISHED');
    expect(await store.list()).toEqual([client.sessionId]);
    await client.close();
    await flush();
    expect(await store.list()).toEqual([]);
  });

  it('honours custom ping settings and maxMissedPongs', async () => {
    const manager = new SessionManager({ pingIntervalMs: 10_000, pingTimeoutMs: 5_000, maxMissedPongs: 1 });
    const peer = rawPeer(manager);
    await peer.hello();
    await vi.advanceTimersByTimeAsync(14_999);
    expect(peer.connection.state).toBe('ESTABLISHED');
    await vi.advanceTimersByTimeAsync(1);
    expect(peer.connection.state).toBe('CLOSED');
  });
});

describe('connections without a session', () => {
  it('a connection that sends no HELLO is closed after the hello timeout', async () => {
    const errors: string[] = [];
    const manager = new SessionManager({ onError: (e) => errors.push(e.code) });
    const peer = rawPeer(manager);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(peer.connection.state).toBe('INITIAL');
    await vi.advanceTimersByTimeAsync(1);
    expect(peer.connection.state).toBe('CLOSED');
    expect(peer.closed).toBeDefined();
    expect(errors).toEqual(['TIMEOUT']);
    expect(manager.connectionCount).toBe(0);
  });

  it('a flood of queued messages closes the connection (maxPendingMessages)', async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({ store, maxPendingMessages: 10, onError: () => undefined });
    const peer = rawPeer(manager);
    await peer.hello();
    const id = peer.sessionId();
    for (let i = 0; i < 100; i++) peer.connection.receive(JSON.stringify(createMessage('PING', id, {}, Date.now())));
    await flush(200);
    expect(peer.last()).toMatchObject({ type: 'CLOSE', payload: { reason: 'ERROR' } });
    expect(peer.messages().filter((m) => m.type === 'PONG').length).toBeLessThanOrEqual(10);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(peer.connection.state).toBe('CLOSED');
    expect(await store.list()).toEqual([]);
  });
});

describe('client keep-alive', () => {
  it('closes with CLOSE TIMEOUT after three unanswered PINGs', async () => {
    const server = scriptedServer();
    const client = new M2MClient({ url: 'ws://x/v1/ws', channel: server.factory });
    const connecting = client.connect();
    await flush();
    await server.deliver(accept());
    await connecting;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.sent.filter((m) => m.type === 'PING')).toHaveLength(1);
    expect(client.missedPongs).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(client.missedPongs).toBe(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(client.state).toBe('CLOSED');
    expect(server.sent.filter((m) => m.type === 'PING')).toHaveLength(3);
    expect(server.sent.at(-1)).toMatchObject({ type: 'CLOSE', payload: { reason: 'TIMEOUT' } });
    expect(client.closeInfo).toMatchObject({ reason: 'TIMEOUT', by: 'client' });
  });

  it('answers the server PINGs with PONG', async () => {
    const server = scriptedServer();
    const client = new M2MClient({ url: 'ws://x/v1/ws', channel: server.factory, keepAlive: false });
    const connecting = client.connect();
    await flush();
    await server.deliver(accept());
    await connecting;
    await server.deliver(createMessage('PING', 'sess_abc123', {}, Date.now()));
    expect(server.sent.at(-1)).toMatchObject({ type: 'PONG', session_id: 'sess_abc123' });
  });

  it('ping() resolves with the round trip, or PING_TIMEOUT after the ping timeout', async () => {
    const server = scriptedServer();
    const client = new M2MClient({ url: 'ws://x/v1/ws', channel: server.factory, keepAlive: false });
    const connecting = client.connect();
    await flush();
    await server.deliver(accept());
    await connecting;
    const ping = client.ping();
    await vi.advanceTimersByTimeAsync(25);
    await server.deliver(createMessage('PONG', 'sess_abc123', {}, Date.now()));
    expect(await ping).toBe(25);
    const lost = errorCode(() => client.ping());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await lost).toBe('PING_TIMEOUT');
    expect(client.state).toBe('ESTABLISHED');
  });

  it('pending pings fail with CLOSED when the session ends', async () => {
    const server = scriptedServer();
    const client = new M2MClient({ url: 'ws://x/v1/ws', channel: server.factory, keepAlive: false });
    const connecting = client.connect();
    await flush();
    await server.deliver(accept());
    await connecting;
    const ping = errorCode(() => client.ping());
    await server.hangUp();
    expect(await ping).toBe('CLOSED');
    expect(client.state).toBe('CLOSED');
    expect(client.closeInfo?.by).toBe('transport');
  });
});

describe('HTTP sessions expire through the store TTL', () => {
  it('an idle HTTP session is gone after session_timeout_ms; activity extends it', async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({ store, sessionTimeoutMs: 60_000 });
    const hello = createMessage('HELLO', null, { version: '1.0', algorithms: ['NONE'] }, Date.now());
    const a = await manager.handleHello(hello);
    const id = a.session_id as string;
    await vi.advanceTimersByTimeAsync(59_000);
    expect(await manager.handleMessage(id, createMessage('PING', id, {}, Date.now()))).toMatchObject([
      { type: 'PONG' },
    ]);
    await vi.advanceTimersByTimeAsync(59_000);
    expect((await manager.getSession(id))?.state).toBe('ESTABLISHED');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await manager.getSession(id)).toBeUndefined();
    expect(await errorCode(() => manager.handleMessage(id, createMessage('PING', id, {}, Date.now())))).toBe(
      'UNKNOWN_SESSION',
    );
    expect(await store.list()).toEqual([]);
  });

  it('a WebSocket session in CLOSING expires from the store after the closing timeout even if the process forgets it', async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({ store });
    const peer = rawPeer(manager);
    await peer.hello();
    const id = peer.sessionId();
    void manager.closeSession(id);
    await flush();
    expect((await store.get(id))?.state).toBe('CLOSING');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await store.get(id)).toBeUndefined();
  });
});

describe('client in HTTP mode', () => {
  /** A fetch that calls the manager directly, as the fastify routes would. */
  function directFetch(manager: SessionManager, log: string[]): typeof fetch {
    return (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      const body = String(init?.body ?? '');
      const reply = (status: number, value?: unknown) =>
        new Response(value === undefined ? null : JSON.stringify(value), { status });
      log.push(`${init?.method} ${url.pathname}`);
      try {
        if (url.pathname === '/v1/session') return reply(200, await manager.handleHello(body));
        const id = url.pathname.split('/')[3] as string;
        const out = await manager.handleMessage(id, body);
        return out[0] ? reply(200, out[0]) : reply(204);
      } catch (err) {
        const e = err as { code: string; message: string };
        return reply(e.code === 'UNKNOWN_SESSION' ? 404 : 400, { error: { code: e.code, message: e.message } });
      }
    }) as typeof fetch;
  }

  it('keeps the session alive with PINGs when idle', async () => {
    const manager = new SessionManager({ sessionTimeoutMs: 60_000 });
    const log: string[] = [];
    const client = new M2MClient({
      url: 'http://server.test',
      fetch: directFetch(manager, log),
      pingIntervalMs: 30_000,
    });
    await client.connect();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(client.state).toBe('ESTABLISHED');
    expect(log.filter((l) => l.endsWith('/message')).length).toBe(20);
    await client.close();
    expect(await manager.listSessions()).toEqual([]);
  });

  it('closes after three failed PINGs when the server is gone', async () => {
    const manager = new SessionManager({ sessionTimeoutMs: 60_000 });
    const log: string[] = [];
    let up = true;
    const fetchFn = directFetch(manager, log);
    const client = new M2MClient({
      url: 'http://server.test',
      fetch: ((i: string, o: RequestInit) =>
        up ? fetchFn(i, o) : Promise.reject(new TypeError('fetch failed'))) as typeof fetch,
    });
    await client.connect();
    up = false;
    const errors: string[] = [];
    client.onError((e) => errors.push(e.code));
    await vi.advanceTimersByTimeAsync(60_000 + 3 * 10_000);
    expect(client.state).toBe('CLOSED');
    expect(client.closeInfo).toMatchObject({ reason: 'TIMEOUT' });
    expect(errors).toContain('CONNECTION_FAILED');
  });

  it('closes itself when the session timeout passes without a reply', async () => {
    const manager = new SessionManager({ sessionTimeoutMs: 60_000 });
    const client = new M2MClient({ url: 'http://server.test', fetch: directFetch(manager, []), keepAlive: false });
    await client.connect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(client.state).toBe('CLOSED');
    expect(client.closeInfo).toMatchObject({ reason: 'TIMEOUT', by: 'client' });
    expect(await errorCode(() => client.send('late'))).toBe('INVALID_STATE');
  });

  it('learns that the server dropped the session (UNKNOWN_SESSION) and closes', async () => {
    const manager = new SessionManager();
    const client = new M2MClient({ url: 'http://server.test', fetch: directFetch(manager, []), keepAlive: false });
    await client.connect();
    expect(await manager.closeSession(client.sessionId as string, 'SERVER_SHUTDOWN')).toBe(true);
    expect(await errorCode(() => client.send('late'))).toBe('UNKNOWN_SESSION');
    await flush();
    expect(client.state).toBe('CLOSED');
  });
});
