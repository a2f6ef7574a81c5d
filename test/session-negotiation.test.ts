// Capability negotiation (spec §6.3.3, §6.3.4) and the REJECT policies.
import { describe, expect, it } from 'vitest';
import { M2MError } from '../ts/core/errors.js';
import {
  createMessage,
  type HelloPayload,
  negotiate,
  type ServerCapabilities,
  SessionManager,
} from '../ts/node/session/index.js';
import { acceptPayload, helloPayload, paramsFromAccept } from '../ts/protocol/negotiate.js';
import { errorCode } from './fixtures/session/helpers.js';

const SERVER: ServerCapabilities = {
  versions: ['1.0'],
  algorithms: ['token-native', 'token', 'brotli'],
  encodings: ['cl100k_base'],
  securityScanning: true,
  requireSecurityScanning: false,
  maxPayloadSize: 10_485_760,
  binaryFrames: true,
  sessionTimeoutMs: 300_000,
  pingIntervalMs: 60_000,
  pingTimeoutMs: 10_000,
};

// The client of spec §6.3.3.
const CLIENT_HELLO: HelloPayload = {
  version: '1.0',
  algorithms: ['TOKEN_NATIVE', 'TOKEN', 'BROTLI', 'DICTIONARY'],
  encodings: ['CL100K_BASE', 'O200K_BASE'],
  preferred_encoding: 'O200K_BASE',
  security_scanning: true,
  max_payload_size: 16_777_216,
};

