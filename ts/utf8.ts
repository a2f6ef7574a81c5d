/** UTF-8 lengths of JS strings without encoding them. */

/** Counts with a loop over UTF-16 units; a lone surrogate counts 3 bytes (as the U+FFFD an encoder writes). */
export function utf8LengthPortable(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // the pair's two UTF-16 units make four bytes
      i++;
    } else n += 2;
  }
  return n;
}

/** Node's native count (several times faster on long text); absent in browsers. */
const nodeBuffer = (globalThis as { Buffer?: { byteLength(text: string, encoding: 'utf8'): number } }).Buffer;

/** UTF-8 length of a JS string: Node's `Buffer.byteLength` where there is one, else the loop (same results). */
export const utf8Length: (text: string) => number = nodeBuffer
  ? (text) => nodeBuffer.byteLength(text, 'utf8')
  : utf8LengthPortable;

/**
 * UTF-8 length of a JS string, or `-1 - i` when a lone surrogate (half of a
 * UTF-16 pair, which UTF-8 cannot carry) stands at index `i`. The native
 * backend has a faster equal for long strings (`Backend.utf8LengthChecked`).
 */
export function utf8LengthChecked(text: string): number {
  if (text.isWellFormed()) return utf8Length(text);
  for (let at = 0; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(at + 1) & 0xfc00) === 0xdc00) at++;
    else if (c >= 0xd800 && c <= 0xdfff) return -1 - at;
  }
  return utf8Length(text); // not reached: isWellFormed was false
}
