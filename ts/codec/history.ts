/**
 * Sessions that remember (the `history` extension): each DATA in a direction
 * may be compressed against what the session already carried in that
 * direction (`#BH|<state>|<base85>`, `#BH|<state>.<dictionary id>|<base85>`
 * when it names a trained dictionary: Brotli whose custom
 * dictionary is the trained dictionary of the message's family, while the
 * history is short, followed by the last `bytes` of this direction's
 * history; with `:` before the payload instead of `|`, raw deflate against
 * the last 32 KiB of that dictionary, which the core picks for short
 * messages when it is shorter).
 *
 * Decisions:
 * - Negotiation: HELLO offers `extensions.history = { bytes, dictionaries }`
 *   (the history kept per direction, the names `<id>.<version>.<hash>` of
 *   the trained dictionaries the client has); ACCEPT answers with the smaller
 *   `bytes` and the dictionaries both have, so the wire names only the id. A
 *   peer that does not offer it is unaffected. It needs Brotli.
 * - State: `hash` (a chain over every appended message, made by the core: 6
 *   base64url characters, 36 bits; `0` for the empty history), `seq` (messages appended) and `text` (the
 *   last ≤ `bytes` UTF-8 bytes carried, cut at a character boundary). A
 *   `#BH|` message names the hash it was compressed against; a receiver in
 *   another state refuses it with `HISTORY_MISMATCH` and nothing changes.
 *   Other DATA (the stateless choice, when history does not pay) carries
 *   nothing more and is appended by both ends.
 * - Resynchronisation: a sender that hears of a refused or lost message
 *   resets to the empty history, unsynchronised: it appends nothing until its
 *   next `#BH|` message, which names state `0`; a receiver that gets state
 *   `0` empties its history first. Client messages also carry
 *   `history_ack`, the client's receive state: a server whose send state
 *   differs (a lost reply) resets its send state before it answers.
 * - Every decoded DATA is appended on the receiving side, also one refused
 *   afterwards (by a scan or a size check), as the sender appended it;
 *   messages refused before decoding are not.
 * - Both directions (`both_directions` in the extension, both ends offering
 *   it): a client request may be compressed against what the server sent (at
 *   the client's `history_ack` state) followed by what the client sent,
 *   named by `+` after the state; the server decodes it only when that
 *   acknowledged state is its send state (else `HISTORY_MISMATCH`). Clients
 *   use it over HTTP with nothing else in flight, while `recvConfirmed`.
 * - The receiver's history is bounded by its own negotiated `bytes`: a peer
 *   cannot make it keep more. The state is plain JSON, so a session store
 *   (Redis) holds it and any worker can serve the next message.
 */
import { backend } from '../core/backend.js';
import { M2MError } from '../core/errors.js';
import { coreTables, wirePrefix } from '../core/tables.js';
import { utf8Length } from '../core/utf8.js';
import { decompress } from './codec.js';
import { T1_PREFIX } from './t1.js';

/** The history state of one direction. Plain JSON data. */
export interface HistoryState {
  seq: number;
  /** The state's name: the core's hash chain over the appended messages (`0`: empty). */
  hash: string;
  /** False after a sender's reset, until its next `#BH|` message (which names state `0`). */
  synced: boolean;
  /** The last ≤ `bytes` UTF-8 bytes carried in this direction. */
  text: string;
  /** UTF-8 length of `text`. */
  textBytes: number;
}

/** What a session negotiated for its history. */
export interface HistoryParams {
  /** History kept per direction, in UTF-8 bytes. */
  bytes: number;
  /**
   * Client messages may be compressed against both directions: what the
   * server sent (at the client's `history_ack` state), then what the client
   * sent (`#BH|<state>+…`). Both ends offered it.
   */
  bothDirections?: boolean;
  /** Trained dictionaries both ends have, as `<id>.<version>.<hash>` (the start of a message's dictionary). */
  dictionaries: string[];
}

/** Both directions of a session. */
export interface SessionHistory {
  send: HistoryState;
  recv: HistoryState;
  /**
   * The last message received was `#BH|` and decoded, so the sender's state
   * is known to be `recv` (a client then may compress against both directions).
   */
  recvConfirmed?: boolean;
}

