// The state machine (spec §6.2): the full (role, state, event) table, then each
// transition of the spec's table driven through the real client and server.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createMessage,
  M2MClient,
  MemorySessionStore,
  nextState,
  type Role,
  SESSION_EVENTS,
  SESSION_STATES,
  type SessionEvent,
  SessionManager,
  type SessionState,
  StateMachine,
  TRANSITIONS,
  transition,
} from '../ts/node/session/index.js';
import { errorCode, flush, memoryChannel, rawPeer, scriptedServer } from './fixtures/session/helpers.js';

type Row = [roles: Role[], from: SessionState, event: SessionEvent, to: SessionState];
const BOTH: Role[] = ['client', 'server'];

// Spec §6.2.3, row by row.
const SPEC_ROWS: Row[] = [
  [['client'], 'INITIAL', 'create_hello', 'HELLO_SENT'],
  [['server'], 'INITIAL', 'process_hello', 'ESTABLISHED'],
  [['client'], 'HELLO_SENT', 'process_accept', 'ESTABLISHED'],
  [['client'], 'HELLO_SENT', 'process_reject', 'CLOSED'],
  [['client'], 'HELLO_SENT', 'hello_timeout', 'CLOSED'],
  [BOTH, 'ESTABLISHED', 'close', 'CLOSING'],
  [BOTH, 'ESTABLISHED', 'receive_close', 'CLOSED'],
  [BOTH, 'ESTABLISHED', 'timeout', 'CLOSED'],
  [BOTH, 'CLOSING', 'closing_timeout', 'CLOSED'],
];

// What the implementation adds (see ts/protocol/state.ts): the operations valid
// in ESTABLISHED, the diagram's CLOSING → CLOSED on the peer's CLOSE, a lost connection, and the
// client receiving ERROR (the server's refusal notice, which changes no state).
const EXTRA_ROWS: Row[] = [
  [BOTH, 'CLOSING', 'receive_close', 'CLOSED'],
  [BOTH, 'ESTABLISHED', 'send_data', 'ESTABLISHED'],
  [BOTH, 'ESTABLISHED', 'receive_data', 'ESTABLISHED'],
  [BOTH, 'ESTABLISHED', 'send_ping', 'ESTABLISHED'],
  [BOTH, 'ESTABLISHED', 'receive_ping', 'ESTABLISHED'],
  [BOTH, 'ESTABLISHED', 'receive_pong', 'ESTABLISHED'],
  [['client'], 'ESTABLISHED', 'receive_error', 'ESTABLISHED'],
  [['client'], 'CLOSING', 'receive_error', 'CLOSING'],
  [BOTH, 'INITIAL', 'connection_lost', 'CLOSED'],
  [['client'], 'HELLO_SENT', 'connection_lost', 'CLOSED'],
  [BOTH, 'ESTABLISHED', 'connection_lost', 'CLOSED'],
  [BOTH, 'CLOSING', 'connection_lost', 'CLOSED'],
];

function expected(role: Role, from: SessionState, event: SessionEvent): SessionState | undefined {
  for (const [roles, f, e, to] of [...SPEC_ROWS, ...EXTRA_ROWS])
    if (roles.includes(role) && f === from && e === event) return to;
  return undefined;
}

describe('state table', () => {
  it('marks exactly the spec rows as spec', () => {
    const spec = TRANSITIONS.filter((t) => t.spec).map((t) => [[...t.roles], t.from, t.event, t.to]);
    expect(spec).toEqual(SPEC_ROWS);
  });

  const pairs: [Role, SessionState, SessionEvent][] = [];
  for (const role of ['client', 'server'] as Role[])
    for (const state of SESSION_STATES) for (const event of SESSION_EVENTS) pairs.push([role, state, event]);

  it.each(pairs)('%s in %s on %s', async (role, state, event) => {
    const to = expected(role, state, event);
    if (to === undefined) {
      expect(nextState(role, state, event)).toBeUndefined();
      expect(await errorCode(() => transition(role, state, event))).toBe('INVALID_STATE');
    } else {
      expect(transition(role, state, event)).toBe(to);
    }
  });

  it('nothing leaves CLOSED', () => {
    for (const role of ['client', 'server'] as Role[])
      for (const event of SESSION_EVENTS) expect(nextState(role, 'CLOSED', event)).toBeUndefined();
  });

  it('StateMachine applies the table and reports changes', async () => {
    const changes: string[] = [];
    const m = new StateMachine('client', (from, to, event) => changes.push(`${from}-${event}->${to}`));
    expect(m.can('process_hello')).toBe(false);
    m.apply('create_hello');
    m.apply('process_accept');
    m.apply('send_data');
    expect(await errorCode(() => m.apply('create_hello'))).toBe('INVALID_STATE');
    m.apply('close');
    m.apply('closing_timeout');
    expect(m.state).toBe('CLOSED');
    expect(changes).toEqual([
      'INITIAL-create_hello->HELLO_SENT',
      'HELLO_SENT-process_accept->ESTABLISHED',
      'ESTABLISHED-close->CLOSING',
      'CLOSING-closing_timeout->CLOSED',
    ]);
  });
});

