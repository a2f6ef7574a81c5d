// The M2M v1 frame (#M2M|1|) through the public API and both backends: the
// reference implementation's vectors (../shared/spec-frames), the security
// rules m2m adds over the reference, and real traffic.
import { readFileSync } from 'node:fs';
import { brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  analyze,
  backendKind,
  CORE_ERROR_CODES,
  compress,
  compressFrameBinary,
  coreTables,
  decompress,
  decompressDetailed,
  decompressFrameBinary,
  inspect,
  KeyHierarchy,
  x25519KeyPair,
  x25519SessionKey,
} from '../ts/index.js';
import { BACKENDS, outcome, sharedPath } from './helpers.js';

const VECTORS = sharedPath('spec-frames/vectors.jsonl');
const TRAFFIC = sharedPath('data/traffic-dev/traffic.jsonl');

type Vector = Record<string, unknown> & { vector: string };
const vectorText = VECTORS === undefined ? undefined : readFileSync(VECTORS, 'utf8');
const vectors: Vector[] = (vectorText ?? '')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Vector);
const byName = (name: string) => vectors.find((v) => v.vector === name) as Vector;
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const NONCE = Uint8Array.from({ length: 12 }, (_, i) => i);

/** The code of the M2MError `fn` throws (undefined when it returns). */
const codeOf = (fn: () => unknown) => (outcome(fn) as { code?: string }).code;

const frameVectors = vectors.filter((v) => typeof v.frame_hex === 'string');
const modeOf = (name: string) => (name.endsWith('-hmac') ? 'hmac' : name.endsWith('-aead') ? 'aead' : 'none');
const jsonOf = (name: string) => byName(name.replace(/-(hmac|aead)$/, '')).json as string;

describe.skipIf(vectorText === undefined)('the reference implementation’s vectors', () => {
  it('has the seven frames of the vector file', () => expect(frameVectors).toHaveLength(7));

  it.each(frameVectors.map((v) => [v.vector, v] as const))(
    '%s decodes exactly in m2m (the old #M2M| misread is gone)',
    (name, v) => {
      const mode = modeOf(name);
      const security = mode === 'none' ? undefined : ({ mode, key: KEY } as const);
      const json = jsonOf(name);
      const d = decompressDetailed(v.wire as string, security ? { security } : {});
      expect(d).toEqual({ text: json, algorithm: 'm2m' });
      expect(decompressFrameBinary(hex(v.frame_hex as string), security)).toBe(json);
      if (typeof v.ref_random_nonce_frame_hex === 'string') {
        expect(decompressFrameBinary(hex(v.ref_random_nonce_frame_hex), security)).toBe(json);
      }
    },
  );

  it.each(frameVectors.map((v) => [v.vector, v] as const))(
    '%s re-encodes byte-identically through both backends',
    (name, v) => {
      const mode = modeOf(name);
      for (const core of Object.values(BACKENDS)) {
        const key = mode === 'none' ? null : KEY;
        const nonce = mode === 'aead' ? NONCE : null;
        expect(core.compressFrame(jsonOf(name), mode, key, nonce)).toBe(v.wire);
        expect(toHex(core.compressFrameBinary(jsonOf(name), mode, key, nonce))).toBe(v.frame_hex);
      }
    },
  );

  it('inspect reads the routing and response headers the reference reports', () => {
    const full = inspect(byName('req-full').wire as string);
    expect(full).toMatchObject({
      version: 1,
      schema: 'request',
      security: 'none',
      flags: ['HAS_SYSTEM_PROMPT', 'HAS_MAX_TOKENS', 'HAS_TEMPERATURE'],
      compressed: true,
      headerBytes: 40,
      model: 'gpt-4o-mini',
      messageCount: 2,
      roles: ['system', 'user'],
      contentBytes: 48,
      maxTokens: 16,
    });
    const routing = byName('req-full').routing as { est_cost_usd: number };
    expect(full).toHaveProperty('costEstimate', routing.est_cost_usd);
    const resp = inspect(hex(byName('resp').frame_hex as string));
    expect(resp).toMatchObject({
      schema: 'response',
      flags: ['HAS_USAGE', 'HAS_COST_ESTIMATE'],
      id: 'chatcmpl-abc123',
      model: 'gpt-4o-2024-08-06',
      finishReason: 'stop',
      promptTokens: 25,
      completionTokens: 2,
      cachedTokens: null,
    });
    // Protected frames: the same header, readable without the key.
    expect(inspect(byName('req-full-aead').wire as string)).toEqual({ ...full, security: 'aead' });
    expect(inspect(byName('req-full-hmac').wire as string)).toEqual({ ...full, security: 'hmac' });
  });

  it('keys follow KeyHierarchy and X25519 as the reference derives them', () => {
    const hk = byName('hkdf');
    const h = new KeyHierarchy(hex(hk.master_hex as string), 'test-org');
    expect(toHex(h.agentKey('agent-001'))).toBe(hk['agent_key m2m/v1/test-org/agent-001']);
    expect(toHex(h.sessionKey('bob', 'alice', 'sess-001'))).toBe(
      hk['session m2m/v1/test-org/session/alice:bob/sess-001'],
    );
    expect(toHex(h.sharedKey())).toBe(hk['shared m2m/v1/test-org/shared']);
    const x = byName('x25519');
    const alice = x25519KeyPair(hex(x.alice_sk as string));
    expect(toHex(alice.publicKey)).toBe(x.alice_pk);
    expect(toHex(x25519SessionKey(alice.secretKey, hex(x.bob_pk as string)))).toBe(
      x["session_key HKDF(salt=None, ikm=shared, info='m2m-session-v1')"],
    );
  });
});

