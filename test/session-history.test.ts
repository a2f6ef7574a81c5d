// Sessions that remember (the history extension, ts/protocol/history.ts):
// negotiation, exact round trips over real conversations and SSE streams,
// native == wasm, the desynchronisation cases (lost and refused messages) and
// their resynchronisation, bounded state, and HTTP sessions served by two
// workers that share one store.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadedDictionaryNames } from '../ts/codec/codec.js';
import {
  appendHistory,
  checkHistoryBytes,
  DEFAULT_HISTORY_BYTES,
  maxHistoryBytes,
  newHistoryState,
  newSessionHistory,
  RESET_LABEL,
  readHistoryExtension,
  resetHistory,
  type SessionHistory,
} from '../ts/codec/history.js';
import { backend } from '../ts/core/backend.js';
import { compress, useBackend } from '../ts/index.js';
import { startServer } from '../ts/node/server/index.js';
import {
  attachSessionWebSocket,
  M2MClient,
  MemorySessionStore,
  registerSessionRoutes,
  SessionManager,
} from '../ts/node/session/index.js';
import { decodeData, encodeData, type SecurityOptions } from '../ts/protocol/data.js';
import {
  acceptPayload,
  helloPayload,
  negotiate,
  paramsFromAccept,
  SESSION_DEFAULTS,
  type SessionParams,
} from '../ts/protocol/negotiate.js';
import { base85Decode, outcome, sharedData, sseStreams } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  useBackend('native');
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const PARAMS: SessionParams = {
  version: '3.0',
  algorithms: ['token-native', 'brotli', 'dictionary'],
  encoding: 'cl100k_base',
  securityScanning: false,
  maxPayloadSize: SESSION_DEFAULTS.maxPayloadSize,
  sessionTimeoutMs: SESSION_DEFAULTS.sessionTimeoutMs,
  pingIntervalMs: SESSION_DEFAULTS.pingIntervalMs,
  pingTimeoutMs: SESSION_DEFAULTS.pingTimeoutMs,
  binaryFrames: false,
  history: { bytes: 4096, dictionaries: [] },
};
/** The shipped dictionaries, loaded in the backend in use, by wire name. */
const names = () => loadedDictionaryNames(['req', 'res', 'sse']);
const NO_SCAN: SecurityOptions = { blocking: true };
const EVENT = (n: number) =>
  `data: {"id":"chatcmpl-AbC","object":"chat.completion.chunk","created":1752000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" word${n}"},"finish_reason":null}]}`;

/** A `#BH|` head naming the empty history (`#BH|0|` or `#BH|0.<id>|`; `:` for `|` before a deflate payload). */
const namesReset = (wire: string | undefined) =>
  wire !== undefined && new RegExp(`^#BH\\|${RESET_LABEL}[.|:]`).test(wire);

function send(content: string, from: SessionHistory, params = PARAMS) {
  return encodeData(content, params, NO_SCAN, {}, { history: from }).payload;
}
function receive(payload: ReturnType<typeof send>, at: SessionHistory, security = NO_SCAN, params = PARAMS) {
  return decodeData(payload, params, security, undefined, { history: at }).content;
}

