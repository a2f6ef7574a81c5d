/**
 * Sessions that remember (the history extension, ts/protocol/history.ts) on
 * the held-out split of the development corpus (the repositories
 * scripts/gen-dictionaries.mjs did not train on), carried message by message
 * through encodeData/decodeData as a session carries them:
 *
 * - SSE events: each Chat Completions stream, event by event, in order;
 * - requests after the first in a multi-turn conversation (sessions.jsonl
 *   `conversations`, every API), and in a recording file's sequence of
 *   requests (the same client, one request after another).
 *
 * Per message: bytes saved (percent of the original) by today's stateless
 * auto (`compress()`), and in a session with the history extension (the
 * DATA content, plus `"history_ack":"<state>",` on requests), median and p90;
 * the same over WebSocket binary frames (`binary_payloads`: the binary body
 * in place of the content); the
 * whole-stream figure (the stream compressed at once by auto); the time per
 * message (encode + decode, in a session with history vs stateless auto
 * compress + decompress) as a ratio; the history kept per session.
 *
 * Run: `npx tsx bench/session-history.ts [--backend native|wasm] [--bytes 24576] [--write]`
 * (`--write` saves the table to bench/results/session-history.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPUS_DIR, isHeldOut, repoOf } from '../scripts/gen-dictionaries.mjs';
import { loadedDictionaryNames } from '../ts/codec/codec.js';
import { DEFAULT_HISTORY_BYTES, type HistoryParams, newSessionHistory } from '../ts/codec/history.js';
import { backend } from '../ts/core/backend.js';
import { coreTables } from '../ts/core/tables.js';
import { utf8Length } from '../ts/core/utf8.js';
import { compress, decompress, useBackend } from '../ts/index.js';
import { decodeData, encodeData } from '../ts/protocol/data.js';
import { SESSION_DEFAULTS, type SessionParams } from '../ts/protocol/negotiate.js';
import { mdHeader, mdRow } from './util.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    bytes: { type: 'string', default: String(DEFAULT_HISTORY_BYTES) },
    write: { type: 'boolean', default: false },
  },
});
useBackend(values.backend as 'native' | 'wasm');
const core = backend();
const historyBytes = Number(values.bytes);
const dictionaries = loadedDictionaryNames(coreTables().dictionaries);

function quantile(xs: readonly number[], f: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(f * (s.length - 1) + 0.5)] as number;
}

const params: SessionParams = {
  version: '3.0',
  algorithms: ['token-native', 'brotli', 'dictionary'],
  encoding: 'cl100k_base',
  securityScanning: false,
  maxPayloadSize: SESSION_DEFAULTS.maxPayloadSize,
  sessionTimeoutMs: SESSION_DEFAULTS.sessionTimeoutMs,
  pingIntervalMs: SESSION_DEFAULTS.pingIntervalMs,
  pingTimeoutMs: SESSION_DEFAULTS.pingTimeoutMs,
  binaryFrames: false,
  history: { bytes: historyBytes, dictionaries },
};
const security = { blocking: true };

const lines = readFileSync(join(CORPUS_DIR, 'traffic.jsonl'), 'utf8').trim().split('\n');
const records = lines.map((l) => JSON.parse(l) as { source: string; kind: string; body: string });

/**
 * Carries `messages` in one direction of a session; per message: [original
 * bytes, bytes on the wire]. `ack`: a client's direction, whose DATA also
 * carries `"history_ack":"<state>",`.
 */
function carry(
  messages: readonly string[],
  ack: boolean,
  over = params,
): { sizes: [number, number][]; memory: number } {
  const sender = newSessionHistory();
  const receiver = newSessionHistory();
  const sizes: [number, number][] = [];
  for (const m of messages) {
    const { payload, binary } = encodeData(m, over, security, {}, { history: sender, ack });
    const back = decodeData(payload, over, security, binary, { history: receiver });
    if (back.content !== m) throw new Error('not a round trip');
    const field = ack ? `"history_ack":"${payload.history_ack}",`.length : 0;
    sizes.push([utf8Length(m), (binary?.length ?? utf8Length(payload.content)) + field]);
  }
  return { sizes, memory: utf8Length(JSON.stringify(receiver)) };
}

/** The same session over WebSocket binary frames: TokenNative, session Brotli and `#BH|` bodies as bytes. */
const binaryParams: SessionParams = { ...params, binaryFrames: true, binaryPayloads: true };