const REQUEST = JSON.stringify({
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You answer in one word.' },
    { role: 'user', content: 'Which colour is the sky on a clear day?' },
  ],
  temperature: 0,
});

describe('frames are safer than the reference', () => {
  const modes = [
    { mode: 'hmac', key: KEY },
    { mode: 'aead', key: KEY },
  ] as const;

  it('round-trips in every mode, with a fresh nonce for every AEAD frame', () => {
    expect(decompress(compress(REQUEST, { algorithm: 'm2m' }).wire)).toBe(REQUEST);
    for (const security of modes) {
      const a = compress(REQUEST, { algorithm: 'm2m', security });
      expect(a.algorithm).toBe('m2m');
      expect(decompress(a.wire, { security })).toBe(REQUEST);
      const b = compress(REQUEST, { algorithm: 'm2m', security });
      expect(b.wire === a.wire).toBe(security.mode === 'hmac');
    }
  });

  it('refuses a protected frame without its key, and a stripped or other-mode frame where a mode is required', () => {
    const hmac = compress(REQUEST, { security: modes[0] }).wire;
    const aead = compress(REQUEST, { security: modes[1] }).wire;
    expect(codeOf(() => decompress(hmac))).toBe('SECURITY_VIOLATION');
    expect(codeOf(() => decompress(aead))).toBe('SECURITY_VIOLATION');
    expect(codeOf(() => decompress(hmac, { security: modes[1] }))).toBe('SECURITY_VIOLATION');
    const plain = compress(REQUEST, { algorithm: 'm2m' }).wire;
    const brotli = compress(REQUEST, { algorithm: 'brotli' }).wire;
    for (const wire of [plain, brotli, REQUEST]) {
      expect(codeOf(() => decompress(wire, { security: modes[0] }))).toBe('SECURITY_VIOLATION');
    }
    // The security byte rewritten to none, the tag cut off.
    const bytes = compressFrameBinary(REQUEST, modes[0]);
    const stripped = bytes.slice(0, -32);
    stripped[7 + 3] = 0;
    expect(codeOf(() => decompressFrameBinary(stripped, modes[0]))).toBe('SECURITY_VIOLATION');
    expect(codeOf(() => decompress(hmac, { security: { mode: 'hmac', key: new Uint8Array(32) } }))).toBe(
      'AUTHENTICATION_FAILED',
    );
  });

  it.each(Object.keys(BACKENDS))('refuses any altered byte (header, nonce, payload, tag) with %s', (kind) => {
    const core = BACKENDS[kind as keyof typeof BACKENDS];
    for (const { mode } of modes) {
      const frame = core.compressFrameBinary(REQUEST, mode, KEY, mode === 'aead' ? NONCE : null);
      expect(core.decompressFrameBinary(frame, mode, KEY)).toBe(REQUEST);
      for (let i = 7; i < frame.length; i++) {
        const bad = frame.slice();
        bad[i] = (bad[i] as number) ^ 0x20;
        const o = outcome(() => core.decompressFrameBinary(bad, mode, KEY));
        expect(o.ok, `${mode} byte ${i}`).toBe(false);
      }
    }
  });

  it('keeps the 16 MiB decompression limit inside frames', () => {
    const frame = compressFrameBinary(REQUEST);
    const headerEnd = 7 + (frame[7] as number) + (frame[8] as number) * 256;
    const bomb = brotliCompressSync(Buffer.alloc(17 * 1024 * 1024, 32));
    const bad = new Uint8Array(headerEnd + 8 + bomb.length);
    bad.set(frame.subarray(0, headerEnd));
    new DataView(bad.buffer).setUint32(headerEnd, bomb.length, true);
    bad.set(bomb, headerEnd + 8);
    bad[7 + 7] = 1; // compressed
    for (const core of Object.values(BACKENDS)) {
      expect(outcome(() => core.decompressFrameBinary(bad, 'none', null))).toEqual({
        ok: false,
        code: 'CONTENT_TOO_LARGE',
      });
    }
  });

  it('refuses model names over 255 bytes at encode, and protection on anything but a frame', () => {
    const long = JSON.stringify({ model: 'x'.repeat(256), messages: [] });
    expect(codeOf(() => compress(long, { algorithm: 'm2m' }))).toBe('CONTENT_TOO_LARGE');
    expect(codeOf(() => compress(REQUEST, { algorithm: 'brotli', security: modes[0] }))).toBe('INVALID_OPTION');
    expect(compress(REQUEST, { security: modes[0] }).algorithm).toBe('m2m');
    expect(codeOf(() => compress('not json', { algorithm: 'm2m' }))).toBe('INVALID_JSON');
    expect(codeOf(() => compress(REQUEST, { security: { mode: 'hmac', key: new Uint8Array(8) } }))).toBe('INVALID_KEY');
    expect(codeOf(() => compress(REQUEST, { security: { mode: 'hmac' } as never }))).toBe('INVALID_KEY');
  });

  it('reads #M2M|<n>| of another version as an unknown version, never as the dictionary prefix', () => {
    expect(codeOf(() => decompress('#M2M|2|IgABAA=='))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(() => decompress('#M2M|1|IgAB'))).toBe('INVALID_FRAME');
  });

  it('the core is the one home of the prefixes, encoding ids and error codes', () => {
    const t = coreTables();
    expect(t.prefixes.FRAME_V1).toBe('#M2M|1|');
    expect(t.encodings.map((e) => [e.name, e.wire, e.byte])).toEqual([
      ['cl100k_base', 'C', 0],
      ['o200k_base', 'O', 1],
      ['llama3', 'L', 2],
    ]);
    expect([...CORE_ERROR_CODES].sort()).toEqual([...t.errorCodes].sort());
    expect(JSON.parse(BACKENDS.wasm.coreTables())).toEqual(JSON.parse(BACKENDS.native.coreTables()));
  });
});