describe('negotiation', () => {
  const server = {
    versions: ['3.0'],
    algorithms: ['token-native', 'brotli', 'dictionary'] as const,
    encodings: ['cl100k_base'] as const,
    securityScanning: false,
    requireSecurityScanning: false,
    maxPayloadSize: 1 << 20,
    binaryFrames: false,
    sessionTimeoutMs: 300_000,
    pingIntervalMs: 60_000,
    pingTimeoutMs: 10_000,
  };
  const client = {
    version: '3.0',
    algorithms: ['brotli', 'token-native'] as const,
    encodings: ['cl100k_base'] as const,
    preferredEncoding: 'cl100k_base' as const,
    securityScanning: false,
    maxPayloadSize: 1 << 20,
    binaryFrames: false,
  };
  const timing = { pingIntervalMs: 60_000, pingTimeoutMs: 10_000 };

  it('agrees on the smaller history and the dictionaries both have', () => {
    const hello = helloPayload({ ...client, historyBytes: 8192 });
    expect(hello.extensions?.history).toEqual({ bytes: 8192, dictionaries: names(), both_directions: true });
    expect(names().map((n) => n.split('.')[0])).toEqual(['req', 'res', 'sse']);
    const result = negotiate(hello, { ...server, historyBytes: 4096 }, false);
    if (!result.ok) throw new Error(result.message);
    expect(result.params.history).toEqual({ bytes: 4096, dictionaries: names(), bothDirections: true });
    // A dictionary in another version or with another hash is not agreed on.
    const other = negotiate(
      { ...hello, extensions: { history: { bytes: 8192, dictionaries: ['sse.1.00000000', ...names().slice(0, 1)] } } },
      { ...server, historyBytes: 4096 },
      false,
    );
    expect(other.ok && other.params.history?.dictionaries).toEqual(names().slice(0, 1));
    // A peer that does not offer both directions does not get them.
    expect(other.ok && other.params.history?.bothDirections).toBeUndefined();
    const params = paramsFromAccept(acceptPayload(result.params), { ...client, historyBytes: 8192 }, timing);
    expect(params.history).toEqual(result.params.history);
  });

  it('leaves peers that do not offer it (or servers that turned it off) unaffected', () => {
    const plain = negotiate(helloPayload(client), { ...server, historyBytes: 4096 }, false);
    expect(plain.ok && plain.params.history).toBe(undefined);
    expect(plain.ok && acceptPayload(plain.params).extensions).toBe(undefined);
    const off = negotiate(helloPayload({ ...client, historyBytes: 8192 }), { ...server, historyBytes: 0 }, false);
    expect(off.ok && off.params.history).toBe(undefined);
    const noBrotli = negotiate(
      helloPayload({ ...client, algorithms: ['token-native'], historyBytes: 8192 }),
      { ...server, historyBytes: 4096 },
      false,
    );
    expect(noBrotli.ok && noBrotli.params.history).toBe(undefined);
  });

  it("the largest history is the core's (1 MiB per direction), for options and for what a peer names", () => {
    expect(maxHistoryBytes()).toBe(1024 * 1024);
    expect(checkHistoryBytes(maxHistoryBytes(), 'historyBytes')).toBe(maxHistoryBytes());
    expect(() => checkHistoryBytes(maxHistoryBytes() + 1, 'historyBytes')).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    expect(readHistoryExtension({ bytes: 2 ** 40, dictionaries: [] })?.bytes).toBe(maxHistoryBytes());
  });

  it('a hostile HELLO cannot make the server keep more than its own size, nor name junk dictionaries', () => {
    const hello = helloPayload({ ...client, historyBytes: 8192 });
    const result = negotiate(
      {
        ...hello,
        extensions: { history: { bytes: 2 ** 40, dictionaries: ['../../etc', 'x'.repeat(100), 7, ...names()] } },
      },
      { ...server, historyBytes: 4096 },
      false,
    );
    expect(result.ok && result.params.history).toEqual({ bytes: 4096, dictionaries: names() });
    const junk = negotiate(
      { ...hello, extensions: { history: { bytes: -1 } } },
      { ...server, historyBytes: 4096 },
      false,
    );
    expect(junk.ok && junk.params.history).toBe(undefined);
  });

  it('refuses an ACCEPT with a history that was not offered or is larger', () => {
    const result = negotiate(helloPayload({ ...client, historyBytes: 8192 }), { ...server, historyBytes: 8192 }, false);
    if (!result.ok) throw new Error(result.message);
    const accept = acceptPayload(result.params);
    expect(outcome(() => paramsFromAccept(accept, client, timing))).toEqual({ ok: false, code: 'INVALID_MESSAGE' });
    expect(outcome(() => paramsFromAccept(accept, { ...client, historyBytes: 4096 }, timing))).toEqual({
      ok: false,
      code: 'INVALID_MESSAGE',
    });
  });
});

