/**
 * Character-level checks for malformed input: what a JavaScript string can
 * carry of broken or deceptive encodings. One pass over the UTF-16 code units.
 *
 * Reported (each rule at most once per text, with the count and the first place):
 * null bytes; C0 controls other than tab/newline/carriage return (ANSI colour
 * escapes, common in pasted logs, are weaker); C1 controls; lone surrogates
 * (what invalid UTF-8 becomes when decoded leniently... or a broken string);
 * runs of U+FFFD (text already mangled by a lenient decoder); noncharacters;
 * bidi embeddings/overrides/isolates (Trojan Source); zero-width characters
 * inside words; Unicode tag characters (invisible ASCII, decoded and returned
 * for rescanning); long runs of variation selectors (bytes smuggled in
 * "emoji" selectors); percent-encoded overlong UTF-8 (`%c0%af`).
 */
import type { ThreatType } from './types.js';

export interface CharFinding {
  type: ThreatType;
  rule: string;
  confidence: number;
  offset: number;
  length: number;
  count: number;
}

export interface CharScan {
  findings: CharFinding[];
  /** ASCII text hidden in tag characters, with the span it came from. */
  hidden: { text: string; offset: number; length: number }[];
}

interface Counter {
  count: number;
  first: number;
  firstLength: number;
}

const isWordUnit = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0xc0 && c <= 0x24f) ||
  (c >= 0x370 && c <= 0x52f);

/** Zero-width and invisible characters that have no business inside a Latin/Cyrillic/Greek word. */
const isZeroWidth = (c: number): boolean =>
  c === 0x200b ||
  c === 0x200c ||
  c === 0x200d ||
  c === 0x2060 ||
  c === 0x2061 ||
  c === 0x2062 ||
  c === 0x2063 ||
  c === 0x2064 ||
  c === 0xfeff ||
  c === 0x180e ||
  c === 0x00ad ||
  c === 0x034f ||
  c === 0x115f ||
  c === 0x1160 ||
  c === 0x3164 ||
  c === 0xffa0;

const OVERLONG =
  /%c0%[89ab][0-9a-f]|%c1%[89ab][0-9a-f]|%e0%[89][0-9a-f]%[89ab][0-9a-f]|%f0%8[0-9a-f]%[89ab][0-9a-f]|\\xc0\\xaf|\\xc1\\x9c/gi;

const MAX_HIDDEN = 64 * 1024;

/** Every character the scan below reports or tracks; text without any (and no overlong escape) has no finding. */
const SPECIAL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: U+034F is matched on its own, as an invisible character
  /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u034f\u115f\u1160\u180e\u200b-\u200d\u202a-\u202e\u2060-\u2064\u2066-\u2069\u3164\ud800-\udfff\ufdd0-\ufdef\ufe00-\ufe0f\ufeff\uffa0\ufffd-\uffff]/;
const OVERLONG_ANY = new RegExp(OVERLONG.source, 'i');