function timeCarry(groups: readonly string[][], over = params): number {
  let best = Number.POSITIVE_INFINITY;
  const n = groups.reduce((a, g) => a + g.length, 0);
  for (let rep = 0; rep < 3; rep++) {
    const start = process.hrtime.bigint();
    for (const g of groups) {
      const sender = newSessionHistory();
      const receiver = newSessionHistory();
      for (const m of g) {
        const { payload, binary } = encodeData(m, over, security, {}, { history: sender });
        decodeData(payload, over, security, binary, { history: receiver });
      }
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / n);
  }
  return best;
}

function timeAuto(groups: readonly string[][]): number {
  let best = Number.POSITIVE_INFINITY;
  const n = groups.reduce((a, g) => a + g.length, 0);
  for (let rep = 0; rep < 3; rep++) {
    const start = process.hrtime.bigint();
    for (const g of groups) for (const m of g) decompress(compress(m).wire);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / n);
  }
  return best;
}

const pct = (orig: number, wire: number) => 100 * (1 - wire / orig);
const f1 = (x: number) => x.toFixed(1);

// SSE streams, event by event.
const streams = new Map<number, string[]>();
for (const l of readFileSync(join(CORPUS_DIR, 'sse-events.jsonl'), 'utf8').trim().split('\n')) {
  const e = JSON.parse(l) as { stream: number; index: number; body: string };
  const repo = repoOf((records[e.stream] as { source: string }).source);
  if (!isHeldOut(repo)) continue;
  const list = streams.get(e.stream) ?? [];
  list[e.index] = e.body;
  streams.set(e.stream, list);
}

// Conversations and recorded sequences of requests; conversations also with their replies, in order.
const conversations: string[][] = [];
const exchanges: [string, string | undefined][][] = [];
const sequences: string[][] = [];
for (const l of readFileSync(join(CORPUS_DIR, 'sessions.jsonl'), 'utf8').trim().split('\n')) {
  const s = JSON.parse(l) as {
    source: string;
    interactions: { interaction: number; request: number | null; response: number | null }[];
    conversations: { interactions: number[] }[];
  };
  if (!isHeldOut(repoOf(s.source))) continue;
  const byInteraction = new Map(s.interactions.map((i) => [i.interaction, i]));
  for (const c of s.conversations) {
    const turns = c.interactions
      .map((i) => byInteraction.get(i))
      .filter(
        (t): t is { interaction: number; request: number; response: number | null } => typeof t?.request === 'number',
      );
    const bodies = turns.map((t) => (records[t.request] as { body: string }).body);
    if (bodies.length >= 2) {
      conversations.push(bodies);
      exchanges.push(
        turns.map((t, k) => [
          bodies[k] as string,
          typeof t.response === 'number' ? (records[t.response] as { body: string }).body : undefined,
        ]),
      );
    }
  }
  const requests = s.interactions
    .map((i) => i.request)
    .filter((r): r is number => typeof r === 'number')
    .map((r) => (records[r] as { body: string }).body);
  if (requests.length >= 2) sequences.push(requests);
}

const out: string[] = [];
const say = (line: string) => {
  out.push(line);
  console.log(line);
};
say(
  `Held-out split, backend ${core.kind}, history ${historyBytes} bytes per direction, dictionaries ${dictionaries.join(', ')}`,
);
say('');
for (const line of mdHeader([
  'what',
  'groups',
  'messages',
  'auto saved median (p90)',
  'history saved median (p90)',
  'binary frames saved median (p90)',
  'whole-stream saved',
  'time × auto',
  'history per direction (JSON, max)',
]))
  say(line);

function row(
  name: string,
  groups: string[][],
  client: boolean,
  skipFirst: boolean,
  wholes: readonly (string | undefined)[] = [],
) {
  const autoSaved: number[] = [];
  const histSaved: number[] = [];
  const binarySaved: number[] = [];
  let wholeOrig = 0;
  let wholeWire = 0;
  let memory = 0;
  groups.forEach((g, gi) => {
    const { sizes, memory: m } = carry(g, client);
    memory = Math.max(memory, m);
    carry(g, client, binaryParams).sizes.forEach(([orig, wire], i) => {
      if (!(skipFirst && i === 0)) binarySaved.push(pct(orig, wire));
    });
    sizes.forEach(([orig, wire], i) => {
      if (skipFirst && i === 0) return;
      const msg = g[i] as string;
      autoSaved.push(pct(orig, utf8Length(compress(msg).wire)));
      histSaved.push(pct(orig, wire));
    });
    const whole = wholes[gi];
    if (whole !== undefined) {
      wholeOrig += utf8Length(whole);
      wholeWire += utf8Length(compress(whole).wire);
    }
  });
  const autoTime = timeAuto(groups);
  const ratio = timeCarry(groups) / autoTime;
  const binaryRatio = timeCarry(groups, binaryParams) / autoTime;
  say(
    mdRow([
      name,
      groups.length,
      histSaved.length,
      `${f1(quantile(autoSaved, 0.5))}% (${f1(quantile(autoSaved, 0.9))}%)`,
      `${f1(quantile(histSaved, 0.5))}% (${f1(quantile(histSaved, 0.9))}%)`,
      `${f1(quantile(binarySaved, 0.5))}% (${f1(quantile(binarySaved, 0.9))}%)`,
      wholeOrig > 0 ? `${f1(pct(wholeOrig, wholeWire))}%` : '—',
      `${ratio.toFixed(2)} (binary ${binaryRatio.toFixed(2)})`,
      `${memory} B`,
    ]),
  );
}

