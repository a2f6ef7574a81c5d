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

/** Whether `String.prototype.isWellFormed` exists (Node 20+, recent browsers). */
export const hasIsWellFormed = typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function';

/** A lone surrogate: with the `u` flag, a valid pair is one code point, not `Cs`. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * UTF-8 length of a JS string, or `-1 - i` when a lone surrogate (half of a
 * UTF-16 pair, which UTF-8 cannot carry) stands at index `i`. The native
 * backend has a faster equal for long strings (`Backend.utf8LengthChecked`).
 */
export function utf8LengthChecked(text: string): number {
  const wellFormed = hasIsWellFormed
    ? (text as string & { isWellFormed(): boolean }).isWellFormed()
    : !LONE_SURROGATE.test(text);
  return wellFormed ? utf8Length(text) : -1 - text.search(LONE_SURROGATE);
}