describe('one direction of a session', () => {
  it('compresses against what it carried, names the state, and keeps both ends equal', () => {
    const a = newSessionHistory();
    const b = newSessionHistory();
    const sizes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const payload = send(EVENT(i), a);
      expect(receive(payload, b)).toBe(EVENT(i));
      sizes.push(payload.content.length);
      expect(b.recv).toEqual(a.send);
    }
    const later = send(EVENT(99), a);
    expect(later.content).toMatch(new RegExp(`^#BH\\|${b.recv.hash}[|:]`));
    expect(b.recv.hash).toMatch(/^[A-Za-z0-9_-]{6}$/);
    expect(b.recv.seq).toBe(20);
    // Later events cost a fraction of what they cost stateless.
    expect(Math.max(...sizes.slice(5))).toBeLessThan(compress(EVENT(99)).wire.length / 2);
  });

  it('keeps at most the negotiated bytes, cut at a character boundary', () => {
    const state = newHistoryState();
    for (let i = 0; i < 200; i++) appendHistory(state, `é€😀${i}`, 100);
    expect(state.textBytes).toBeLessThanOrEqual(100);
    expect(Buffer.byteLength(state.text)).toBe(state.textBytes);
    expect(state.text.endsWith('😀199')).toBe(true);
    expect(state.seq).toBe(200);
  });

  it('a lost message: the next one is refused with HISTORY_MISMATCH, the sender resets, both resynchronise', () => {
    const params: SessionParams = { ...PARAMS, history: { bytes: 4096, dictionaries: names() } };
    const a = newSessionHistory();
    const b = newSessionHistory();
    for (let i = 0; i < 3; i++) receive(send(EVENT(i), a, params), b, NO_SCAN, params);
    send(EVENT(3), a, params); // lost
    const refused = send(EVENT(4), a, params);
    expect(refused.content.startsWith('#BH|')).toBe(true);
    const before = structuredClone(b.recv);
    expect(outcome(() => receive(refused, b, NO_SCAN, params))).toEqual({ ok: false, code: 'HISTORY_MISMATCH' });
    expect(b.recv).toEqual(before); // nothing changed
    // The sender hears HISTORY_MISMATCH and resets. A stateless message meanwhile is not in its history
    // (the receiver appends it to its own, which the reset then drops).
    resetHistory(a.send);
    expect(receive(send('ok', a, params), b, NO_SCAN, params)).toBe('ok');
    expect(a.send.seq).toBe(0);
    const fresh = send(EVENT(5), a, params);
    expect(fresh.content).toMatch(new RegExp(`^#BH\\|${RESET_LABEL}\\.sse[|:]`));
    expect(receive(fresh, b, NO_SCAN, params)).toBe(EVENT(5));
    expect(b.recv).toEqual(a.send);
    const next = send(EVENT(6), a, params);
    expect(next.content).toMatch(new RegExp(`^#BH\\|${b.recv.hash}\\.sse[|:]`));
    expect(receive(next, b, NO_SCAN, params)).toBe(EVENT(6));
    expect(b.recv).toEqual(a.send);
  });

  it('a message refused after decoding (a blocking scan) stays in both histories: no resync needed', () => {
    const a = newSessionHistory();
    const b = newSessionHistory();
    const blocking: SecurityOptions = {
      blocking: true,
      scanner: (c) => ({
        safe: !c.includes('word2'),
        threats: c.includes('word2') ? [{ type: 'x', confidence: 1 }] : [],
      }),
    };
    receive(send(EVENT(1), a), b, blocking);
    expect(outcome(() => receive(send(EVENT(2), a), b, blocking))).toEqual({ ok: false, code: 'SECURITY_VIOLATION' });
    expect(b.recv).toEqual(a.send);
    expect(receive(send(EVENT(3), a), b, blocking)).toBe(EVENT(3));
  });

  it('a #BH| message against other bytes under the same seq is refused (the hash names the bytes)', () => {
    const a = newSessionHistory();
    const b = newSessionHistory();
    receive(send(EVENT(1), a), b);
    const c = newSessionHistory();
    receive(send(EVENT(2), c), newSessionHistory()); // c.send: seq 1, other bytes
    const payload = send(EVENT(3), c);
    expect(payload.content.startsWith('#BH|')).toBe(true);
    expect(c.send.seq).toBe(2);
    expect(outcome(() => receive(payload, b))).toEqual({ ok: false, code: 'HISTORY_MISMATCH' });
    // Outside a session, plain decoding refuses #BH| too.
    expect(outcome(() => decodeData(payload, undefined, NO_SCAN))).toEqual({ ok: false, code: 'HISTORY_MISMATCH' });
  });

  it('the trained dictionary of the family starts the dictionary while the history is short', () => {
    const params: SessionParams = { ...PARAMS, history: { bytes: 4096, dictionaries: names() } };
    const a = newSessionHistory();
    const b = newSessionHistory();
    const first = send(EVENT(1), a, params);
    expect(first.content).toMatch(/^#BH\|0\.sse[|:]/);
    expect(receive(first, b, NO_SCAN, params)).toBe(EVENT(1));
    // Without dictionaries negotiated none is used; a dictionary this install lacks is a typed refusal, never other text.
    const plain = send(EVENT(1), newSessionHistory(), { ...PARAMS, history: { bytes: 4096, dictionaries: [] } });
    expect(plain.content.includes('.sse')).toBe(false);
    const forged = { ...first, content: first.content.replace('#BH|0.sse', '#BH|0.nope') };
    expect(outcome(() => receive(forged, newSessionHistory(), NO_SCAN, params))).toEqual({
      ok: false,
      code: 'DICTIONARY_UNAVAILABLE',
    });
  });

  it('the earlier head form (#BH|<8 hex>|<id>|, padded) is a typed error, never a misread', () => {
    const params: SessionParams = { ...PARAMS, history: { bytes: 4096, dictionaries: names() } };
    const first = send(EVENT(1), newSessionHistory(), params);
    const payload = first.content.slice(5 + first.content.slice(4).search(/[|:]/));
    for (const old of [`#BH|0|sse|${payload}`, `#BH|0||${payload}`, `#BH|08b01bb0||${payload}`]) {
      const b = newSessionHistory();
      expect(outcome(() => receive({ ...first, content: old }, b, NO_SCAN, params))).toEqual({
        ok: false,
        code: 'INVALID_FRAME',
      });
      expect(b.recv.seq).toBe(0);
    }
  });

  it('a #BH|<state>: payload is raw deflate against the history: zlib reads it as well as the core', () => {
    const a = newSessionHistory();
    const b = newSessionHistory();
    let deflated = 0;
    for (let i = 0; i < 30; i++) {
      const before = Buffer.from(a.send.text).subarray(-32 * 1024);
      const payload = send(EVENT(i), a);
      const head = /^#BH\|[A-Za-z0-9_-]+:/.exec(payload.content);
      if (head) {
        deflated++;
        const packed = base85Decode(payload.content.slice(head[0].length));
        expect(inflateRawSync(packed, { dictionary: before }).toString()).toBe(EVENT(i));
      }
      expect(receive(payload, b)).toBe(EVENT(i));
    }
    expect(deflated).toBeGreaterThan(20);
  });

  it('both directions: a request after a #BH| reply goes against what the server sent too; a stale ack is refused', () => {
    const both: SessionParams = { ...PARAMS, history: { bytes: 8192, dictionaries: [], bothDirections: true } };
    // Each answer's text is new: a request can copy it only from the reply that carried it.
    const WORDS = ['river', 'stone', 'lantern', 'orbit', 'maple', 'quartz', 'harbor', 'violet', 'ember', 'summit'];
    const said = (n: number) =>
      Array.from({ length: 40 }, (_, i) => WORDS[(n * 7 + i * i * 3 + i) % WORDS.length]).join(' ');
    const answer = (n: number) =>
      JSON.stringify({
        id: `chatcmpl-${n}`,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: said(n) } }],
      });
    // Request n resends the conversation so far: answers 1 … n-1.
    const request = (n: number) =>
      JSON.stringify({
        model: 'gpt-4o',
        messages: Array.from({ length: n }, (_, i) => [
          { role: 'user', content: `Question ${i}?` },
          ...(i + 1 < n ? [{ role: 'assistant', content: said(i + 1) }] : []),
        ]).flat(),
      });
    const client = newSessionHistory();
    const server = newSessionHistory();
    const wires: string[] = [];
    for (let n = 1; n <= 4; n++) {
      const sent = encodeData(
        request(n),
        both,
        NO_SCAN,
        {},
        { history: client, ack: true, bothDirections: true },
      ).payload;
      wires.push(sent.content);
      expect(receive(sent, server, NO_SCAN, both)).toBe(request(n));
      const reply = encodeData(answer(n), both, NO_SCAN, {}, { history: server }).payload;
      expect(receive(reply, client, NO_SCAN, both)).toBe(answer(n));
      expect(client).toMatchObject({ send: server.recv, recv: server.send });
    }
    // Once a #BH| reply confirmed the client's receive state, requests name both directions (`+`).
    expect(client.recvConfirmed).toBe(true);
    expect(wires.slice(2).every((w) => /^#BH\|[A-Za-z0-9_-]{6}\+[|:]/.test(w))).toBe(true);
    // Shorter than against one direction.
    const one = newSessionHistory();
    const oneServer = newSessionHistory();
    const oneParams: SessionParams = { ...both, history: { bytes: 8192, dictionaries: [] } };
    let last = '';
    for (let n = 1; n <= 4; n++) {
      const sent = encodeData(request(n), oneParams, NO_SCAN, {}, { history: one, ack: true, bothDirections: true });
      last = sent.payload.content;
      receive(sent.payload, oneServer, NO_SCAN, oneParams);
      receive(encodeData(answer(n), oneParams, NO_SCAN, {}, { history: oneServer }).payload, one, NO_SCAN, oneParams);
    }
    expect((wires[3] as string).length).toBeLessThan(last.length);
    // The server sent a reply the client never got: the next request's ack is stale, and it is refused, changing nothing.
    encodeData(answer(9), both, NO_SCAN, {}, { history: server });
    const stale = encodeData(
      request(5),
      both,
      NO_SCAN,
      {},
      { history: client, ack: true, bothDirections: true },
    ).payload;
    expect(stale.content).toMatch(/^#BH\|[A-Za-z0-9_-]{6}\+/);
    const before = structuredClone(server.recv);
    expect(outcome(() => receive(stale, server, NO_SCAN, both))).toEqual({ ok: false, code: 'HISTORY_MISMATCH' });
    expect(server.recv).toEqual(before);
    // And a `+` message where both directions were not negotiated is refused too.
    expect(outcome(() => receive(stale, newSessionHistory(), NO_SCAN, oneParams))).toEqual({
      ok: false,
      code: 'HISTORY_MISMATCH',
    });
  });

  it("the README's example wires are what a session sends (the 1st and 10th event)", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const params: SessionParams = { ...PARAMS, history: { bytes: DEFAULT_HISTORY_BYTES, dictionaries: names() } };
    const a = newSessionHistory();
    const wires = Array.from({ length: 10 }, (_, i) => send(EVENT(i + 1), a, params).content);
    expect(readme).toContain(`(${EVENT(1).length} bytes each), the first travels as\n\`${wires[0]}\``);
    expect(readme).toContain(`(${wires[0]?.length} characters: the trained dictionary alone)`);
    expect(readme).toContain(`the tenth as\n\`${wires[9]}\` (${wires[9]?.length} characters)`);
  });

  it('falls back to the stateless choice when history does not pay, never longer than the input', () => {
    const a = newSessionHistory();
    const b = newSessionHistory();
    for (const text of ['hi', 'x'.repeat(3), '#BH|1.0||AAAA', '{}']) {
      const payload = send(text, a);
      expect(payload.content.length).toBeLessThanOrEqual(Math.max(text.length, 0) + 8);
      expect(receive(payload, b)).toBe(text);
    }
  });
});