/** The largest history per direction a peer may negotiate: the core's `MAX_HISTORY_BYTES`. */
export function maxHistoryBytes(): number {
  return coreTables().maxHistoryBytes;
}
/** Default history per direction: 24 KiB, so a session's two directions, base64-free, stay within 48 KiB of text (64 KiB with the JSON in a store). */
export const DEFAULT_HISTORY_BYTES = 24 * 1024;
/** The Brotli quality of `#BH|` messages. */
export const HISTORY_QUALITY = 5;
/** The trained dictionary precedes the history until the history holds this many bytes (then the history alone pays as well, and costs less). */
export const TRAINED_UNTIL_BYTES = 4096;
const DICTIONARY_NAME = /^[a-z0-9-]{1,32}\.\d{1,10}\.[0-9a-f]{8}$/;
/** The state of the empty history (named by a sender's first message after a reset). */
export const RESET_LABEL = '0';

export function newHistoryState(): HistoryState {
  return { seq: 0, hash: RESET_LABEL, synced: true, text: '', textBytes: 0 };
}

export function newSessionHistory(): SessionHistory {
  return { send: newHistoryState(), recv: newHistoryState() };
}

export function historyLabel(state: HistoryState): string {
  return state.hash;
}

/** A sender's reset: empty and unsynchronised, in place. */
export function resetHistory(state: HistoryState): void {
  Object.assign(state, newHistoryState(), { synced: false });
}

function charBytes(text: string, i: number): [bytes: number, units: number] {
  const c = text.charCodeAt(i);
  if (c < 0x80) return [1, 1];
  if (c < 0x800) return [2, 1];
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) return [4, 2];
  return [3, 1];
}

/** Appends what was carried, keeping the last `maxBytes` (at a character boundary). */
export function appendHistory(state: HistoryState, content: string, maxBytes: number): void {
  state.seq += 1;
  state.hash = backend().historyAdvance(state.hash, content);
  let text = state.text + content;
  let bytes = state.textBytes + utf8Length(content);
  if (bytes > maxBytes) {
    let cut = 0;
    let dropped = 0;
    while (bytes - dropped > maxBytes && cut < text.length) {
      const [b, u] = charBytes(text, cut);
      dropped += b;
      cut += u;
    }
    text = text.slice(cut);
    bytes -= dropped;
  }
  state.text = text;
  state.textBytes = bytes;
}

/** Checks a history size given as an option. */
export function checkHistoryBytes(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > maxHistoryBytes()) {
    throw new M2MError(
      'INVALID_OPTION',
      `${what} must be an integer from 0 to ${maxHistoryBytes()}, got ${String(value)}`,
    );
  }
  return value as number;
}

/** The `extensions.history` value of a HELLO or ACCEPT, if it is well-formed. */
export function readHistoryExtension(value: unknown): HistoryParams | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { bytes, dictionaries, both_directions } = value as {
    bytes?: unknown;
    dictionaries?: unknown;
    both_directions?: unknown;
  };
  if (!Number.isSafeInteger(bytes) || (bytes as number) < 1) return undefined;
  const ids = Array.isArray(dictionaries)
    ? dictionaries.filter((d): d is string => typeof d === 'string' && DICTIONARY_NAME.test(d)).slice(0, 16)
    : [];
  const params: HistoryParams = { bytes: Math.min(bytes as number, maxHistoryBytes()), dictionaries: ids };
  if (both_directions === true) params.bothDirections = true;
  return params;
}

/** The `extensions.history` value of a HELLO or ACCEPT for `params`. */
export function historyExtension(params: HistoryParams): Record<string, unknown> {
  return {
    bytes: params.bytes,
    dictionaries: params.dictionaries,
    ...(params.bothDirections ? { both_directions: true } : {}),
  };
}

/**
 * Compresses `content` against `state` (after `other`, the receiver's own
 * sending direction, when given: `#BH|<state>+…`), or undefined when that is
 * not shorter than `bound`.
 */
