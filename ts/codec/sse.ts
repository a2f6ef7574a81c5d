/**
 * Server-sent events (the streaming form of chat completions), compressed and
 * decompressed event by event. Each event keeps its boundary and its other
 * fields (`event:`, `id:`, `retry:`, comments); only the `data` payload is
 * transformed, and `[DONE]` passes through untouched.
 *
 * Output uses `\n` line endings and ends every event with a blank line.
 */
import { type CompressOptions, compress, type DecompressOptions, decompress } from './codec.js';

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

/**
 * A Web `TransformStream` that compresses an SSE stream event by event.
 * Accepts text or bytes (e.g. a `fetch` body) and emits text, one event per chunk.
 */
export function createSseCompressStream(options: CompressOptions = {}): TransformStream<string | Uint8Array, string> {
  return sseTransformStream((p) => compress(p, options).wire);
}

/** A Web `TransformStream` that decompresses an SSE stream event by event. */
export function createSseDecompressStream(
  options: DecompressOptions = {},
): TransformStream<string | Uint8Array, string> {
  return sseTransformStream((p) => decompress(p, options));
}
