/**
 * What session keys cost: a session handshake with keys (X25519 in HELLO and
 * ACCEPT, HKDF, the ACCEPT confirmation) against one without, and one DATA
 * message sealed (AEAD, HMAC) against unsealed. In process: the server's
 * `handleHello` plus the client's work on the ACCEPT, per backend; then over
 * loopback: a real `M2MClient.connect()` over HTTP and over WebSocket
 * against a fastify server. Ratios are what to read (absolute times drift on
 * these machines). Run: `npx tsx bench/session-keys.ts [--quick]`.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { x25519KeyPair } from '../ts/index.js';
import {
  attachSessionWebSocket,
  createMessage,
  M2MClient,
  registerSessionRoutes,
  SessionManager,
} from '../ts/node/session/index.js';
import { encodeData } from '../ts/protocol/data.js';
import type { HelloPayload } from '../ts/protocol/messages.js';
import { helloSecurity, openData, resolveSecurityPolicy, sealData, securityFromAccept } from '../ts/protocol/secure.js';
import { chatPayloadOfSize } from './corpus.js';
import { measure, on, report } from './util.js';

const quick = process.argv.includes('--quick');
const time = quick ? 200 : 600;
const policy = resolveSecurityPolicy(undefined);
const base: HelloPayload = { version: '1.0', algorithms: ['BROTLI', 'NONE'] };

for (const kind of ['native', 'wasm'] as const) {
  const manager = new SessionManager({ maxSessions: undefined, sessionTimeoutMs: 60_000 });
  const keyless = async () => {
    const reply = await manager.handleHello(createMessage('HELLO', null, base));
    if (reply.type !== 'ACCEPT') throw new Error('not accepted');
    await manager.store.delete(reply.session_id);
  };
  const keyed = async () => {
    const pair = x25519KeyPair();
    const ext = helloSecurity(policy, pair.publicKey);
    const reply = await manager.handleHello(
      createMessage('HELLO', null, { ...base, extensions: { session_security: ext } }),
    );
    if (reply.type !== 'ACCEPT') throw new Error('not accepted');
    if (!securityFromAccept(reply.payload.extensions, policy, pair, reply.session_id)) throw new Error('keyless');
    await manager.store.delete(reply.session_id);
  };
  const rows = await on(kind, () => measure({ 'handshake without keys': keyless, 'handshake with keys': keyed }, time));
  report(`${kind}: session handshake in process (server + client work)`, rows, 'handshake without keys');

  // One ~1 KB DATA: the codec's encode, against sealing and opening the encoded payload.
  const text = chatPayloadOfSize(1_000);
  const pair = x25519KeyPair();
  const reply = await manager.handleHello(
    createMessage('HELLO', null, { ...base, extensions: { session_security: helloSecurity(policy, pair.publicKey) } }),
  );
  if (reply.type !== 'ACCEPT') throw new Error('not accepted');
  const id = reply.session_id;
  const encoded = encodeData(text, undefined, { blocking: true }).payload;
  const tasks: Record<string, () => unknown> = {
    'DATA encode (auto)': () => encodeData(text, undefined, { blocking: true }),
  };
  for (const mode of ['aead', 'hmac'] as const) {
    const st = securityFromAccept(reply.payload.extensions, policy, pair, id);
    if (!st) throw new Error('keyless');
    // Sealed with the send key and opened with it too (one state standing for both ends).
    const loop = { ...st, mode, receive: st.send };
    tasks[`seal + open ${mode}`] = () => {
      const at = Date.now();
      const { payload } = sealData(loop, id, at, encoded);
      loop.received = { max: 0, seen: '0' };
      return openData(loop, createMessage('DATA', id, payload, at));
    };
  }
  report(`${kind}: one ~1 KB DATA`, await on(kind, () => measure(tasks, time)), 'DATA encode (auto)');
}

// Over loopback with the real client and transports (default backend).
const manager = new SessionManager({ sessionTimeoutMs: 60_000, keepAlive: false });
const app = Fastify();
registerSessionRoutes(app, manager);
const ws = attachSessionWebSocket(app.server, manager);
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as AddressInfo;
for (const [kind, transport, url] of [
  ['native', 'http', `http://127.0.0.1:${port}`],
  ['native', 'websocket', `ws://127.0.0.1:${port}/v1/ws`],
  ['wasm', 'websocket', `ws://127.0.0.1:${port}/v1/ws`],
] as const) {
  on(kind, () => undefined); // both ends of the loopback run on this backend
  const connect = (keys: boolean) => async () => {
    const c = new M2MClient({ url, keepAlive: false, ...(keys ? {} : { sessionSecurity: false }) });
    await c.connect();
    await c.close();
  };
  const rows = await measure(
    { 'connect+close without keys': connect(false), 'connect+close with keys': connect(true) },
    time,
  );
  report(`${kind}, ${transport}: M2MClient connect + close over loopback`, rows, 'connect+close without keys');
}
await ws.close();
await app.close();