interface Corpus {
  streams: string[][];
  /** The requests of multi-turn conversations, in order. */
  conversations: string[][];
  /** The same conversations with each request's recorded reply. */
  exchanges: [string, string | undefined][][];
}

function loadCorpus(dir: string): Corpus {
  const records = readFileSync(join(dir, 'traffic.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { body: string }).body);
  const exchanges: [string, string | undefined][][] = [];
  for (const l of readFileSync(join(dir, 'sessions.jsonl'), 'utf8').trim().split('\n')) {
    const s = JSON.parse(l) as {
      interactions: { interaction: number; request: number | null; response: number | null }[];
      conversations: { interactions: number[] }[];
    };
    const by = new Map(s.interactions.map((i) => [i.interaction, i]));
    for (const c of s.conversations) {
      const turns: [string, string | undefined][] = [];
      for (const i of c.interactions) {
        const ix = by.get(i);
        if (typeof ix?.request !== 'number') continue;
        turns.push([records[ix.request] as string, typeof ix.response === 'number' ? records[ix.response] : undefined]);
      }
      if (turns.length >= 2) exchanges.push(turns);
    }
  }
  return {
    streams: sseStreams(dir).slice(0, 60),
    conversations: exchanges.slice(0, 120).map((turns) => turns.map(([request]) => request)),
    exchanges: exchanges.slice(0, 60),
  };
}

describe('real traffic (../shared/data/traffic-dev), in order', () => {
  it('round trips exactly, never longer than the input, native == wasm bytes', (ctx) => {
    const dir = sharedData('traffic-dev', ctx);
    if (dir === undefined) return;
    const { streams, conversations } = loadCorpus(dir);
    expect(streams.length).toBeGreaterThan(20);
    expect(conversations.length).toBeGreaterThan(20);
    const params: SessionParams = {
      ...PARAMS,
      history: { bytes: DEFAULT_HISTORY_BYTES, dictionaries: ['req', 'res', 'sse'] },
    };
    let historyUsed = 0;
    let deflateUsed = 0;
    for (const group of [...streams, ...conversations]) {
      const wires: string[][] = [];
      for (const kind of ['native', 'wasm'] as const) {
        useBackend(kind);
        const a = newSessionHistory();
        const b = newSessionHistory();
        const out: string[] = [];
        for (const m of group) {
          const payload = send(m, a, params);
          expect(receive(payload, b, NO_SCAN, params)).toBe(m);
          expect(Buffer.byteLength(payload.content)).toBeLessThanOrEqual(Buffer.byteLength(m));
          if (payload.content.startsWith('#BH|')) historyUsed++;
          if (/^#BH\|[^|:]+:/.test(payload.content)) deflateUsed++;
          out.push(payload.content);
        }
        expect(b.recv).toEqual(a.send);
        wires.push(out);
      }
      expect(wires[1]).toEqual(wires[0]);
    }
    expect(historyUsed).toBeGreaterThan(100);
    // Both payload codecs are exercised (counted over both backends).
    expect(deflateUsed).toBeGreaterThan(50);
    expect(historyUsed - deflateUsed).toBeGreaterThan(50);
  });
});

describe('binary payloads (WebSocket binary frames, binary_payloads)', () => {
  const BINARY: SessionParams = { ...PARAMS, binaryPayloads: true };
  const encodeBinary = (content: string, from: SessionHistory, params = BINARY) =>
    encodeData(content, params, NO_SCAN, {}, { history: from });

  it('real traffic in order: exactly the text wires as bytes, round trips, native == wasm bytes', (ctx) => {
    const dir = sharedData('traffic-dev', ctx);
    if (dir === undefined) return;
    const { streams, conversations } = loadCorpus(dir);
    const history = { bytes: DEFAULT_HISTORY_BYTES, dictionaries: ['req', 'res', 'sse'] };
    const textParams: SessionParams = { ...PARAMS, history };
    const binaryParams: SessionParams = { ...BINARY, history };
    let bodies = 0;
    let textBytes = 0;
    let binaryBytes = 0;
    for (const group of [...streams.slice(0, 40), ...conversations.slice(0, 40)]) {
      const perBackend: number[][][] = [];
      for (const kind of ['native', 'wasm'] as const) {
        useBackend(kind);
        const [ta, tb, ba, bb] = [newSessionHistory(), newSessionHistory(), newSessionHistory(), newSessionHistory()];
        const out: number[][] = [];
        for (const m of group) {
          const text = send(m, ta, textParams);
          expect(receive(text, tb, NO_SCAN, textParams)).toBe(m);
          const sent = encodeBinary(m, ba, binaryParams);
          const carriesBytes = /^(#BH\||#M2M\[v3\.0\]\|DATA:)/.test(text.content);
          expect(sent.binary !== undefined).toBe(carriesBytes);
          if (sent.binary === undefined) {
            expect(sent.payload.content).toBe(text.content);
          } else {
            expect(sent.payload.content).toBe('');
            expect(backend().binaryToWire(sent.binary)).toBe(text.content);
            expect(sent.binary.length).toBeLessThan(text.content.length);
            bodies++;
            textBytes += text.content.length;
            binaryBytes += sent.binary.length;
            out.push([...sent.binary]);
          }
          expect(decodeData(sent.payload, binaryParams, NO_SCAN, sent.binary, { history: bb }).content).toBe(m);
        }
        expect(bb.recv).toEqual(ta.send);
        perBackend.push(out);
      }
      expect(perBackend[1]).toEqual(perBackend[0]);
    }
    expect(bodies).toBeGreaterThan(200);
    // Base85 writes 4 bytes as 5 characters, base64 3 as 4; the heads (up to ~20 characters) stay as they are.
    expect(binaryBytes / textBytes).toBeLessThan(0.85);
  });

  it('hostile or unnegotiated binary bodies are typed errors and change no history', () => {
    const a = newSessionHistory();
    const b = newSessionHistory();
    for (let i = 0; i < 3; i++) {
      const sent = encodeBinary(EVENT(i), a);
      expect(decodeData(sent.payload, BINARY, NO_SCAN, sent.binary, { history: b }).content).toBe(EVENT(i));
    }
    const sent = encodeBinary(EVENT(3), a);
    const body = sent.binary as Uint8Array;
    expect(new TextDecoder().decode(body.subarray(0, 4))).toBe('#BH|');
    const before = structuredClone(b.recv);
    const tryBody = (bytes: Uint8Array, params = BINARY) =>
      outcome(() => decodeData(sent.payload, params, NO_SCAN, bytes, { history: b }));
    // Not negotiated: refused before anything is read.
    expect(tryBody(body, { ...BINARY, binaryPayloads: false })).toEqual({ ok: false, code: 'INVALID_MESSAGE' });
    // Over the negotiated payload limit.
    expect(tryBody(body, { ...BINARY, maxPayloadSize: body.length - 1 })).toEqual({
      ok: false,
      code: 'CONTENT_TOO_LARGE',
    });
    // Not a form with a binary body; a head without its mark; a head that is not ASCII.
    const enc = (t: string) => new TextEncoder().encode(t);
    expect(tryBody(enc('#TK|C|abc'))).toEqual({ ok: false, code: 'INVALID_FRAME' });
    expect(tryBody(enc('#BH|0'))).toEqual({ ok: false, code: 'MISSING_SEPARATOR' });
    expect(tryBody(new Uint8Array([...enc('#BH|é'), 0x7c, 1, 2]))).toEqual({ ok: false, code: 'INVALID_FRAME' });
    // Truncated or flipped payload bytes: the codec refuses them.
    expect(tryBody(body.subarray(0, body.length - 3)).ok).toBe(false);
    // Another state: HISTORY_MISMATCH, as for text.
    const other = new Uint8Array(body);
    other.set(enc('#BH|zzzzzz'), 0);
    expect(tryBody(other)).toEqual({ ok: false, code: 'HISTORY_MISMATCH' });
    expect(b.recv).toEqual(before);
    // The real body still decodes after all that.
    expect(tryBody(body)).toEqual({ ok: true, value: { content: EVENT(3), algorithm: 'brotli' } });
  });

  it('random bodies after real and random heads: a typed error or the content, and a refused one changes nothing (fast-check)', () => {
    const a = newSessionHistory();
    const b = newSessionHistory();
    for (let i = 0; i < 3; i++) {
      const sent = encodeBinary(EVENT(i), a);
      decodeData(sent.payload, BINARY, NO_SCAN, sent.binary, { history: b });
    }
    const real = encodeBinary(EVENT(3), a);
    const body = real.binary as Uint8Array;
    const mark = body.findIndex((x, i) => i >= 4 && (x === 0x7c || x === 0x3a));
    const enc = (t: string) => new TextEncoder().encode(t);
    const heads = [body.subarray(0, mark + 1), enc(`#BH|${b.recv.hash}|`), enc('#BH|0:'), enc('#M2M[v3.0]|DATA:')];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.constantFrom(...heads), fc.uint8Array({ maxLength: 300 })),
          fc.tuple(fc.constant(new Uint8Array()), fc.uint8Array({ maxLength: 300 })),
          // The real body with one byte changed.
          fc
            .tuple(fc.nat(body.length - 1), fc.integer({ min: 1, max: 255 }))
            .map(([i, x]): [Uint8Array, Uint8Array] => {
              const copy = new Uint8Array(body);
              copy[i] = (copy[i] as number) ^ x;
              return [copy, new Uint8Array()];
            }),
        ),
        ([head, tail]) => {
          const bytes = new Uint8Array([...head, ...tail]);
          const at = structuredClone(b);
          const got = outcome(() => decodeData(real.payload, BINARY, NO_SCAN, bytes, { history: at }));
          // Refused before decoding: nothing changes. Decoded and then refused (a size check): appended, as
          // the sender would have (a changed byte in a deflate payload can decode; the next state then differs).
          // (A message naming state 0 that decodes resets the history first: then it holds that one message.)
          if (!got.ok && ['SIZE_MISMATCH', 'CONTENT_TOO_LARGE'].includes(got.code))
            expect([b.recv.seq + 1, 1]).toContain(at.recv.seq);
          else if (!got.ok) expect(at.recv).toEqual(b.recv);
          // What decodes is what the sender meant, or what those bytes hold and says so in original_size.
          else expect(Buffer.byteLength(got.value.content)).toBe(real.payload.original_size);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('real conversations with their replies, both directions (../shared/data/traffic-dev)', () => {
  it('round trip exactly, the same wire on both backends, and requests go against both directions', (ctx) => {
    const dir = sharedData('traffic-dev', ctx);
    if (dir === undefined) return;
    const conversations = loadCorpus(dir).exchanges;
    expect(conversations.length).toBeGreaterThan(20);
    const params: SessionParams = {
      ...PARAMS,
      history: { bytes: DEFAULT_HISTORY_BYTES, dictionaries: names(), bothDirections: true },
    };
    let both = 0;
    for (const turns of conversations) {
      const wires: string[][] = [];
      for (const kind of ['native', 'wasm'] as const) {
        useBackend(kind);
        const client = newSessionHistory();
        const server = newSessionHistory();
        const out: string[] = [];
        for (const [request, response] of turns) {
          const sent = encodeData(request, params, NO_SCAN, {}, { history: client, ack: true, bothDirections: true });
          expect(receive(sent.payload, server, NO_SCAN, params)).toBe(request);
          expect(Buffer.byteLength(sent.payload.content)).toBeLessThanOrEqual(Buffer.byteLength(request));
          out.push(sent.payload.content);
          if (kind === 'native' && /^#BH\|[A-Za-z0-9_-]{6}\+/.test(sent.payload.content)) both++;
          if (response === undefined) continue;
          const reply = encodeData(response, params, NO_SCAN, {}, { history: server });
          expect(receive(reply.payload, client, NO_SCAN, params)).toBe(response);
          out.push(reply.payload.content);
        }
        wires.push(out);
      }
      expect(wires[1]).toEqual(wires[0]);
    }
    useBackend((process.env.M2M_BACKEND ?? 'native') as 'native' | 'wasm');
    expect(both).toBeGreaterThan(20);
  });
});

describe('HTTP sessions', () => {
  async function worker(store: MemorySessionStore) {
    const manager = new SessionManager({ store, onData: (content) => `echo:${content}`, historyBytes: 4096 });
    const app = Fastify();
    registerSessionRoutes(app, manager);
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(async () => {
      await app.close();
    });
    return (app.server.address() as AddressInfo).port;
  }

  it('two workers sharing one store serve one session; a lost request and a lost reply resynchronise', async () => {
    const store = new MemorySessionStore();
    const ports = [await worker(store), await worker(store)];
    let turn = 0;
    let drop: 'request' | 'reply' | undefined;
    const bodies: string[] = [];
    const roundRobin: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      url.port = String(ports[turn++ % 2]);
      if (typeof init?.body === 'string') bodies.push(init.body);
      if (drop === 'request') {
        drop = undefined;
        throw new Error('lost on the way');
      }
      const res = await fetch(url, init);
      if (drop === 'reply') {
        drop = undefined;
        await res.text();
        throw new Error('reply lost');
      }
      return res;
    };
    const c = new M2MClient({
      url: `http://127.0.0.1:${ports[0]}`,
      transport: 'http',
      fetch: roundRobin,
      historyBytes: 8192,
      // Unsealed, so that the test can read the wire (sealed sessions carry the same payload inside the seal).
      sessionSecurity: false,
    });
    cleanups.push(async () => {
      if (c.state === 'ESTABLISHED') await c.close();
    });
    const got: string[] = [];
    c.onData((content) => got.push(content));
    c.onError(() => undefined);
    const params = await c.connect();
    expect(params.history?.bytes).toBe(4096);
    const sent: string[] = [];
    const say = async (i: number) => {
      sent.push(EVENT(i));
      await c.send(EVENT(i));
    };
    for (let i = 0; i < 4; i++) await say(i);
    expect(got).toEqual(sent.map((s) => `echo:${s}`));
    const stored = await store.get((await store.list())[0] as string);
    expect(stored?.history?.recv.seq).toBe(4);
    expect(stored?.history?.recv.textBytes).toBeLessThanOrEqual(4096);
    const last = JSON.parse(bodies.at(-1) as string);
    expect(last.payload.content.startsWith('#BH|')).toBe(true);
    expect(namesReset(last.payload.content)).toBe(false);
    expect(typeof last.payload.history_ack).toBe('string');

    drop = 'request';
    await expect(c.send(EVENT(50))).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    await say(5);
    expect(namesReset(JSON.parse(bodies.at(-1) as string).payload.content)).toBe(true);
    await say(6);
    const sixth = JSON.parse(bodies.at(-1) as string).payload.content;
    expect(sixth.startsWith('#BH|') && !namesReset(sixth)).toBe(true);

    drop = 'reply';
    await expect(c.send(EVENT(70))).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    await say(8);
    await say(9);
    expect(got.slice(-3)).toEqual([EVENT(6), EVENT(8), EVENT(9)].map((s) => `echo:${s}`));
  });
});

describe('WebSocket sessions', () => {
  /** A session over WebSocket; the server echoes, refuses `word3` by its scan, and records what it received. */
  async function wsSession(binaryFrames: boolean, sealed = false) {
    const store = new MemorySessionStore();
    const received: { content: string; wire: string; bytes: number }[] = [];
    const sizes: number[] = [];
    const manager = new SessionManager({
      store,
      historyBytes: 4096,
      rateLimiter: (ctx) => {
        if (ctx.kind === 'message' && ctx.bytes !== undefined) sizes.push(ctx.bytes);
        return true;
      },
      onData: (content, ctx) => {
        received.push({ content, wire: ctx.message.payload.content, bytes: sizes.at(-1) ?? -1 });
        return `echo:${content}`;
      },
      scanner: (c) => ({
        safe: !c.includes('word3'),
        threats: c.includes('word3') ? [{ type: 'x', confidence: 1 }] : [],
      }),
    });
    const server = createServer();
    const handle = attachSessionWebSocket(server, manager);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      await handle.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    const c = new M2MClient({
      url: `ws://127.0.0.1:${port}/v1/ws`,
      historyBytes: 8192,
      ...(sealed ? {} : { sessionSecurity: false as const }),
      binaryFrames,
    });
    cleanups.push(async () => {
      if (c.state === 'ESTABLISHED') await c.close();
    });
    const got: string[] = [];
    const errors: string[] = [];
    c.onData((content) => got.push(content));
    c.onError((e) => errors.push(e.code));
    const params = await c.connect();
    const until = async (n: number) => {
      for (let i = 0; i < 200 && got.length + errors.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    const sendAll = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await c.send(EVENT(i));
        await until(i + 1);
      }
    };
    return { c, params, store, received, got, errors, sendAll };
  }

  it('compresses against the history over text frames; a refused message resynchronises', async () => {
    const { c, params, store, received, got, errors, sendAll } = await wsSession(false);
    expect(params.history?.bytes).toBe(4096);
    expect(params.binaryFrames).toBe(false);
    await sendAll(0, 3);
    expect(got).toEqual([0, 1, 2].map((i) => `echo:${EVENT(i)}`));
    const wires = () => received.map((r) => r.wire);
    expect(wires()[2]?.startsWith('#BH|')).toBe(true);
    expect(namesReset(wires()[2])).toBe(false);
    // Refused by the server's scan (after decoding): ERROR, the client resets, the next names state 0.
    await sendAll(3, 4);
    expect(errors).toEqual(['SECURITY_VIOLATION']);
    await sendAll(4, 6);
    expect(got.slice(-2)).toEqual([`echo:${EVENT(4)}`, `echo:${EVENT(5)}`]);
    expect(namesReset(wires().at(-2))).toBe(true);
    expect(wires().at(-1)?.startsWith('#BH|')).toBe(true);
    expect(namesReset(wires().at(-1))).toBe(false);
    const record = await store.get(c.sessionId as string);
    expect(record?.history?.recv.seq).toBe(2);
  });

  it('over binary frames, history messages carry their payload as bytes: the same content, fewer bytes, the same resync', async () => {
    const text = await wsSession(false);
    await text.sendAll(0, 12);
    const binary = await wsSession(true);
    expect(binary.params.binaryFrames).toBe(true);
    expect(binary.params.binaryPayloads).toBe(true);
    await binary.sendAll(0, 12);
    // The same content both ways (word3 refused by the scan both ways), and the replies came back.
    expect(binary.received.map((r) => r.content)).toEqual(text.received.map((r) => r.content));
    expect(binary.got).toEqual(text.got);
    expect(binary.got).toHaveLength(11);
    expect(binary.errors).toEqual(['SECURITY_VIOLATION']);
    // Each message that went as #BH| in text went as a binary body here, about 4/5 of its size.
    let compared = 0;
    for (const [i, t] of text.received.entries()) {
      const b = binary.received[i];
      if (!t.wire.startsWith('#BH|') || b === undefined) continue;
      expect(b.wire).toBe('');
      expect(b.bytes).toBeLessThan(t.bytes);
      expect(b.bytes).toBeGreaterThanOrEqual(Math.floor(t.bytes * 0.75));
      compared++;
    }
    expect(compared).toBeGreaterThan(6);
    const record = await binary.store.get(binary.c.sessionId as string);
    const textRecord = await text.store.get(text.c.sessionId as string);
    expect(record?.history?.recv).toEqual(textRecord?.history?.recv);
    expect(record?.history?.send).toEqual(textRecord?.history?.send);
    // Sealed (ChaCha20-Poly1305 over the binary body): the same content and replies.
    const sealed = await wsSession(true, true);
    expect(sealed.c.sessionSecurity).toBe('aead');
    await sealed.sendAll(0, 12);
    expect(sealed.received.map((r) => r.content)).toEqual(text.received.map((r) => r.content));
    expect(sealed.received.filter((r) => r.wire === '').length).toBeGreaterThan(6);
    expect(sealed.got).toEqual(text.got);
  });
});

describe('startServer', () => {
  it('sessionHistoryBytes (server.session_history) bounds the history it negotiates; 0 does not offer it', async () => {
    for (const [bytes, expected] of [
      [2048, 2048],
      [0, undefined],
    ] as const) {
      const server = await startServer({ port: 0, logLevel: false, sessionHistoryBytes: bytes, onData: (c) => c });
      cleanups.push(() => server.close());
      const c = new M2MClient({ url: `${server.url}/v1`, transport: 'http', historyBytes: 8192, keepAlive: false });
      const params = await c.connect();
      expect(params.history?.bytes).toBe(expected);
      const got: string[] = [];
      c.onData((content) => got.push(content));
      await c.send(EVENT(1));
      await c.send(EVENT(2));
      expect(got).toEqual([EVENT(1), EVENT(2)]);
      await c.close();
    }
  });
});