/**
 * A conversation as a client session carries it over HTTP: each request (with
 * its `history_ack`, and against both directions where negotiated), then the
 * server's reply with the recorded response. Per request: [original, wire].
 */
function converse(turns: readonly [string, string | undefined][], both: boolean, over = params): [number, number][] {
  const client = newSessionHistory();
  const server = newSessionHistory();
  const p: SessionParams = { ...over, history: { ...(params.history as HistoryParams), bothDirections: both } };
  const sizes: [number, number][] = [];
  for (const [request, response] of turns) {
    const { payload: sent, binary } = encodeData(
      request,
      p,
      security,
      {},
      { history: client, ack: true, bothDirections: true },
    );
    if (decodeData(sent, p, security, binary, { history: server }).content !== request)
      throw new Error('not a round trip');
    const wire = binary?.length ?? utf8Length(sent.content);
    sizes.push([utf8Length(request), wire + `"history_ack":"${sent.history_ack}",`.length]);
    if (response === undefined) continue;
    const { payload: reply, binary: replyBody } = encodeData(response, p, security, {}, { history: server });
    if (decodeData(reply, p, security, replyBody, { history: client }).content !== response) {
      throw new Error('not a round trip');
    }
  }
  return sizes;
}

function conversationRow(name: string, both: boolean) {
  const saved: number[] = [];
  const binarySaved: number[] = [];
  for (const turns of exchanges) {
    converse(turns, both).forEach(([orig, wire], i) => {
      if (i > 0) saved.push(pct(orig, wire));
    });
    // Over WebSocket (one direction: both directions are used over HTTP only).
    if (!both) {
      converse(turns, false, binaryParams).forEach(([orig, wire], i) => {
        if (i > 0) binarySaved.push(pct(orig, wire));
      });
    }
  }
  const auto = exchanges.flatMap((t) => t.slice(1).map(([r]) => pct(utf8Length(r), utf8Length(compress(r).wire))));
  const time = (() => {
    let best = Number.POSITIVE_INFINITY;
    // Per message: the requests and the replies.
    const n = exchanges.reduce((a, t) => a + t.length + t.filter(([, r]) => r !== undefined).length, 0);
    for (let rep = 0; rep < 3; rep++) {
      const start = process.hrtime.bigint();
      for (const t of exchanges) converse(t, both);
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / n);
    }
    return best;
  })();
  const autoTime = timeAuto(exchanges.map((t) => t.flatMap(([r, s]) => (s === undefined ? [r] : [r, s]))));
  say(
    mdRow([
      name,
      exchanges.length,
      saved.length,
      `${f1(quantile(auto, 0.5))}% (${f1(quantile(auto, 0.9))}%)`,
      `${f1(quantile(saved, 0.5))}% (${f1(quantile(saved, 0.9))}%)`,
      both ? '—' : `${f1(quantile(binarySaved, 0.5))}% (${f1(quantile(binarySaved, 0.9))}%)`,
      '—',
      (time / autoTime).toFixed(2),
      '—',
    ]),
  );
}

const sseGroups = [...streams.values()].map((l) => l.filter((b) => typeof b === 'string'));
const sseWholes = [...streams.keys()].map((line) => (records[line] as { body: string }).body);
row('SSE events, event by event (server to client)', sseGroups, false, false, sseWholes);
row('requests after the first, multi-turn conversations', conversations, true, true);
row('requests after the first, recorded request sequences', sequences, true, true);
conversationRow('requests after the first, conversations with their replies, one direction', false);
conversationRow('requests after the first, conversations with their replies, both directions', true);
say('');
say(
  'Bytes saved per message: 1 − wire/original, the wire being the DATA content (over binary frames: the binary body), plus its `"history_ack":"<state>",` field for requests (clients send it). p90 is the 90th percentile of bytes saved (the better end). Time: encode + decode per message in a session with history, over stateless auto compress + decompress (binary: over binary frames, which rebuild the text form on receipt).',
);
if (values.write) writeFileSync(new URL('./results/session-history.md', import.meta.url), `${out.join('\n')}\n`);
