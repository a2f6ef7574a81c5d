// Sessions with keys (issue 12 item 5) over the real transports: X25519 in HELLO/ACCEPT, sealed DATA
// with sequence numbers, tampered / replayed / out-of-window DATA refused while the session goes on,
// HTTP requests that must prove the session key, keyless peers, downgrades, pre-shared org keys.
// Runs under each backend (npm test runs vitest with M2M_BACKEND=native and =wasm); the sealing
// itself is also compared across both backends here.
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { deriveSessionKeys, x25519KeyPair } from '../ts/index.js';
import {
  attachSessionWebSocket,
  createMessage,
  type DataMessage,
  M2MClient,
  type M2MClientOptions,
  MemorySessionStore,
  type Message,
  PROOF_HEADER,
  parseMessage,
  readKeyMaterial,
  registerSessionRoutes,
  SessionManager,
  type SessionManagerOptions,
  serializeMessage,
} from '../ts/node/session/index.js';
import { encodeData } from '../ts/protocol/data.js';
import {
  checkSequence,
  helloSecurity,
  markSequence,
  newState,
  openData,
  REPLAY_WINDOW,
  resolveSecurityPolicy,
  type SealState,
  sealData,
  securityFromAccept,
} from '../ts/protocol/secure.js';
import { errorCode } from './fixtures/session/helpers.js';
import { BACKENDS } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A fixed org master key for the pre-shared tests (a deployment reads it with readKeyMaterial). */
const MASTER = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