describe('negotiate()', () => {
  it('gives the result of the spec example', () => {
    const result = negotiate(CLIENT_HELLO, SERVER, false);
    expect(result).toEqual({
      ok: true,
      params: {
        version: '1.0',
        algorithms: ['token-native', 'token', 'brotli'],
        encoding: 'cl100k_base',
        securityScanning: true,
        maxPayloadSize: 10_485_760,
        sessionTimeoutMs: 300_000,
        pingIntervalMs: 60_000,
        pingTimeoutMs: 10_000,
        binaryFrames: false,
        binaryPayloads: false,
      },
    });
  });

  it('uses the client preferred encoding when the server has it', () => {
    const r = negotiate(CLIENT_HELLO, { ...SERVER, encodings: ['cl100k_base', 'o200k_base'] }, false);
    expect(r.ok && r.params.encoding).toBe('o200k_base');
  });

  it('else the first common encoding in the client order', () => {
    const hello = { ...CLIENT_HELLO, encodings: ['LLAMA_BPE', 'O200K_BASE'], preferred_encoding: 'GPT2' };
    const r = negotiate(hello, { ...SERVER, encodings: ['o200k_base', 'llama3', 'cl100k_base'] }, false);
    expect(r.ok && r.params.encoding).toBe('llama3');
  });

  it('else falls back to cl100k_base (also when the client names none)', () => {
    const none = negotiate({ version: '1.0', algorithms: ['TOKEN'] }, SERVER, false);
    expect(none.ok && none.params.encoding).toBe('cl100k_base');
    const disjoint = negotiate(
      { ...CLIENT_HELLO, encodings: ['O200K_BASE'] },
      { ...SERVER, encodings: ['llama3'] },
      false,
    );
    expect(disjoint.ok && disjoint.params.encoding).toBe('cl100k_base');
  });

  it('keeps the client order, ignores unknown and repeated names, matches case-insensitively', () => {
    const r = negotiate({ version: '1.0', algorithms: ['ZSTD', 'brotli', 'TOKEN', 'BROTLI'] }, SERVER, false);
    expect(r.ok && r.params.algorithms).toEqual(['brotli', 'token']);
  });

  it('takes the smaller max_payload_size, and the server one when the client gives none', () => {
    const small = negotiate({ ...CLIENT_HELLO, max_payload_size: 1000 }, SERVER, false);
    expect(small.ok && small.params.maxPayloadSize).toBe(1000);
    const none = negotiate({ version: '1.0', algorithms: ['TOKEN'] }, SERVER, false);
    expect(none.ok && none.params.maxPayloadSize).toBe(10_485_760);
  });

  it('enables security scanning only when both sides scan', () => {
    const a = negotiate({ ...CLIENT_HELLO, security_scanning: false }, SERVER, false);
    expect(a.ok && a.params.securityScanning).toBe(false);
    const b = negotiate(CLIENT_HELLO, { ...SERVER, securityScanning: false }, false);
    expect(b.ok && b.params.securityScanning).toBe(false);
  });

  it('enables binary frames only with the extension on both sides, a binary transport and TOKEN_NATIVE', () => {
    const hello = { ...CLIENT_HELLO, extensions: { binary_frames: true } };
    const yes = negotiate(hello, SERVER, true);
    expect(yes.ok && yes.params.binaryFrames).toBe(true);
    const noes: [HelloPayload, ServerCapabilities, boolean][] = [
      [CLIENT_HELLO, SERVER, true],
      [hello, SERVER, false],
      [hello, { ...SERVER, binaryFrames: false }, true],
      [{ ...hello, algorithms: ['BROTLI'] }, SERVER, true],
    ];
    for (const [h, s, t] of noes) {
      const r = negotiate(h, s, t);
      expect(r.ok && r.params.binaryFrames).toBe(false);
    }
  });

  it('enables binary payloads only with their extension on both sides, a binary transport and BROTLI', () => {
    const hello = { ...CLIENT_HELLO, extensions: { binary_frames: true, binary_payloads: true } };
    const yes = negotiate(hello, SERVER, true);
    expect(yes.ok && yes.params.binaryPayloads).toBe(true);
    // Without TOKEN_NATIVE too: binary payloads need only BROTLI.
    const brotliOnly = negotiate({ ...hello, algorithms: ['BROTLI'] }, SERVER, true);
    expect(brotliOnly.ok && [brotliOnly.params.binaryFrames, brotliOnly.params.binaryPayloads]).toEqual([false, true]);
    expect(yes.ok && acceptPayload(yes.params).extensions).toEqual({ binary_frames: true, binary_payloads: true });
    const noes: [HelloPayload, ServerCapabilities, boolean][] = [
      [{ ...CLIENT_HELLO, extensions: { binary_frames: true } }, SERVER, true],
      [hello, SERVER, false],
      [hello, { ...SERVER, binaryFrames: false }, true],
      [{ ...hello, algorithms: ['TOKEN_NATIVE'] }, SERVER, true],
    ];
    for (const [h, s, t] of noes) {
      const r = negotiate(h, s, t);
      expect(r.ok && r.params.binaryPayloads).toBe(false);
    }
    // The client: offered with binary frames, used only when the ACCEPT names it.
    const client = {
      version: '1.0',
      algorithms: ['brotli'],
      encodings: ['cl100k_base'],
      preferredEncoding: 'cl100k_base',
      securityScanning: false,
      maxPayloadSize: 1 << 20,
      binaryFrames: true,
    } as const;
    expect(helloPayload(client).extensions).toEqual({ binary_frames: true, binary_payloads: true });
    const timing = { pingIntervalMs: 1000, pingTimeoutMs: 1000 };
    const accept = (extensions?: Record<string, unknown>) => ({
      version: '1.0',
      algorithms: ['BROTLI'],
      security_scanning: false,
      session_timeout_ms: 1000,
      ...(extensions ? { extensions } : {}),
    });
    expect(paramsFromAccept(accept({ binary_payloads: true }), client, timing).binaryPayloads).toBe(true);
    expect(paramsFromAccept(accept(), client, timing).binaryPayloads).toBe(false);
    expect(
      paramsFromAccept(accept({ binary_payloads: true }), { ...client, binaryFrames: false }, timing).binaryPayloads,
    ).toBe(false);
  });

  it('rejects an unknown version with VERSION_MISMATCH', () => {
    expect(negotiate({ ...CLIENT_HELLO, version: '2.0' }, SERVER, false)).toMatchObject({
      ok: false,
      code: 'VERSION_MISMATCH',
    });
  });

  it('rejects disjoint algorithms with NO_COMMON_ALGORITHM (also an empty list)', () => {
    expect(negotiate({ version: '1.0', algorithms: ['DICTIONARY'] }, SERVER, false)).toMatchObject({
      ok: false,
      code: 'NO_COMMON_ALGORITHM',
    });
    expect(negotiate({ version: '1.0', algorithms: [] }, SERVER, false)).toMatchObject({ code: 'NO_COMMON_ALGORITHM' });
  });

  it('rejects a client without scanning when the server requires it (SECURITY_POLICY)', () => {
    const server = { ...SERVER, requireSecurityScanning: true };
    expect(negotiate({ ...CLIENT_HELLO, security_scanning: false }, server, false)).toMatchObject({
      code: 'SECURITY_POLICY',
    });
    expect(negotiate(CLIENT_HELLO, server, false).ok).toBe(true);
  });
});