export function compressWithHistory(
  content: string,
  state: HistoryState,
  params: HistoryParams,
  bound: number,
  other?: HistoryState,
): string | undefined {
  const core = backend();
  let allowed = '';
  if (state.textBytes < TRAINED_UNTIL_BYTES && params.dictionaries.length > 0) {
    const ids = params.dictionaries.map((name) => name.split('.')[0] as string);
    for (const id of ids) core.ensureDictionary(id);
    allowed = ids.join(',');
  }
  const history = other ? other.text + state.text : state.text;
  const wire = core.compressHistory(content, history, state.hash, allowed, HISTORY_QUALITY, other !== undefined);
  return wire.length < bound ? wire : undefined;
}

/**
 * The choice between `against` (the message against the history, already
 * made) and the stateless choice: `undefined` when `against` goes, else the
 * stateless choice. That is only computed when the history saves less than
 * half of the content's `bytes` (docs/performance.md, "Sessions that
 * remember"); ties go stateless, so nothing is longer than the content.
 */
export function preferHistory<T extends { wire: string }>(
  against: string | undefined,
  bytes: number,
  stateless: () => T,
): T | undefined {
  if (against !== undefined && 2 * against.length <= bytes) return undefined;
  const alone = stateless();
  return against !== undefined && against.length < alone.wire.length ? undefined : alone;
}

/** What the receiver of `wire`, sent for `content`, appends to its history: T1 drops whitespace and defaults, so its decoding; else `content`. */
export function receivedText(wire: string, content: string): string {
  return wire.startsWith(T1_PREFIX) ? decompress(wire) : content;
}

/** The sender's side after sending `content` (`history`: it went as `#BH|`). */
export function afterSend(state: HistoryState, content: string, history: boolean, maxBytes: number): void {
  if (history) state.synced = true;
  if (state.synced) appendHistory(state, content, maxBytes);
}

/**
 * Whether a client's next message may be compressed against both directions
 * (as far as the session goes: the caller knows whether anything is in
 * flight): negotiated, its receive state confirmed, and both histories
 * within the core's bound.
 */
export function mayUseBothDirections(history: { state: SessionHistory; params: HistoryParams }): boolean {
  return (
    history.params.bothDirections === true &&
    history.state.recvConfirmed === true &&
    2 * history.params.bytes <= maxHistoryBytes()
  );
}

/** The state, the both-directions mark and the dictionary id a `#BH|<state>[+][.<id>]|` (or `…:`) head names. */
function readHead(wire: string): { named: string | undefined; both: boolean; id: string | undefined } {
  // The core checks the head; this only reads it.
  const head = wirePrefix('HISTORY').length;
  const end = wire.slice(head).search(/[|:]/);
  const [state, id] = wire.slice(head, end < 0 ? head : head + end).split('.', 2);
  const both = state?.endsWith('+') === true;
  return { named: both ? state?.slice(0, -1) : state, both, id };
}

/**
 * Decodes a `#BH|` message against `state` (`HISTORY_MISMATCH` when it names
 * another; state `0`: against the empty history, and `state` is reset once
 * it decodes, so a message that does not changes nothing); one that holds both directions, after
 * `other`: this end's sending direction, which the caller passes only where
 * both directions were negotiated and the sender acknowledged its state (else
 * such a message is `HISTORY_MISMATCH`).
 */
export function decompressWithHistory(wire: string, state: HistoryState, other?: HistoryState): string {
  const core = backend();
  const { named, both, id } = readHead(wire);
  if (both && other === undefined) {
    throw new M2MError(
      'HISTORY_MISMATCH',
      'a #BH| message against both directions names a receive state other than ours (or they were not negotiated)',
    );
  }
  const reset = named === RESET_LABEL;
  const against = reset ? newHistoryState() : state;
  // Load the trained dictionary it names, if this install has it (else the core refuses it).
  if (id && /^[a-z0-9-]{1,32}$/.test(id)) core.ensureDictionary(id);
  const history = both && other ? other.text + against.text : against.text;
  const text = core.decompressHistory(wire, history, against.hash);
  if (reset) Object.assign(state, against);
  return text;
}
