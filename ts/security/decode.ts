/**
 * Finds encoded runs that hide text (base64, hex, `\xNN` / `%NN` escapes) and
 * decodes those that turn out to be mostly printable text, so the scanner can
 * rescan them. Binary data (images, hashes, keys) is rejected after decoding
 * a small probe, so large blobs cost little.
 */
import type { DecodedFrom } from './types.js';

export interface DecodedRun {
  from: DecodedFrom;
  /** Offset and length of the encoded run in the text it was found in. */
  offset: number;
  length: number;
  text: string;
}

/** A mutable budget shared by one scan: decoded UTF-16 units still allowed. */
export interface DecodeBudget {
  remaining: number;
}

const MIN_RUN = 16;
const PROBE_CHARS = 4096;
const MAX_RUNS = 2000;

const B64 = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
}
B64[45] = 62; // '-' (URL-safe alphabet)
B64[95] = 63; // '_'

function base64Bytes(s: string): Uint8Array | null {
  let len = s.length;
  while (len > 0 && s.charCodeAt(len - 1) === 61) len--;
  if (len % 4 === 1) len--; // a dangling character carries no whole byte
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let acc = 0;
  let bits = 0;
  let k = 0;
  for (let i = 0; i < len; i++) {
    const v = B64[s.charCodeAt(i)] ?? -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, k);
}

function hexBytes(digits: string): Uint8Array {
  const out = new Uint8Array(digits.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const utf8 = new TextDecoder('utf-8');

/** Decodes bytes as UTF-8 and keeps the text only when it reads as text. */
function asText(bytes: Uint8Array): string | null {
  if (bytes.length < 8) return null;
  const text = utf8.decode(bytes);
  let printable = 0;
  let letters = 0;
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd || (c < 0x20 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c <= 0x9f)) bad++;
    else {
      printable++;
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c >= 0x100) letters++;
    }
  }
  const total = printable + bad;
  if (total === 0 || bad / total > 0.05 || letters / total < 0.5) return null;
  // Text must contain some separation: long letter soup with no spaces is not language.
  return text;
}

const HEX_ESCAPES = /(?:\\x[0-9a-fA-F]{2}){8,}/g;
const PERCENT = /(?:%[0-9a-fA-F]{2}|[A-Za-z0-9._~+-]){16,}/g;
const PERCENT_ESCAPE = /%[0-9a-fA-F]{2}/g;
const SPACED_HEX = /(?:[0-9a-fA-F]{2}[ :]){7,}[0-9a-fA-F]{2}/g;
/** Cheap hint that spaced hex may be present: two-digit hex pairs with a digit, separated by a space or colon. */
const SPACED_HEX_HINT = /[0-9][0-9a-fA-F][ :][0-9a-fA-F][0-9][ :][0-9a-fA-F]{2}[ :][0-9a-fA-F]{2}[ :]/;
const IS_HEX = /^(?:0x)?[0-9a-fA-F]+$/;

function decodeRun(run: string, from: DecodedFrom, budget: DecodeBudget): string | null {
  // Probe a prefix first, so binary blobs are rejected cheaply.
  if (from === 'url' && run.length > PROBE_CHARS / 2) return null; // long URL-encoded runs are not worth it
  const probeLength =
    from === 'url' ? run.length : Math.min(run.length, from === 'base64' ? PROBE_CHARS : PROBE_CHARS / 2) & ~3;
  const probe = decodeAs(run.slice(0, probeLength || run.length), from);
  budget.remaining -= probeLength;
  if (!probe || asText(probe) === null) return null;
  if (probeLength >= run.length) return utf8.decode(probe);
  const allowed = Math.max(0, budget.remaining);
  const whole = decodeAs(run.slice(0, Math.min(run.length, allowed * 2) & ~3), from);
  if (!whole) return null;
  const text = utf8.decode(whole);
  budget.remaining -= text.length;
  return text;
}

function percentBytes(run: string): Uint8Array {
  const out = new Uint8Array(run.length);
  let k = 0;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c === 37 && i + 2 < run.length) {
      const v = Number.parseInt(run.slice(i + 1, i + 3), 16);
      if (!Number.isNaN(v)) {
        out[k++] = v;
        i += 2;
        continue;
      }
    }
    out[k++] = c === 43 ? 32 : c & 0xff;
  }
  return out.subarray(0, k);
}

function decodeAs(run: string, from: DecodedFrom): Uint8Array | null {
  if (from === 'base64') return base64Bytes(run);
  if (from === 'url') return percentBytes(run);
  const digits = run.replace(/\\x|%|[ :]|^0x/gi, '');
  return hexBytes(digits.length % 2 === 0 ? digits : digits.slice(0, -1));
}

/** The state of one {@link findEncoded} call. */
interface Search {
  found: DecodedRun[];
  budget: DecodeBudget;
  attempts: number;
}

/** Whether the search may still try runs: attempts and decode budget left. */
function searching(s: Search): boolean {
  return s.attempts < MAX_RUNS && s.budget.remaining > 0;
}

function tryRun(s: Search, run: string, offset: number, from: DecodedFrom): void {
  if (!searching(s)) return;
  s.attempts++;
  const decoded = decodeRun(run, from, s.budget);
  if (decoded !== null) s.found.push({ from, offset, length: run.length, text: decoded });
}

/** Tries each match of the global regex `re` in `text` that `accept` keeps, while the search lasts. */
function tryMatches(
  s: Search,
  re: RegExp,
  text: string,
  from: DecodedFrom,
  accept: (run: string) => boolean = () => true,
): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m && searching(s); m = re.exec(text)) {
    if (accept(m[0])) tryRun(s, m[0], m.index, from);
  }
}

/** A URL-encoded run is worth decoding with at least four `%XX` escapes. */
const enoughEscapes = (run: string) => (run.match(PERCENT_ESCAPE)?.length ?? 0) >= 4;

/** Encoded runs of `text` that decode to readable text, within the budget. */
export function findEncoded(text: string, budget: DecodeBudget): DecodedRun[] {
  const search: Search = { found: [], budget, attempts: 0 };
  // Runs of base64/hex characters, found by hand in one pass (no regex backtracking inside words).
  const n = text.length;
  let i = 0;
  while (i < n && searching(search)) {
    const c = text.charCodeAt(i);
    if (c >= 128 || B64[c] === -1) {
      i++;
      continue;
    }
    let j = i;
    let upper = false;
    let lower = false;
    let hex = true;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d >= 128 || (B64[d] as number) < 0) break;
      if (d >= 65 && d <= 90) {
        upper = true;
        if (d > 70) hex = false;
      } else if (d >= 97 && d <= 122) {
        lower = true;
        if (d > 102) hex = false;
      } else if (d < 48 || d > 57) hex = false;
      j++;
    }
    let end = j;
    while (end < n && end - j < 2 && text.charCodeAt(end) === 61) end++;
    if (j - i >= MIN_RUN) {
      if (hex) tryRun(search, text.slice(i, j), i, 'hex');
      else if (upper && lower) tryRun(search, text.slice(i, end), i, 'base64');
      else if (text.startsWith('0x', i) && IS_HEX.test(text.slice(i, j))) tryRun(search, text.slice(i, j), i, 'hex');
    }
    i = end;
  }
  if (text.includes('\\x')) tryMatches(search, HEX_ESCAPES, text, 'hex');
  if (SPACED_HEX_HINT.test(text)) tryMatches(search, SPACED_HEX, text, 'hex');
  if (text.includes('%')) tryMatches(search, PERCENT, text, 'url', enoughEscapes);
  return search.found;
}