// Each spec row through the real objects, on fake timers.
describe('spec transitions, end to end', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const setup = (options: ConstructorParameters<typeof SessionManager>[0] = {}) => {
    const store = new MemorySessionStore();
    const errors: string[] = [];
    const manager = new SessionManager({
      store,
      onData: (c) => `re:${c}`,
      onError: (e) => errors.push(e.code),
      ...options,
    });
    const client = new M2MClient({ url: 'ws://memory/v1/ws', channel: memoryChannel(manager) });
    return { store, manager, client, errors };
  };

  it('INITIAL --create_hello--> HELLO_SENT, HELLO_SENT --process_accept--> ESTABLISHED (client)', async () => {
    const { client } = setup();
    expect(client.state).toBe('INITIAL');
    const connecting = client.connect();
    expect(client.state).toBe('HELLO_SENT');
    const params = await connecting;
    expect(client.state).toBe('ESTABLISHED');
    expect(client.sessionId).toMatch(/^sess_[A-Za-z0-9]{20}$/);
    expect(params.algorithms).toContain('token-native');
    // A second connect is not valid any more.
    expect(await errorCode(() => client.connect())).toBe('INVALID_STATE');
  });

  it('INITIAL --process_hello--> ESTABLISHED (server), with the record in the store', async () => {
    const { manager, store } = setup();
    const peer = rawPeer(manager);
    expect(peer.connection.state).toBe('INITIAL');
    const reply = await peer.hello();
    expect(reply?.type).toBe('ACCEPT');
    expect(peer.connection.state).toBe('ESTABLISHED');
    expect((await store.get(peer.sessionId()))?.state).toBe('ESTABLISHED');
  });

  it('HELLO_SENT --process_reject--> CLOSED', async () => {
    const manager = new SessionManager({ algorithms: ['dictionary'] });
    const rejected = new M2MClient({ url: 'ws://m/v1/ws', algorithms: ['brotli'], channel: memoryChannel(manager) });
    expect(await errorCode(() => rejected.connect())).toBe('NO_COMMON_ALGORITHM');
    expect(rejected.state).toBe('CLOSED');
    expect(rejected.rejection?.code).toBe('NO_COMMON_ALGORITHM');
    expect(rejected.closeInfo).toMatchObject({ reason: 'NO_COMMON_ALGORITHM', by: 'server' });
    await flush();
    expect(manager.connectionCount).toBe(0);
  });

  it('HELLO_SENT --hello_timeout (30 s)--> CLOSED', async () => {
    const server = scriptedServer();
    const client = new M2MClient({ url: 'ws://x/v1/ws', channel: server.factory });
    const connecting = client.connect();
    const outcome = errorCode(() => connecting);
    await flush();
    expect(server.sent.map((m) => m.type)).toEqual(['HELLO']);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(client.state).toBe('HELLO_SENT');
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe('TIMEOUT');
    expect(client.state).toBe('CLOSED');
    expect(server.closed).toBe(true);
  });

  it('ESTABLISHED --close--> CLOSING (client), then the server acknowledges by closing the connection', async () => {
    const { client, manager, store } = setup();
    await client.connect();
    const closing = client.close('CLIENT_SHUTDOWN', 'bye');
    expect(client.state).toBe('CLOSING');
    expect(await closing).toEqual({ reason: 'CLIENT_SHUTDOWN', message: 'bye', by: 'client' });
    expect(client.state).toBe('CLOSED');
    await flush();
    expect(await store.list()).toEqual([]);
    expect(manager.connectionCount).toBe(0);
  });

  it('ESTABLISHED --close--> CLOSING (server): CLOSE is sent and the store shows CLOSING', async () => {
    const { manager, store } = setup();
    const peer = rawPeer(manager);
    await peer.hello();
    const id = peer.sessionId();
    void manager.closeSession(id, 'SERVER_SHUTDOWN');
    await flush();
    expect(peer.connection.state).toBe('CLOSING');
    expect(peer.last()).toMatchObject({ type: 'CLOSE', session_id: id, payload: { reason: 'SERVER_SHUTDOWN' } });
    expect(await store.get(id)).toMatchObject({ state: 'CLOSING', closeReason: 'SERVER_SHUTDOWN' });
    // CLOSING --receive_close--> CLOSED: the peer answers with CLOSE.
    await peer.send(createMessage('CLOSE', id, { reason: 'NORMAL' }, Date.now()));
    expect(peer.connection.state).toBe('CLOSED');
    expect(peer.closed).toBeDefined();
    expect(await store.list()).toEqual([]);
  });

  it('ESTABLISHED --receive_close--> CLOSED (server receives CLOSE)', async () => {
    const { manager, store } = setup();
    const peer = rawPeer(manager);
    await peer.hello();
    await peer.send(createMessage('CLOSE', peer.sessionId(), { reason: 'NORMAL' }, Date.now()));
    expect(peer.connection.state).toBe('CLOSED');
    expect(peer.closed?.code).toBe(1000);
    expect(await store.list()).toEqual([]);
  });

  it('ESTABLISHED --receive_close--> CLOSED (client receives CLOSE)', async () => {
    const { client, manager } = setup();
    await client.connect();
    const closed = client.closed;
    await manager.closeSession(client.sessionId as string, 'SERVER_SHUTDOWN', 'maintenance');
    expect(await closed).toEqual({ reason: 'SERVER_SHUTDOWN', message: 'maintenance', by: 'server' });
    expect(client.state).toBe('CLOSED');
  });

  it('ESTABLISHED --timeout--> CLOSED (server: session timeout, no keep-alive)', async () => {
    const { manager, store } = setup({ keepAlive: false, sessionTimeoutMs: 60_000 });
    const peer = rawPeer(manager);
    await peer.hello();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(peer.connection.state).toBe('ESTABLISHED');
    await vi.advanceTimersByTimeAsync(1);
    expect(peer.connection.state).toBe('CLOSED');
    expect(peer.last()).toMatchObject({ type: 'CLOSE', payload: { reason: 'TIMEOUT' } });
    expect(await store.list()).toEqual([]);
  });

  it('ESTABLISHED --timeout--> CLOSED (client: session timeout)', async () => {
    const server = scriptedServer();
    const client = new M2MClient({ url: 'ws://x/v1/ws', channel: server.factory, keepAlive: false });
    const connecting = client.connect();
    await flush();
    await server.deliver(
      createMessage(
        'ACCEPT',
        'sess_abc123',
        { version: '1.0', algorithms: ['NONE'], security_scanning: false, session_timeout_ms: 60_000 },
        Date.now(),
      ),
    );
    await connecting;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(client.state).toBe('CLOSED');
    expect(client.closeInfo).toMatchObject({ reason: 'TIMEOUT', by: 'client' });
    expect(server.sent.at(-1)).toMatchObject({ type: 'CLOSE', payload: { reason: 'TIMEOUT' } });
  });

  it('CLOSING --closing_timeout (5 s)--> CLOSED (client, the server never answers)', async () => {
    const server = scriptedServer();
    const client = new M2MClient({ url: 'ws://x/v1/ws', channel: server.factory });
    const connecting = client.connect();
    await flush();
    await server.deliver(
      createMessage(
        'ACCEPT',
        'sess_abc123',
        { version: '1.0', algorithms: ['NONE'], security_scanning: false, session_timeout_ms: 300_000 },
        Date.now(),
      ),
    );
    await connecting;
    void client.close();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(client.state).toBe('CLOSING');
    await vi.advanceTimersByTimeAsync(1);
    expect(client.state).toBe('CLOSED');
    expect(server.closed).toBe(true);
  });

  it('CLOSING --closing_timeout (5 s)--> CLOSED (server, the peer never answers)', async () => {
    const { manager, store } = setup();
    const peer = rawPeer(manager);
    await peer.hello();
    const done = manager.closeSession(peer.sessionId(), 'NORMAL');
    await flush();
    expect(peer.connection.state).toBe('CLOSING');
    await vi.advanceTimersByTimeAsync(5_000);
    await done;
    expect(peer.connection.state).toBe('CLOSED');
    expect(peer.closed).toBeDefined();
    expect(await store.list()).toEqual([]);
  });
});