describe('SessionManager REJECT policies', () => {
  const hello = (payload: Partial<HelloPayload> = {}) =>
    createMessage('HELLO', null, { version: '1.0', algorithms: ['TOKEN_NATIVE', 'NONE'], ...payload }, Date.now());

  it('SERVER_BUSY at maxSessions, and accepts again when one closes', async () => {
    const manager = new SessionManager({ maxSessions: 2 });
    const a = await manager.handleHello(hello());
    await manager.handleHello(hello());
    expect(await manager.handleHello(hello())).toMatchObject({ type: 'REJECT', payload: { code: 'SERVER_BUSY' } });
    await manager.closeSession(a.session_id as string);
    expect((await manager.handleHello(hello())).type).toBe('ACCEPT');
  });

  it('RATE_LIMITED at maxSessionsPerPeer for one client address; others and later sessions are accepted', async () => {
    const manager = new SessionManager({ maxSessionsPerPeer: 2 });
    const from = (peer: string) => ({ transport: 'http' as const, peer });
    const a = await manager.handleHello(hello(), from('10.0.0.1'));
    expect((await manager.handleHello(hello(), from('10.0.0.1'))).type).toBe('ACCEPT');
    expect(await manager.handleHello(hello(), from('10.0.0.1'))).toMatchObject({
      type: 'REJECT',
      payload: { code: 'RATE_LIMITED' },
    });
    expect((await manager.handleHello(hello(), from('10.0.0.2'))).type).toBe('ACCEPT');
    expect((await manager.handleHello(hello())).type).toBe('ACCEPT'); // no address known: not counted
    await manager.closeSession(a.session_id as string);
    expect((await manager.handleHello(hello(), from('10.0.0.1'))).type).toBe('ACCEPT');
    expect(() => new SessionManager({ maxSessionsPerPeer: -1 })).toThrow(M2MError);
  });

  it('RATE_LIMITED when the rate limiter says no', async () => {
    const seen: unknown[] = [];
    const manager = new SessionManager({
      rateLimiter: (ctx) => {
        seen.push(ctx);
        return seen.length <= 1;
      },
    });
    expect((await manager.handleHello(hello(), { transport: 'http', peer: '10.0.0.1' })).type).toBe('ACCEPT');
    expect(await manager.handleHello(hello(), { transport: 'http', peer: '10.0.0.1' })).toMatchObject({
      payload: { code: 'RATE_LIMITED' },
    });
    expect(seen[0]).toEqual({ transport: 'http', peer: '10.0.0.1', kind: 'hello' });
  });

  it('SECURITY_POLICY when security scanning is required', async () => {
    const manager = new SessionManager({ requireSecurityScanning: true, scanner: () => ({ safe: true, threats: [] }) });
    expect(await manager.handleHello(hello())).toMatchObject({ payload: { code: 'SECURITY_POLICY' } });
    expect((await manager.handleHello(hello({ security_scanning: true }))).type).toBe('ACCEPT');
  });

  it('VERSION_MISMATCH and NO_COMMON_ALGORITHM', async () => {
    const manager = new SessionManager({ algorithms: ['brotli'] });
    expect(await manager.handleHello(hello({ version: '0.9' }))).toMatchObject({
      payload: { code: 'VERSION_MISMATCH' },
    });
    expect(await manager.handleHello(hello())).toMatchObject({ payload: { code: 'NO_COMMON_ALGORITHM' } });
  });

  it('SERVER_BUSY after shutdown', async () => {
    const manager = new SessionManager();
    await manager.handleHello(hello());
    await manager.shutdown();
    expect(await manager.listSessions()).toEqual([]);
    expect(await manager.handleHello(hello())).toMatchObject({ payload: { code: 'SERVER_BUSY' } });
  });

  it('ACCEPT carries the negotiated parameters', async () => {
    const manager = new SessionManager({ encodings: ['o200k_base'], maxPayloadSize: 1_000_000 });
    const accept = await manager.handleHello(
      hello({ encodings: ['O200K_BASE'], preferred_encoding: 'O200K_BASE', max_payload_size: 2_000_000 }),
    );
    expect(accept).toMatchObject({
      type: 'ACCEPT',
      payload: {
        version: '1.0',
        algorithms: ['TOKEN_NATIVE', 'NONE'],
        security_scanning: false,
        session_timeout_ms: 300_000,
        encoding: 'O200K_BASE',
        max_payload_size: 1_000_000,
        ping_interval_ms: 60_000,
        ping_timeout_ms: 10_000,
      },
    });
    expect(accept.session_id).toMatch(/^sess_[A-Za-z0-9]{20}$/);
  });

  it('never hands out the same id twice, including after a session closed', async () => {
    const manager = new SessionManager();
    const ids = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const accept = await manager.handleHello(hello());
      ids.add(accept.session_id as string);
      await manager.closeSession(accept.session_id as string);
    }
    expect(ids.size).toBe(300);
  });

  it('refuses what is not a HELLO before a session, with typed errors', async () => {
    const manager = new SessionManager();
    expect(await errorCode(() => manager.handleHello('{"type":"PING"'))).toBe('INVALID_MESSAGE');
    expect(await errorCode(() => manager.handleHello(createMessage('PING', 'sess_x', {}, Date.now())))).toBe(
      'INVALID_STATE',
    );
    expect(await errorCode(() => manager.handleHello(JSON.stringify({ ...hello(), timestamp: 5 })))).toBe(
      'TIMESTAMP_SKEW',
    );
  });
});