describe("profile: 'reference'", () => {
  const big = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'word '.repeat(800) }] });

  it('only emits forms the reference decodes', () => {
    for (const content of [REQUEST, big, 'plain text that is long enough to be compressed by auto '.repeat(40)]) {
      for (const optimize of ['bytes', 'tokens'] as const) {
        const r = compress(content, { profile: 'reference', optimize });
        expect(r.wire).toMatch(/^(#TK\|[CO]\||#M2M\[v3\.0\]\|DATA:|#M2M\|1\||(?!#))/);
        expect(decompress(r.wire)).toBe(content);
      }
    }
    const prefixed = '#BR|this text starts with a wire prefix';
    for (const algorithm of ['auto', 'brotli'] as const) {
      const r = compress(prefixed, { profile: 'reference', algorithm });
      expect(r.wire).toMatch(/^(#TK\|[CO]\||#M2M\[v3\.0\]\|DATA:)/);
      expect(decompress(r.wire)).toBe(prefixed);
    }
    expect(compress(big, { profile: 'reference', algorithm: 'brotli' }).wire.startsWith('#M2M[v3.0]|DATA:')).toBe(true);
  });

  it('refuses what the reference would misread', () => {
    for (const options of [
      { algorithm: 'token-native', encoding: 'llama3' },
      { algorithm: 'token' },
      { algorithm: 'dictionary' },
      { algorithm: 'auto', encoding: 'llama3', optimize: 'bytes' },
    ] as const) {
      const o = outcome(() => compress(big, { profile: 'reference', ...options }));
      if (options.algorithm === 'auto') {
        expect(o.ok && !(o.value.wire as string).startsWith('#TK|L|')).toBe(true);
      } else {
        expect(o).toEqual({ ok: false, code: 'INVALID_OPTION' });
      }
    }
    const a = analyze(big, { profile: 'reference' });
    expect(a.algorithms.filter((r) => r.ok).map((r) => r.algorithm)).toEqual(['token-native', 'brotli', 'm2m', 'none']);
  });
});

const trafficText = TRAFFIC === undefined ? undefined : readFileSync(TRAFFIC, 'utf8');

// Both backends run in this test whatever M2M_BACKEND says, so it runs in the
// native pass of the suite only (25 s: 3,900 bodies x 3 modes x 2 backends).
describe.skipIf(trafficText === undefined || backendKind() !== 'native')(
  'real traffic (../shared/data/traffic-dev)',
  () => {
    it('every JSON body round-trips in every mode, with identical bytes from both backends', () => {
      let frames = 0;
      for (const line of (trafficText ?? '').split('\n')) {
        if (!line) continue;
        const body = (JSON.parse(line) as { body: string }).body;
        try {
          JSON.parse(body);
        } catch {
          continue;
        }
        for (const mode of ['none', 'hmac', 'aead'] as const) {
          const key = mode === 'none' ? null : KEY;
          const nonce = mode === 'aead' ? NONCE : null;
          const n = BACKENDS.native.compressFrameBinary(body, mode, key, nonce);
          const w = BACKENDS.wasm.compressFrameBinary(body, mode, key, nonce);
          expect(Buffer.compare(n, w)).toBe(0);
          expect(BACKENDS.native.decompressFrameBinary(w, mode, key)).toBe(body);
          expect(BACKENDS.wasm.decompressFrameBinary(n, mode, key)).toBe(body);
        }
        frames++;
      }
      expect(frames).toBeGreaterThan(3000);
    }, 120_000);
  },
);
