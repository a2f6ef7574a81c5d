/**
 * Server-sent events (the streaming form of chat completions), compressed and
 * decompressed event by event. Each event keeps its boundary and its other
 * fields (`event:`, `id:`, `retry:`, comments); only the `data` payload is
 * transformed, and `[DONE]` passes through untouched.
 *
 * Output uses `\n` line endings and ends every event with a blank line.
 *
 * With a stream history (both ends agree on its size), each event may be
 * compressed against the stream's earlier events (`#BH|`, as in sessions
 * that remember): one stream arrives whole and in order, so both ends keep
 * the same history without acknowledgements; the state each `#BH|` event
 * names is still checked (`HISTORY_MISMATCH`).
 */
import { wirePrefix } from '../core/tables.js';
import { utf8Length } from '../core/utf8.js';
import { type CompressOptions, compress, type DecompressOptions, decompress } from './codec.js';
import {
  appendHistory,
  compressWithHistory,
  decompressWithHistory,
  type HistoryState,
  newHistoryState,
  preferHistory,
  receivedText,
} from './history.js';

const DONE = '[DONE]';

type Transform = (payload: string) => string;

/** Rewrites the data payload of one event (its lines, without the blank terminator line). */
function transformEvent(event: string, transform: Transform): string {
  const lines = event.split(/\r\n|\r|\n/);
  const data: string[] = [];
  const out: string[] = [];
  let dataAt = -1;
  for (const line of lines) {
    if (line === 'data' || line.startsWith('data:')) {
      if (dataAt < 0) dataAt = out.length;
      const value = line.slice(5);
      data.push(value.startsWith(' ') ? value.slice(1) : value);
    } else {
      out.push(line);
    }
  }
  if (dataAt < 0) return out.join('\n');
  const payload = data.join('\n');
  const next = payload === DONE ? payload : transform(payload);
  out.splice(dataAt, 0, ...next.split('\n').map((l) => `data: ${l}`));
  return out.join('\n');
}

/** Compresses the data payload of each event in an SSE text (whole events). */
export function compressSse(text: string, options: CompressOptions = {}): string {
  return mapEvents(text, (p) => compress(p, options).wire);
}

/** Decompresses the data payload of each event in an SSE text (whole events). */
export function decompressSse(text: string, options: DecompressOptions = {}): string {
  return mapEvents(text, (p) => decompress(p, options));
}

const EVENT_END = /\r\n\r\n|\n\n|\r\r/;

function mapEvents(text: string, transform: Transform): string {
  let out = '';
  let rest = text;
  for (let m = EVENT_END.exec(rest); m; m = EVENT_END.exec(rest)) {
    out += `${transformEvent(rest.slice(0, m.index), transform)}\n\n`;
    rest = rest.slice(m.index + m[0].length);
  }
  return rest === '' ? out : out + transformEvent(rest, transform);
}

function sseTransformStream(transform: Transform): TransformStream<string | Uint8Array, string> {
  const decoder = new TextDecoder();
  let buffer = '';
  return new TransformStream<string | Uint8Array, string>({
    transform(chunk, controller) {
      buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      for (let m = EVENT_END.exec(buffer); m; m = EVENT_END.exec(buffer)) {
        controller.enqueue(`${transformEvent(buffer.slice(0, m.index), transform)}\n\n`);
        buffer = buffer.slice(m.index + m[0].length);
      }
    },
    flush(controller) {
      buffer += decoder.decode();
      // A final event without its blank line is still an event.
      if (buffer.trim() !== '') controller.enqueue(`${transformEvent(buffer, transform)}\n\n`);
    },
  });
}

/** A stream history: the UTF-8 bytes of earlier events each end keeps, and (sender) the trained dictionaries both have. */
export interface SseHistory {
  /** History kept, in UTF-8 bytes (both ends the same). */
  bytes: number;
  /** Trained dictionaries the receiver has, by wire name `<id>.<version>.<hash>` (sender only). */
  dictionaries?: readonly string[];
}

/**
 * A Web `TransformStream` that compresses an SSE stream event by event.
 * Accepts text or bytes (e.g. a `fetch` body) and emits text, one event per chunk.
 * With `history`, events may go as `#BH|` against the stream's earlier events.
 */
export function createSseCompressStream(
  options: CompressOptions = {},
  history?: SseHistory,
): TransformStream<string | Uint8Array, string> {
  if (!history || history.bytes <= 0) return sseTransformStream((p) => compress(p, options).wire);
  const state = newHistoryState();
  const params = { bytes: history.bytes, dictionaries: [...(history.dictionaries ?? [])] };
  return sseTransformStream((p) => {
    const bytes = utf8Length(p);
    const against = compressWithHistory(p, state, params, bytes);
    const alone = preferHistory(against, bytes, () => ({ wire: compress(p, options).wire }));
    appendHistory(state, alone ? receivedText(alone.wire, p) : p, params.bytes);
    return alone ? alone.wire : (against as string);
  });
}

/**
 * A Web `TransformStream` that decompresses an SSE stream event by event;
 * with `history`, also `#BH|` events against the stream's earlier events.
 */
export function createSseDecompressStream(
  options: DecompressOptions = {},
  history?: SseHistory,
): TransformStream<string | Uint8Array, string> {
  if (!history || history.bytes <= 0) return sseTransformStream((p) => decompress(p, options));
  const state: HistoryState = newHistoryState();
  return sseTransformStream((p) => {
    const text = p.startsWith(wirePrefix('HISTORY')) ? decompressWithHistory(p, state) : decompress(p, options);
    appendHistory(state, text, history.bytes);
    return text;
  });
}