/** Scans `text` for malformed and deceptive characters. Linear time. */
export function scanCharacters(text: string): CharScan {
  if (!SPECIAL.test(text) && !OVERLONG_ANY.test(text)) return { findings: [], hidden: [] };
  const counters = new Map<string, Counter>();
  const hit = (rule: string, offset: number, length = 1) => {
    const c = counters.get(rule);
    if (c) c.count++;
    else counters.set(rule, { count: 1, first: offset, firstLength: length });
  };
  const hidden: CharScan['hidden'] = [];
  let hiddenChars = 0;
  let tagRun = '';
  let tagStart = -1;
  let fffdRun = 0;
  let maxFffdRun = 0;
  let vsRun = 0;
  let maxVsRun = 0;
  let vsRunStart = -1;
  let bidiOpen = 0;
  let bidiClose = 0;
  let overrides = 0;
  let prevWord = false;
  let pendingZw = -1; // offset of zero-width chars seen right after a word unit
  let pendingZwCount = 0;

  const n = text.length;
  const endTags = (at: number) => {
    if (tagStart >= 0) {
      if (tagRun.length > 0 && hiddenChars < MAX_HIDDEN) {
        hidden.push({ text: tagRun, offset: tagStart, length: at - tagStart });
        hiddenChars += tagRun.length;
      }
      tagRun = '';
      tagStart = -1;
    }
  };

  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) {
        if (c === 0) hit('malformed.null-byte', i);
        else if (c === 0x1b) {
          if (text.startsWith('[8m', i + 1)) hit('malformed.ansi-conceal', i, 4);
          else if (text.charCodeAt(i + 1) === 0x5b) hit('malformed.ansi-escape', i, 2);
          else hit('malformed.control-char', i);
        } else if (c === 0x0b || c === 0x0c) hit('malformed.formfeed', i);
        else hit('malformed.control-char', i);
      } else if (c === 0x7f) hit('malformed.control-char', i);
      if (fffdRun > maxFffdRun) maxFffdRun = fffdRun;
      fffdRun = 0;
      if (vsRun > maxVsRun) maxVsRun = vsRun;
      vsRun = 0;
      if (tagStart >= 0) endTags(i);
      const word = isWordUnit(c);
      if (word && pendingZw >= 0) hit('malformed.zero-width', pendingZw, pendingZwCount);
      pendingZw = -1;
      pendingZwCount = 0;
      prevWord = word;
      continue;
    }
    let tag = false;
    let vs = false;
    let zw = false;
    if (c >= 0x80 && c <= 0x9f) hit('malformed.c1-control', i);
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        if (cp >= 0xe0000 && cp <= 0xe007f) {
          tag = true;
          if (tagStart < 0) tagStart = i;
          if (cp >= 0xe0020 && cp <= 0xe007e && tagRun.length < MAX_HIDDEN) tagRun += String.fromCharCode(cp - 0xe0000);
          hit('malformed.tag-characters', i, 2);
        } else if (cp >= 0xe0100 && cp <= 0xe01ef) vs = true;
        else if ((cp & 0xfffe) === 0xfffe) hit('malformed.noncharacter', i, 2);
        i++;
      } else hit('malformed.lone-surrogate', i);
    } else if (c >= 0xdc00 && c <= 0xdfff) hit('malformed.lone-surrogate', i);
    else if (c === 0xfffd) fffdRun++;
    else if (c === 0xfffe || c === 0xffff || (c >= 0xfdd0 && c <= 0xfdef)) hit('malformed.noncharacter', i);
    else if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      hit('malformed.bidi-control', i);
      if (c === 0x202c || c === 0x2069) bidiClose++;
      else bidiOpen++;
      if (c === 0x202d || c === 0x202e) overrides++;
    } else if (c >= 0xfe00 && c <= 0xfe0f) vs = true;
    else if (isZeroWidth(c) && !(c === 0xfeff && i === 0)) zw = true;

    if (c !== 0xfffd) {
      if (fffdRun > maxFffdRun) maxFffdRun = fffdRun;
      fffdRun = 0;
    } else if (fffdRun === 1) hit('malformed.replacement-char', i);
    if (vs) {
      if (vsRun === 0) vsRunStart = i;
      vsRun++;
      if (vsRun > maxVsRun) {
        maxVsRun = vsRun;
        if (vsRun === 4) hit('malformed.variation-selectors', vsRunStart, 4);
      }
    } else {
      vsRun = 0;
    }
    if (!tag && tagStart >= 0) endTags(i);
    if (zw) {
      // Zero-width between two word characters (ZWJ in emoji sequences or ZWNJ in Persian are not counted).
      if (prevWord || pendingZw >= 0) {
        if (pendingZw < 0) pendingZw = i;
        pendingZwCount++;
      }
      continue;
    }
    const word = isWordUnit(c);
    if (word && pendingZw >= 0) hit('malformed.zero-width', pendingZw, pendingZwCount);
    pendingZw = -1;
    pendingZwCount = 0;
    prevWord = word;
  }
  endTags(n);
  if (fffdRun > maxFffdRun) maxFffdRun = fffdRun;

  OVERLONG.lastIndex = 0;
  for (let m = OVERLONG.exec(text), k = 0; m && k < 64; m = OVERLONG.exec(text), k++) {
    hit('malformed.overlong-utf8', m.index, m[0].length);
  }

  const findings: CharFinding[] = [];
  const add = (rule: string, confidence: number) => {
    const c = counters.get(rule);
    if (!c) return;
    findings.push({
      type: 'MALFORMED_INPUT',
      rule,
      confidence: Math.min(0.99, confidence),
      offset: c.first,
      length: c.firstLength,
      count: c.count,
    });
  };
  const count = (rule: string) => counters.get(rule)?.count ?? 0;
  const grow = (base: number, step: number, n: number, cap: number) => Math.min(cap, base + step * Math.max(0, n - 1));

  add('malformed.null-byte', grow(0.9, 0.02, count('malformed.null-byte'), 0.97));
  add('malformed.control-char', grow(0.82, 0.03, count('malformed.control-char'), 0.94));
  add('malformed.ansi-escape', 0.4);
  add('malformed.ansi-conceal', 0.84);
  add('malformed.formfeed', 0.3);
  add('malformed.c1-control', grow(0.8, 0.04, count('malformed.c1-control'), 0.92));
  add('malformed.lone-surrogate', grow(0.88, 0.03, count('malformed.lone-surrogate'), 0.96));
  const fffd = count('malformed.replacement-char') === 0 ? 0 : countOf(text, 0xfffd);
  add('malformed.replacement-char', maxFffdRun >= 3 || fffd >= 8 ? 0.85 : fffd >= 3 ? 0.6 : 0.3);
  add('malformed.noncharacter', 0.8);
  add(
    'malformed.bidi-control',
    overrides > 0 ? 0.9 : bidiOpen !== bidiClose ? 0.82 : grow(0.6, 0.03, count('malformed.bidi-control'), 0.78),
  );
  const zwc = count('malformed.zero-width');
  add('malformed.zero-width', zwc >= 3 ? 0.86 : zwc === 2 ? 0.72 : 0.55);
  add('malformed.tag-characters', 0.95);
  add('malformed.variation-selectors', maxVsRun >= 16 ? 0.92 : 0.85);
  add('malformed.overlong-utf8', 0.82);
  return { findings, hidden };
}

function countOf(text: string, code: number): number {
  let k = 0;
  const ch = String.fromCharCode(code);
  for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) k++;
  return k;
}

/** Renders an excerpt readably: invisible and control characters as `\uXXXX` escapes. */
export function visible(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c < 0x20 ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xdfff) ||
      (c >= 0x200b && c <= 0x200f) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2060 && c <= 0x206f) ||
      (c >= 0xfe00 && c <= 0xfe0f) ||
      c === 0xfeff ||
      c === 0x00ad ||
      c === 0xfffd
    ) {
      if (c === 10) out += '\\n';
      else if (c === 9) out += '\\t';
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          out += cp >= 0xe0000 ? `\\u{${cp.toString(16)}}` : text.slice(i, i + 2);
          i++;
          continue;
        }
        out += `\\u${c.toString(16).padStart(4, '0')}`;
      } else out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += text[i];
  }
  return out;
}
