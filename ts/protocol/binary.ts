/**
 * Binary WebSocket frames for DATA.
 *
 * When both sides put `"binary_frames": true` in the `extensions` of HELLO
 * and ACCEPT and TOKEN_NATIVE is negotiated, a DATA message whose algorithm
 * is TOKEN_NATIVE may be sent as one binary frame instead of a text frame,
 * saving the base64 step (spec §5.4.5). With `"binary_payloads": true` too
 * (and BROTLI negotiated), so may a BROTLI message whose content is session
 * Brotli (`#M2M[v3.0]|DATA:`) or a history message (`#BH|`), saving the
 * base64 or base85 step. Layout:
 *
 * ```
 * offset 0       1 byte    frame kind: 0x01 = DATA with a binary body
 *                          (other values are reserved and refused)
 * offset 1       4 bytes   N: length of the header, unsigned 32-bit big-endian
 * offset 5       N bytes   header: the DATA message as UTF-8 JSON, exactly as a
 *                          text frame would carry it but with payload.content ""
 * offset 5+N     rest      body, by the header's algorithm:
 *                          TOKEN_NATIVE: <encoding byte 0|1|2> followed by the
 *                            LEB128 varint token ids;
 *                          BROTLI: the content's head as text (`#M2M[v3.0]|DATA:`,
 *                            or `#BH|<state>…` up to and including the `|` or `:`
 *                            before the payload) followed by the payload's bytes
 *                            (the core's `codec::binary`; the receiver rebuilds
 *                            the text form, byte for byte, and checks it as text)
 * ```
 *
 * The header goes through the same checks as a text message (size, nesting,
 * schema, timestamp); N is at most 64 KiB. `original_size`, when present,
 * is checked against the decoded body as for text DATA. Text frames always
 * remain valid: a sender may mix both forms.
 */
import { M2MError } from '../core/errors.js';
import { type DataMessage, type ParseOptions, parseMessage } from './messages.js';

/** Frame kind byte of a binary DATA frame. */
export const BINARY_FRAME_DATA = 0x01;
/** Largest header accepted in a binary frame. */
export const MAX_BINARY_HEADER_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Builds a binary frame from a DATA message (its content is ignored) and its binary body. */
export function encodeBinaryFrame(message: DataMessage, body: Uint8Array): Uint8Array {
  const header = encoder.encode(JSON.stringify({ ...message, payload: { ...message.payload, content: '' } }));
  if (header.length > MAX_BINARY_HEADER_BYTES) {
    throw new M2MError('MESSAGE_TOO_LARGE', 'binary frame header exceeds 64 KiB');
  }
  const frame = new Uint8Array(5 + header.length + body.length);
  frame[0] = BINARY_FRAME_DATA;
  new DataView(frame.buffer).setUint32(1, header.length, false);
  frame.set(header, 5);
  frame.set(body, 5 + header.length);
  return frame;
}

/** Splits and checks a binary frame. @throws M2MError `INVALID_MESSAGE` (or a header's parse error) */
export function decodeBinaryFrame(
  frame: Uint8Array,
  options: ParseOptions = {},
): { message: DataMessage; body: Uint8Array } {
  const max = options.limits?.maxMessageBytes;
  if (max !== undefined && frame.length > max) {
    throw new M2MError('MESSAGE_TOO_LARGE', `message exceeds the limit of ${max} bytes`);
  }
  if (frame.length < 6) throw new M2MError('INVALID_MESSAGE', 'binary frame is too short');
  if (frame[0] !== BINARY_FRAME_DATA) {
    throw new M2MError(
      'INVALID_MESSAGE',
      `unknown binary frame kind 0x${(frame[0] ?? 0).toString(16).padStart(2, '0')}`,
    );
  }
  const n = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1, false);
  if (n > MAX_BINARY_HEADER_BYTES || 5 + n >= frame.length) {
    throw new M2MError('INVALID_MESSAGE', 'binary frame header length is out of range');
  }
  let headerText: string;
  try {
    headerText = decoder.decode(frame.subarray(5, 5 + n));
  } catch {
    throw new M2MError('INVALID_MESSAGE', 'binary frame header is not valid UTF-8');
  }
  const message = parseMessage(headerText, options);
  if (message.type !== 'DATA' || message.payload.content !== '') {
    throw new M2MError('INVALID_MESSAGE', 'a binary frame header must be a DATA message with empty content');
  }
  return { message, body: frame.subarray(5 + n) };
}