async function serve(options: SessionManagerOptions = {}) {
  const errors: string[] = [];
  const manager = new SessionManager({
    store: new MemorySessionStore(),
    onData: (content) => `echo:${content}`,
    onError: (e) => errors.push(e.code),
    ...options,
  });
  const app = Fastify();
  registerSessionRoutes(app, manager);
  const ws = attachSessionWebSocket(app.server, manager);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  cleanups.push(async () => {
    await ws.close();
    await app.close();
  });
  return { manager, errors, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/v1/ws` };
}

function client(url: string, options: Partial<M2MClientOptions> = {}): M2MClient {
  const c = new M2MClient({ url, keepAlive: false, ...options });
  cleanups.push(async () => {
    if (c.state === 'ESTABLISHED') await c.close();
  });
  return c;
}

/** A raw WebSocket peer that speaks the handshake itself, so it can send what a client never would. */
async function rawPeer(url: string) {
  const ws = new WebSocket(url);
  const inbox: Message[] = [];
  const waiters: (() => void)[] = [];
  let closed = false;
  ws.on('message', (data) => {
    inbox.push(parseMessage((data as Buffer).toString()));
    for (const w of waiters.splice(0)) w();
  });
  ws.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  cleanups.push(async () => {
    ws.terminate();
  });
  const next = async (): Promise<Message | undefined> => {
    while (inbox.length === 0) {
      if (closed) return undefined;
      await new Promise<void>((r) => waiters.push(r));
    }
    return inbox.shift();
  };
  const send = (m: Message | string) => ws.send(typeof m === 'string' ? m : serializeMessage(m));
  return {
    next,
    send,
    get closed() {
      return closed;
    },
    /** HELLO with or without keys; resolves with the reply and, for a keyed ACCEPT, this side's seal state. */
    async hello(keyed: boolean, policy = resolveSecurityPolicy(undefined)) {
      const pair = x25519KeyPair();
      const ext = keyed ? helloSecurity(policy, pair.publicKey) : undefined;
      send(
        createMessage('HELLO', null, {
          version: '1.0',
          algorithms: ['BROTLI', 'NONE'],
          ...(ext ? { extensions: { session_security: ext } } : {}),
        }),
      );
      const reply = (await next()) as Message;
      if (reply.type !== 'ACCEPT') return { reply, state: undefined };
      return { reply, state: securityFromAccept(reply.payload.extensions, policy, pair, reply.session_id) };
    },
  };
}

/** A DATA message of `content` sealed with `state` (numbered `seq` when given). */
function sealed(state: SealState, sessionId: string, content: string, seq?: number): DataMessage {
  if (seq !== undefined) state.sent = seq - 1;
  const at = Date.now();
  const { payload } = sealData(state, sessionId, at, encodeData(content, undefined, { blocking: true }).payload);
  return createMessage('DATA', sessionId, payload, at);
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('the replay window', () => {
  it('accepts each number once, in any order within the window, and refuses what is older', () => {
    let w = { max: 0, seen: '0' };
    for (const seq of [1, 3, 2, 10]) {
      checkSequence(w, seq);
      w = markSequence(w, seq);
    }
    for (const seq of [1, 2, 3, 10]) expect(() => checkSequence(w, seq)).toThrow(/already received/);
    checkSequence(w, 70);
    w = markSequence(w, 70);
    expect(() => checkSequence(w, 10)).toThrow(/already received/); // 60 behind, still remembered
    expect(() => checkSequence(w, 70 - REPLAY_WINDOW)).toThrowError(
      expect.objectContaining({ code: 'SEQUENCE_OUT_OF_WINDOW' }),
    );
    expect(() => checkSequence(w, 70 - REPLAY_WINDOW + 1)).not.toThrow(); // 7: not seen, just inside
    expect(() => checkSequence(w, 0)).toThrowError(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    w = markSequence(w, 70 + 10 * REPLAY_WINDOW); // a jump past the whole window forgets it
    expect(w.seen).toBe('1');
  });
});

describe('sealing, through both backends', () => {
  it('native and wasm seal to identical bytes and open each other’s', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    const aad = new TextEncoder().encode('aad');
    const text = new TextEncoder().encode('ünïcödé DATA');
    for (const mode of ['aead', 'hmac'] as const) {
      const n = BACKENDS.native.sessionSeal(mode, key, 7, aad, text);
      const w = BACKENDS.wasm.sessionSeal(mode, key, 7, aad, text);
      expect(Buffer.from(n).toString('hex')).toBe(Buffer.from(w).toString('hex'));
      const body = mode === 'hmac' ? Buffer.concat([text, n]) : n;
      expect(BACKENDS.wasm.sessionOpen(mode, key, 7, aad, body)).toEqual(text);
      expect(BACKENDS.native.sessionOpen(mode, key, 7, aad, body)).toEqual(text);
      for (const b of Object.values(BACKENDS)) {
        expect(() => b.sessionOpen(mode, key, 8, aad, body)).toThrowError(
          expect.objectContaining({ code: 'AUTHENTICATION_FAILED' }),
        );
      }
    }
  });

  it('both ends derive each other’s keys from X25519, per direction', () => {
    const a = x25519KeyPair();
    const b = x25519KeyPair();
    const c = deriveSessionKeys({
      secretKey: a.secretKey,
      peerPublicKey: b.publicKey,
      sessionId: 's1',
      role: 'client',
    });
    const s = deriveSessionKeys({
      secretKey: b.secretKey,
      peerPublicKey: a.publicKey,
      sessionId: 's1',
      role: 'server',
    });
    expect(c.send).toEqual(s.receive);
    expect(c.receive).toEqual(s.send);
    expect(c.proof).toEqual(s.proof);
    expect(c.send).not.toEqual(c.receive);
  });
});

describe('keyed sessions over WebSocket', () => {
  it('negotiate keys by default and seal every DATA both ways (AEAD, HMAC, binary frames)', async () => {
    const srv = await serve();
    for (const modes of [['aead'], ['hmac']] as const) {
      const c = client(srv.ws, { sessionSecurity: { modes: [...modes] } });
      await c.connect();
      expect(c.sessionSecurity).toBe(modes[0]);
      expect(await srv.manager.getSession(c.sessionId as string)).toMatchObject({ session_security: modes[0] });
      const got = c.messages();
      for (const algorithm of ['brotli', 'token-native', 'none'] as const) {
        await c.send(`hello ${algorithm} ✓`, { algorithm });
        expect((await got.next()).value).toBe(`echo:hello ${algorithm} ✓`);
      }
      await c.close();
    }
    expect(srv.errors).toEqual([]);
  });

  it('AEAD content is not readable on the wire; HMAC content is, with a tag', async () => {
    const srv = await serve();
    const raw = await rawPeer(srv.ws);
    const { reply, state } = await raw.hello(true, resolveSecurityPolicy({ modes: ['aead'] }));
    expect(reply).toMatchObject({ type: 'ACCEPT', payload: { extensions: { session_security: { mode: 'AEAD' } } } });
    const id = (reply as { session_id: string }).session_id;
    const st = state as SealState;
    raw.send(sealed(st, id, 'secret text'));
    const answer = (await raw.next()) as DataMessage;
    expect(answer.payload.seal?.seq).toBe(1);
    expect(answer.payload.content).not.toContain('secret');
    expect(openData(st, answer).payload.content).toContain('echo:secret text');
  });

  it('refuses tampered, replayed, unsealed and out-of-window DATA with typed errors, and the session goes on', async () => {
    const srv = await serve();
    const raw = await rawPeer(srv.ws);
    const { reply, state } = await raw.hello(true);
    const id = (reply as { session_id: string }).session_id;
    const st = state as SealState;
    const echo = async (text: string, seq?: number) => {
      raw.send(sealed(st, id, text, seq));
      const m = (await raw.next()) as DataMessage;
      return openData(st, m).payload.content;
    };
    expect(await echo('one')).toBe('echo:one');

    // Each refusal comes back as an ERROR message naming the refused DATA (and reaches onError).
    const refused = async (code: string) =>
      expect(await raw.next()).toMatchObject({ type: 'ERROR', payload: { code, refused: 'DATA' } });

    // Tampered: one base64 character of the ciphertext changed; then the timestamp (associated data).
    const good = sealed(st, id, 'two');
    const content = good.payload.content;
    const flipped = `${content[0] === 'A' ? 'B' : 'A'}${content.slice(1)}`;
    raw.send({ ...good, payload: { ...good.payload, content: flipped } });
    await refused('AUTHENTICATION_FAILED');
    raw.send({ ...good, timestamp: good.timestamp + 1 });
    await refused('AUTHENTICATION_FAILED');
    // The untouched message still goes through (a refused one does not use up its number) ...
    raw.send(good);
    expect(openData(st, (await raw.next()) as DataMessage).payload.content).toBe('echo:two');
    // ... once.
    raw.send(good);
    await refused('REPLAY_DETECTED');

    // Reordered: far ahead, then just inside the window (accepted), then beyond it (refused).
    expect(await echo('ahead', 200)).toBe('echo:ahead');
    expect(await echo('late but inside', 200 - REPLAY_WINDOW + 1)).toBe('echo:late but inside');
    raw.send(sealed(st, id, 'too late', 200 - REPLAY_WINDOW));
    await refused('SEQUENCE_OUT_OF_WINDOW');
    // Unsealed DATA in a keyed session (a stripped seal).
    raw.send(createMessage('DATA', id, encodeData('plain', undefined, { blocking: true }).payload));
    await refused('SECURITY_VIOLATION');
    expect(srv.errors).toEqual([
      'AUTHENTICATION_FAILED',
      'AUTHENTICATION_FAILED',
      'REPLAY_DETECTED',
      'SEQUENCE_OUT_OF_WINDOW',
      'SECURITY_VIOLATION',
    ]);

    // The session survived all of it.
    expect(await echo('still here', 201)).toBe('echo:still here');
    expect(raw.closed).toBe(false);
    expect(await srv.manager.getSession(id)).toMatchObject({ state: 'ESTABLISHED' });
  });

  it('a stolen id is useless: over HTTP (GET, DATA, DELETE) and on another socket', async () => {
    const srv = await serve();
    const victim = client(srv.ws);
    await victim.connect();
    const id = victim.sessionId as string;
    const got = victim.messages();

    for (const [method, path, body] of [
      ['GET', `/v1/session/${id}`, undefined],
      ['POST', `/v1/session/${id}/message`, serializeMessage(createMessage('PING', id, {}))],
      ['DELETE', `/v1/session/${id}`, undefined],
    ] as const) {
      const res = await fetch(`${srv.http}${path}`, { method, ...(body ? { body } : {}) });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_SESSION_OWNER');
    }
    // Another socket naming the victim's session: refused, and only that socket's own session suffers.
    const thief = await rawPeer(srv.ws);
    thief.send(createMessage('PING', id, {}));
    expect(await thief.next()).toMatchObject({ type: 'REJECT' });

    await victim.send('mine');
    expect((await got.next()).value).toBe('echo:mine');
    expect(victim.state).toBe('ESTABLISHED');
  });
});

describe('keyed sessions over HTTP', () => {
  it('every request proves the key; a stolen id reads, writes and deletes nothing', async () => {
    const srv = await serve();
    const c = client(srv.http);
    await c.connect();
    expect(c.sessionSecurity).toBe('aead');
    const id = c.sessionId as string;
    const got = c.messages();
    await c.send('over http');
    expect((await got.next()).value).toBe('echo:over http');
    expect(await c.ping()).toBeGreaterThanOrEqual(0);

    const path = `/v1/session/${id}`;
    const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
    const data = serializeMessage(sealed({ ...(await stateless()) }, id, 'forged'));
    for (const [method, url, body] of [
      ['GET', path, undefined],
      ['POST', `${path}/message`, data],
      ['DELETE', path, undefined],
    ] as const) {
      const res = await fetch(`${srv.http}${url}`, { method, ...(body ? { body } : {}) });
      expect([res.status, await code(res)]).toEqual([403, 'NOT_SESSION_OWNER']);
      // A made-up proof is no better.
      const fake = await fetch(`${srv.http}${url}`, {
        method,
        headers: { [PROOF_HEADER]: `99.${'A'.repeat(43)}=` },
        ...(body ? { body } : {}),
      });
      expect([fake.status, await code(fake)]).toEqual([403, 'NOT_SESSION_OWNER']);
    }
    // The owner can read its session; a captured proof cannot be replayed.
    const proof = c.sessionProof('GET', path);
    const mine = await fetch(`${srv.http}${path}`, { headers: proof });
    expect(mine.status).toBe(200);
    expect(await mine.json()).toMatchObject({ session_id: id, session_security: 'aead' });
    const again = await fetch(`${srv.http}${path}`, { headers: proof });
    expect([again.status, await code(again)]).toEqual([409, 'REPLAY_DETECTED']);

    await c.send('still mine');
    expect((await got.next()).value).toBe('echo:still mine');
    // And the owner can DELETE it.
    const del = await fetch(`${srv.http}${path}`, { method: 'DELETE', headers: c.sessionProof('DELETE', path) });
    expect(del.status).toBe(200);
    expect(await srv.manager.getSession(id)).toBeUndefined();
  });

  it('keyless HTTP sessions are bound to the client address that opened them', async () => {
    const manager = new SessionManager({ sessionSecurity: false });
    const accept = await manager.handleHello(
      serializeMessage(createMessage('HELLO', null, { version: '1.0', algorithms: ['NONE'] })),
      { transport: 'http', peer: '10.0.0.1' },
    );
    const id = (accept as { session_id: string }).session_id;
    const auth = { method: 'GET', path: `/v1/session/${id}`, body: '' };
    await manager.authorizeRequest(id, { ...auth, peer: '10.0.0.1' });
    expect(await errorCode(() => manager.authorizeRequest(id, { ...auth, peer: '10.0.0.2' }))).toBe(
      'NOT_SESSION_OWNER',
    );
    const ping = serializeMessage(createMessage('PING', id, {}));
    expect(
      await errorCode(() =>
        manager.handleMessage(
          id,
          ping,
          { transport: 'http', peer: '10.0.0.2' },
          { ...auth, method: 'POST', peer: '10.0.0.2' },
        ),
      ),
    ).toBe('NOT_SESSION_OWNER');
    expect(await manager.getSession(id)).toMatchObject({ state: 'ESTABLISHED', session_security: null });
  });
});

/** A seal state no server knows (an attacker's). */
async function stateless(): Promise<SealState> {
  const a = x25519KeyPair();
  const b = x25519KeyPair();
  const keys = deriveSessionKeys({
    secretKey: a.secretKey,
    peerPublicKey: b.publicKey,
    sessionId: 'x',
    role: 'client',
  });
  return newState('aead', keys);
}

describe('keyless peers and downgrades', () => {
  it('a peer that offers no keys still gets a working keyless session (WebSocket and HTTP)', async () => {
    const srv = await serve();
    const raw = await rawPeer(srv.ws);
    const { reply } = await raw.hello(false);
    expect(reply.type).toBe('ACCEPT');
    expect(
      (reply as { payload: { extensions?: Record<string, unknown> } }).payload.extensions?.session_security,
    ).toBeUndefined();
    const id = (reply as { session_id: string }).session_id;
    raw.send(createMessage('DATA', id, encodeData('plain', undefined, { blocking: true }).payload));
    expect(await raw.next()).toMatchObject({ type: 'DATA', payload: { content: 'echo:plain' } });
    for (const url of [srv.ws, srv.http]) {
      const c = client(url, { sessionSecurity: false });
      await c.connect();
      expect(c.sessionSecurity).toBeNull();
      const got = c.messages();
      await c.send('keyless');
      expect((await got.next()).value).toBe('echo:keyless');
    }
    // A keyed-by-default client and a server without session security: keyless, as it did not require keys.
    const old = await serve({ sessionSecurity: false });
    const c = client(old.ws);
    await c.connect();
    expect(c.sessionSecurity).toBeNull();
  });

  it('a side that requires keys refuses a HELLO or ACCEPT without them: typed errors, no fallback', async () => {
    const strict = await serve({ sessionSecurity: { require: true } });
    const raw = await rawPeer(strict.ws);
    const { reply } = await raw.hello(false);
    expect(reply).toMatchObject({ type: 'REJECT', payload: { code: 'SECURITY_POLICY' } });
    for (const url of [strict.ws, strict.http]) {
      expect(await errorCode(() => client(url, { sessionSecurity: false }).connect())).toBe('SECURITY_POLICY');
      const ok = client(url);
      await ok.connect();
      expect(ok.sessionSecurity).toBe('aead');
    }
    // The client requires keys and says so: a server without them refuses (REJECT, not a keyless ACCEPT) ...
    const plain = await serve({ sessionSecurity: false });
    for (const url of [plain.ws, plain.http]) {
      expect(await errorCode(() => client(url, { sessionSecurity: { require: true } }).connect())).toBe(
        'SECURITY_POLICY',
      );
    }
    // ... and a man in the middle (or an older server) that drops the offer gets SECURITY_DOWNGRADE.
    const lenient = await serve();
    const stripping: typeof fetch = async (input, init) => {
      const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
      if (body?.type === 'HELLO') delete body.payload.extensions.session_security;
      return fetch(input, { ...init, ...(body ? { body: JSON.stringify(body) } : {}) });
    };
    const c = client(lenient.http, { sessionSecurity: { require: true }, fetch: stripping });
    expect(await errorCode(() => c.connect())).toBe('SECURITY_DOWNGRADE');
    expect(c.state).toBe('CLOSED');
    // Without require, the same stripping gives a keyless session (what "not required" means).
    const d = client(lenient.http, { fetch: stripping });
    await d.connect();
    expect(d.sessionSecurity).toBeNull();
    // A HELLO that requires keys, to a server without them: REJECT, not a keyless ACCEPT.
    const raw2 = await rawPeer(plain.ws);
    expect((await raw2.hello(true, resolveSecurityPolicy({ require: true }))).reply).toMatchObject({
      type: 'REJECT',
      payload: { code: 'SECURITY_POLICY' },
    });
  });
});

describe('pre-shared org keys', () => {
  it('pin identities: the same master key works, another one fails the handshake', async () => {
    const srv = await serve({ sessionSecurity: { preShared: { master: MASTER, org: 'acme', agent: 'gateway' } } });
    for (const url of [srv.ws, srv.http]) {
      const c = client(url, { sessionSecurity: { preShared: { master: MASTER, org: 'acme', agent: 'worker-1' } } });
      await c.connect();
      const got = c.messages();
      await c.send('pinned');
      expect((await got.next()).value).toBe('echo:pinned');
      const wrong = new Uint8Array(32).fill(9);
      const impostor = client(url, {
        sessionSecurity: { preShared: { master: wrong, org: 'acme', agent: 'worker-1' } },
      });
      expect(await errorCode(() => impostor.connect())).toBe('AUTHENTICATION_FAILED');
      // A client without the org key (X25519 only) is refused: the server pins identities.
      expect(await errorCode(() => client(url).connect())).toBe('SECURITY_POLICY');
    }
  });

  it('keys come from a file or an environment variable (hex), never a flag', () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2m-keys-'));
    const hex = Buffer.from(MASTER).toString('hex');
    writeFileSync(join(dir, 'org.key'), `${hex}\n`);
    expect(readKeyMaterial({ file: join(dir, 'org.key') })).toEqual(MASTER);
    process.env.M2M_TEST_ORG_KEY = hex;
    expect(readKeyMaterial({ env: 'M2M_TEST_ORG_KEY' })).toEqual(MASTER);
    delete process.env.M2M_TEST_ORG_KEY;
    expect(() => readKeyMaterial({ env: 'M2M_TEST_ORG_KEY' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
    writeFileSync(join(dir, 'bad.key'), 'not hex');
    expect(() => readKeyMaterial({ file: join(dir, 'bad.key') })).toThrowError(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
  });
});

describe('session ids stay out of logs', () => {
  it('the manager’s error reports name no session id', async () => {
    const messages: string[] = [];
    const srv = await serve({ onError: (e) => messages.push(e.message) });
    const c = client(srv.ws);
    await c.connect();
    const raw = await rawPeer(srv.ws);
    const { reply } = await raw.hello(true);
    raw.send(createMessage('PING', c.sessionId as string, {})); // names another session
    await until(() => messages.length > 0);
    expect(reply.type).toBe('ACCEPT');
    for (const m of messages) {
      expect(m).not.toContain(c.sessionId as string);
      expect(m).not.toContain((reply as { session_id: string }).session_id);
    }
  });
});
