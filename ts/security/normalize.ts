/**
 * Folds text into a "skeleton" that the phrase rules match against, undoing the
 * usual tricks used to slip instructions past keyword filters.
 *
 * The skeleton holds only lower-case letters, digits and single spaces:
 * - NFKD per code point, combining marks dropped, lower-cased: `ＩＧＮＯＲＥ`,
 *   `𝐢𝐠𝐧𝐨𝐫𝐞` and `ïgnörë` all become `ignore` (rules are written unaccented).
 * - Format characters (zero-width spaces and joiners, bidi controls, tag
 *   characters, variation selectors, soft hyphens, Hangul fillers) are removed.
 * - Homoglyphs: a word that mixes Latin with Cyrillic/Greek letters has its
 *   lookalikes mapped to Latin (`ignоre` with a Cyrillic `о`); Latin lookalikes
 *   (small capitals, dotless i, ...) are always mapped. Pure Cyrillic or Greek
 *   words are kept, so Russian rules still match Russian text.
 * - Leetspeak inside words that mix letters with `0 1 3 4 5 7 @ $`.
 * - One punctuation character between two letters is dropped (`ign.ore`,
 *   `i-g-n-o-r-e`); longer punctuation runs and whitespace become one space.
 * - Three or more one-letter words in a row are joined (`i g n o r e`).
 *
 * Every skeleton character remembers the span of the source it came from and
 * whether an evasion transform produced it. One pass, linear in the input;
 * per-code-point results for non-ASCII characters are cached.
 */

/** Character classes of the skeleton builder. */
// 0: dropped (format characters); they never reach the classifier below.
const LETTER = 1;
const DIGIT = 2;
const SPACE = 3;
const PUNCT = 4;
const LEET = 5; // '@' or '$': a letter inside a leet word, else punctuation

const SCRIPT_OTHER = 0;
const SCRIPT_LATIN = 1;
const SCRIPT_CYRILLIC_GREEK = 2;

/** Lookalikes from other scripts (used only inside mixed-script words), as source/target pairs. */
const CROSS_SCRIPT =
  'аaеeоoрpсcуyхxіiїiјjѕsԁdһhӏlԛqԝwкkмmтtпnгrьbѵvԍgАaВbЕeКkМmНhОoРpСcТtХxУyІiЈjЅsԌg' +
  'αaοoρpνvιiκkτtυuχxεeβbγyηnμuΑaΒbΕeΖzΗhΙiΚkΜmΝnΟoΡpΤtΥyΧx' +
  'օoսuհhոnցgզq';
/** Latin-script lookalikes, always mapped. */
const SAME_SCRIPT = 'ıiȷjɑaɡgɩiʟlɪiᴀaʙbᴄcᴅdᴇeɢgʜhᴊjᴋkᴍmɴnᴏoᴘpʀrꜱsᴛtᴜuᴠvᴡwʏyᴢzƖlǀlɵoꞷwɯmʋu';

const crossScript = new Map<number, number>();
const sameScript = new Map<number, number>();
for (const [table, map] of [
  [CROSS_SCRIPT, crossScript],
  [SAME_SCRIPT, sameScript],
] as const) {
  const cps = Array.from(table);
  for (let i = 0; i + 1 < cps.length; i += 2) {
    map.set((cps[i] as string).codePointAt(0) as number, (cps[i + 1] as string).charCodeAt(0));
  }
}

/** Leetspeak digits and symbols and the letters they stand for. */
const LEET_MAP: Record<number, number> = {
  48: 111, // 0 -> o
  49: 105, // 1 -> i
  51: 101, // 3 -> e
  52: 97, // 4 -> a
  53: 115, // 5 -> s
  55: 116, // 7 -> t
  64: 97, // @ -> a
  36: 115, // $ -> s
};

/** Class of each ASCII code unit. */
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) ASCII_CLASS[c] = LETTER;
  else if (c >= 48 && c <= 57) ASCII_CLASS[c] = DIGIT;
  else if (c <= 32 || c === 127) ASCII_CLASS[c] = SPACE;
  else if (c === 64 || c === 36) ASCII_CLASS[c] = LEET;
  else ASCII_CLASS[c] = PUNCT;
}

/** Punctuation that may sit inside a word (`ign.ore`, `i-g-n-o-r-e`, `don't`); other punctuation always separates. */
const JOINERS = new Uint8Array(0x2030);
for (const c of [
  46, 45, 95, 39, 42, 96, 126, 94, 43, 124, 0x2019, 0x2018, 0x02bc, 0xb7, 0x2022, 0x2010, 0x2011, 0x2027,
]) {
  JOINERS[c] = 1;
}

interface CharInfo {
  /** Normalized output (possibly empty or several characters). */
  out: string;
  /** Class of each output character. */
  classes: number[];
  script: number;
  /** Latin letter this character imitates when inside a mixed-script word, else -1. */
  cross: number;
  /** Set when a compatibility mapping or a Latin lookalike produced the output (fullwidth, math letters...). */
  evasive: boolean;
}

const cache = new Map<number, CharInfo>();
const MAX_CACHE = 1 << 16;

const MARKS = /\p{M}/gu;
const IS_LETTER = /\p{L}/u;
const IS_DIGIT = /\p{N}/u;
const IS_SPACE = /[\p{White_Space}\p{Cc}\p{Zl}\p{Zp}]/u;
const IS_FORMAT = /\p{Cf}/u;

function isInvisible(cp: number): boolean {
  return (
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef) ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x3164 ||
    cp === 0xffa0 ||
    cp === 0x034f ||
    cp === 0x17b4 ||
    cp === 0x17b5
  );
}

function scriptOf(code: number): number {
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) ? SCRIPT_LATIN : SCRIPT_OTHER;
  if ((code >= 0xc0 && code <= 0x24f) || (code >= 0x1e00 && code <= 0x1eff)) return SCRIPT_LATIN;
  if ((code >= 0x370 && code <= 0x52f) || (code >= 0x1f00 && code <= 0x1fff) || (code >= 0xa640 && code <= 0xa69f))
    return SCRIPT_CYRILLIC_GREEK;
  if (code >= 0x530 && code <= 0x58f) return SCRIPT_CYRILLIC_GREEK; // Armenian lookalikes behave the same way
  return SCRIPT_OTHER;
}

function classify(ch: string): number {
  if (IS_LETTER.test(ch)) return LETTER;
  if (IS_DIGIT.test(ch)) return DIGIT;
  if (IS_SPACE.test(ch)) return SPACE;
  return PUNCT;
}

function infoFor(cp: number): CharInfo {
  const hit = cache.get(cp);
  if (hit) return hit;
  const ch = String.fromCodePoint(cp);
  let info: CharInfo;
  if (IS_FORMAT.test(ch) || isInvisible(cp)) {
    info = { out: '', classes: [], script: SCRIPT_OTHER, cross: -1, evasive: true };
  } else {
    const same = sameScript.get(cp);
    if (same !== undefined) {
      info = { out: String.fromCharCode(same), classes: [LETTER], script: SCRIPT_LATIN, cross: -1, evasive: true };
    } else {
      const decomposed = ch.normalize('NFKD').replace(MARKS, '');
      const out = decomposed.toLowerCase();
      const plain = ch.normalize('NFD').replace(MARKS, '').toLowerCase();
      const classes: number[] = [];
      for (let i = 0; i < out.length; i++) {
        const c = out.charCodeAt(i);
        classes.push(c < 128 ? (ASCII_CLASS[c] as number) : classify(out[i] as string));
      }
      const first = out.charCodeAt(0);
      const script = out.length === 0 ? SCRIPT_OTHER : scriptOf(first);
      const cross = crossScript.get(cp) ?? (out.length === 1 ? (crossScript.get(first) ?? -1) : -1);
      info = { out, classes, script, cross, evasive: out !== plain };
    }
  }
  if (cache.size < MAX_CACHE) cache.set(cp, info);
  return info;
}

/**
 * Key of the first (up to) three characters of a word: 9 bits per character (collisions only cost
 * a wasted regex attempt), 511 for a missing one. OR-ing 511 or `PREFIX1_MASK` gives the keys of
 * the shorter prefixes; OR-ing `EXACT_FLAG` marks a whole word of one or two characters.
 */
export function prefixKey(c0: number, c1 = -1, c2 = -1): number {
  return ((c0 & 511) << 18) | ((c1 < 0 ? 511 : c1 & 511) << 9) | (c2 < 0 ? 511 : c2 & 511);
}
export const PREFIX1_MASK = (511 << 9) | 511;
export const EXACT_FLAG = 1 << 27;

/** The skeleton of a text and the way back to the source. */
export interface Skeleton {
  /** Lower-case letters, digits and single spaces. */
  text: string;
  /** Source UTF-16 offset where the source of each skeleton character starts. */
  starts: Int32Array;
  /** Source UTF-16 offset where the source of each skeleton character ends. */
  ends: Int32Array;
  /** 1 where an evasion transform (homoglyph, leetspeak, hidden characters, split letters) produced the character. */
  evasion: Uint8Array;
  /** The text has letters outside Latin/Cyrillic/Greek (CJK rules are only run then). */
  hasOtherScript: boolean;
  /** Skeleton offset of each word. */
  words: Int32Array;
  /** {@link prefixKey} of the first three characters of each word. */
  keys: Int32Array;
}

const UTF16 = new TextDecoder('utf-16le');

// The builder's state lives in module-level buffers reused from one call to the next (no per-call
// allocation but the result's text): `skeletonView` returns views into them, valid until its next call.

// Initial buffer sizes (in entries), also restored by `releaseBuffers`.
const OUT_SIZE = 1024;
const WORD_SIZE = 64;
const SINGLES_SIZE = 96;
const WORDS_SIZE = 256;
const CANONICAL_SIZE = 256;
/** Output room reserved up front beyond the input's length. */
const OUT_SLACK = 16;

// Output: skeleton characters, their source spans and evasion flags.
let oCodes = new Uint16Array(OUT_SIZE);
let oStarts = new Int32Array(OUT_SIZE);
let oEnds = new Int32Array(OUT_SIZE);
let oEvasion = new Uint8Array(OUT_SIZE);
let oLen = 0;

// The word being read: parallel arrays of output characters (`wLen` is the length).
let wCodes = new Int32Array(WORD_SIZE);
let wClass = new Uint8Array(WORD_SIZE);
let wStart = new Int32Array(WORD_SIZE);
let wEnd = new Int32Array(WORD_SIZE);
let wEvasive = new Uint8Array(WORD_SIZE);
let wCross = new Int32Array(WORD_SIZE);
let wLen = 0;
let wLatin = false;
let wCyrGreek = false;
let wLetters = 0;
let wLeet = 0;
let nextEvasive = 0; // a hidden character or a joining punctuation preceded the next word character
let hasOtherScript = false;
let otherLetters = 0; // letters that set `hasOtherScript` so far

// Pending one-letter words (joined when three or more follow each other): triples code, start, end.
let singles = new Int32Array(SINGLES_SIZE);
let sLen = 0;
let singleEvasive = 0;

// Punctuation seen right after a word character.
let punctCount = 0;
let punctApostrophe = false;
let sawSpaceSinceWord = false;

// Word offsets and prefix keys.
let wordAt = new Int32Array(WORDS_SIZE);
let wordKeys = new Int32Array(WORDS_SIZE);
let wordCount = 0;

function growOut(min: number): void {
  let size = oCodes.length * 2;
  while (size < min) size *= 2;
  const codes = new Uint16Array(size);
  codes.set(oCodes.subarray(0, oLen));
  oCodes = codes;
  const starts = new Int32Array(size);
  starts.set(oStarts.subarray(0, oLen));
  oStarts = starts;
  const ends = new Int32Array(size);
  ends.set(oEnds.subarray(0, oLen));
  oEnds = ends;
  const evasion = new Uint8Array(size);
  evasion.set(oEvasion.subarray(0, oLen));
  oEvasion = evasion;
}

/** Makes the output buffers hold at least `min` entries. */
function reserveOut(min: number): void {
  if (min > oCodes.length) growOut(min);
}

function push(code: number, start: number, end: number, evasive: number): void {
  reserveOut(oLen + 1);
  const i = oLen++;
  oCodes[i] = code;
  oStarts[i] = start;
  oEnds[i] = end;
  oEvasion[i] = evasive;
}

function growWord(): void {
  const cap = wCodes.length * 2;
  const grow32 = (a: Int32Array) => {
    const b = new Int32Array(cap);
    b.set(a);
    return b;
  };
  const grow8 = (a: Uint8Array) => {
    const b = new Uint8Array(cap);
    b.set(a);
    return b;
  };
  wCodes = grow32(wCodes);
  wClass = grow8(wClass);
  wStart = grow32(wStart);
  wEnd = grow32(wEnd);
  wEvasive = grow8(wEvasive);
  wCross = grow32(wCross);
}

/** Makes the word lists hold at least `min` words (doubling). */
function reserveWords(min: number): void {
  if (min <= wordAt.length) return;
  let size = wordAt.length * 2;
  while (size < min) size *= 2;
  const w = new Int32Array(size);
  w.set(wordAt);
  wordAt = w;
  const k = new Int32Array(size);
  k.set(wordKeys);
  wordKeys = k;
}

function addWord(key: number): void {
  reserveWords(wordCount + 1);
  wordAt[wordCount] = oLen;
  wordKeys[wordCount++] = key;
}

function emitSpace(at: number): void {
  if (oLen > 0 && oCodes[oLen - 1] !== 32) push(32, at, at, 0);
}

function pushSingle(code: number, start: number, end: number): void {
  if (sLen + 3 > singles.length) {
    const s = new Int32Array(singles.length * 2);
    s.set(singles);
    singles = s;
  }
  singles[sLen++] = code;
  singles[sLen++] = start;
  singles[sLen++] = end;
}

function flushSingles(): void {
  const n = sLen / 3;
  if (n === 0) return;
  if (n >= 3) {
    // Joined; a gap wider than the narrowest one in the run separates words (`i g n o r e   a l l`).
    let minGap = Number.MAX_SAFE_INTEGER;
    for (let i = 3; i < sLen; i += 3) {
      minGap = Math.min(minGap, (singles[i + 1] as number) - (singles[i - 1] as number));
    }
    for (let i = 0; i < sLen; i += 3) {
      if (i === 0 || (singles[i + 1] as number) - (singles[i - 1] as number) > minGap) {
        emitSpace(singles[i + 1] as number);
        addWord(
          prefixKey(
            singles[i] as number,
            i + 3 < sLen ? (singles[i + 3] as number) : -1,
            i + 6 < sLen ? (singles[i + 6] as number) : -1,
          ),
        );
      }
      push(singles[i] as number, singles[i + 1] as number, singles[i + 2] as number, 1);
    }
  } else {
    for (let i = 0; i < sLen; i += 3) {
      emitSpace(singles[i + 1] as number);
      addWord(prefixKey(singles[i] as number));
      push(singles[i] as number, singles[i + 1] as number, singles[i + 2] as number, singleEvasive);
    }
  }
  sLen = 0;
  singleEvasive = 0;
}

function flushWord(): void {
  const n = wLen;
  if (n === 0) return;
  const mixed = wLatin && wCyrGreek;
  const leet = wLetters > 0 && wLeet > 0;
  // Final characters of the word, after homoglyph and leet mapping (none without lookalikes or leet
  // characters: wLeet counts '@', '$' and the leet digits).
  let kept = mixed || wLeet > 0 ? 0 : n;
  for (let i = kept; i < n; i++) {
    let code = wCodes[i] as number;
    let ev = wEvasive[i] as number;
    const cls = wClass[i] as number;
    if (mixed && (wCross[i] as number) >= 0) {
      code = wCross[i] as number;
      ev = 1;
    }
    if ((cls === DIGIT || cls === LEET) && leet) {
      const mapped = LEET_MAP[code];
      if (mapped !== undefined) {
        code = mapped;
        ev = 1;
      }
    }
    if (cls === LEET && code !== 97 && code !== 115) continue; // a lone '@' or '$' is punctuation
    wCodes[kept] = code;
    wStart[kept] = wStart[i] as number;
    wEnd[kept] = wEnd[i] as number;
    wEvasive[kept] = ev;
    wClass[kept] = cls === LEET ? LETTER : cls;
    kept++;
  }
  if (kept === 1 && wClass[0] === LETTER) {
    pushSingle(wCodes[0] as number, wStart[0] as number, wEnd[0] as number);
    singleEvasive |= wEvasive[0] as number;
  } else if (kept > 0) {
    flushSingles();
    emitSpace(wStart[0] as number);
    addWord(
      prefixKey(wCodes[0] as number, kept > 1 ? (wCodes[1] as number) : -1, kept > 2 ? (wCodes[2] as number) : -1),
    );
    reserveOut(oLen + kept);
    let o = oLen;
    for (let i = 0; i < kept; i++, o++) {
      oCodes[o] = wCodes[i] as number;
      oStarts[o] = wStart[i] as number;
      oEnds[o] = wEnd[i] as number;
      oEvasion[o] = wEvasive[i] as number;
    }
    oLen = o;
  }
  wLen = 0;
  wLatin = false;
  wCyrGreek = false;
  wLetters = 0;
  wLeet = 0;
}

/** Appends one character to the word being read (no other state changes). */
function appendWordChar(code: number, cls: number, start: number, end: number, evasive: number, cross: number): void {
  if (wLen === wCodes.length) growWord();
  wCodes[wLen] = code;
  wClass[wLen] = cls;
  wStart[wLen] = start;
  wEnd[wLen] = end;
  wEvasive[wLen] = evasive;
  wCross[wLen] = cross;
  wLen++;
}

function addWordChar(code: number, cls: number, start: number, end: number, evasive: number, cross: number): void {
  if (wLen > 0 && punctCount > 0) {
    // Punctuation between two word characters: one character joins, more separate.
    if (punctCount === 1 && !sawSpaceSinceWord) {
      if (!punctApostrophe) evasive = 1;
    } else {
      flushWord();
    }
  } else if (sawSpaceSinceWord) {
    flushWord();
  }
  punctCount = 0;
  punctApostrophe = false;
  sawSpaceSinceWord = false;
  appendWordChar(code, cls, start, end, evasive | nextEvasive, cross);
  nextEvasive = 0;
  if (cls === LETTER) {
    wLetters++;
    const script = scriptOf(code);
    if (script === SCRIPT_LATIN) wLatin = true;
    else if (script === SCRIPT_CYRILLIC_GREEK) wCyrGreek = true;
    else if (code >= 0x2e80) {
      hasOtherScript = true;
      otherLetters++;
    }
  } else if (cls === LEET || (cls === DIGIT && LEET_MAP[code] !== undefined)) {
    wLeet++;
  }
}

/** `addWordChar` for each of the ASCII letters `input[from..to)` (one run, nothing between them). */
function addLetters(input: string, from: number, to: number): void {
  addWordChar(input.charCodeAt(from) | 32, LETTER, from, from + 1, 0, -1);
  // The rest just append: no punctuation or space came between, and nothing was pending (nextEvasive is 0 now).
  for (let i = from + 1; i < to; i++) appendWordChar(input.charCodeAt(i) | 32, LETTER, i, i + 1, 0, -1);
  // Each was a Latin letter.
  wLetters += to - from - 1;
}

function addSeparator(cls: number, code: number): void {
  if (cls === PUNCT && !sawSpaceSinceWord && wLen > 0 && code < 0x2030 && JOINERS[code] === 1) {
    punctCount++;
    // An apostrophe inside a word (`don't`) is ordinary, not an evasion sign.
    punctApostrophe = code === 39 || code === 0x2019 || code === 0x2018 || code === 0x02bc;
  } else {
    sawSpaceSinceWord = true;
    if (cls !== SPACE) punctCount += 2; // punctuation after a space: a separator
  }
}

function reset(): void {
  oLen = 0;
  wLen = 0;
  wLatin = false;
  wCyrGreek = false;
  wLetters = 0;
  wLeet = 0;
  nextEvasive = 0;
  hasOtherScript = false;
  otherLetters = 0;
  sLen = 0;
  singleEvasive = 0;
  punctCount = 0;
  punctApostrophe = false;
  sawSpaceSinceWord = false;
  wordCount = 0;
}

// Canonical points of a recorded run (see `SkeletonRun`), collected while recording.
let recording = false;
let cPos = new Int32Array(CANONICAL_SIZE);
let cOut = new Int32Array(CANONICAL_SIZE);
let cWords = new Int32Array(CANONICAL_SIZE);
let cOther = new Int32Array(CANONICAL_SIZE);
let cLen = 0;

function recordCanonical(at: number): void {
  if (cLen === cPos.length) {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    cPos = grow(cPos);
    cOut = grow(cOut);
    cWords = grow(cWords);
    cOther = grow(cOther);
  }
  cPos[cLen] = at;
  cOut[cLen] = oLen;
  cWords[cLen] = wordCount;
  cOther[cLen++] = otherLetters;
}

/**
 * Feeds `input[from..to)` to the builder (`to` acts as the end of the input). After each whole
 * ASCII word taken by the fast path the builder is in its canonical state (nothing pending); when
 * `converge` is given and that run was canonical at the same place too, stops there and returns
 * the offset (the rest would come out the same as in that run). Returns `to` otherwise.
 */
function consume(input: string, from: number, to: number, converge: SkeletonRun | null): number {
  const n = to;
  for (let i = from; i < n; i++) {
    const c = input.charCodeAt(i);
    if (c < 128) {
      const cls = ASCII_CLASS[c] as number;
      if (cls === LETTER) {
        // The run of ASCII letters from i.
        let j = i + 1;
        while (j < n) {
          const d = input.charCodeAt(j);
          if (d >= 128 || ASCII_CLASS[d] !== LETTER) break;
          j++;
        }
        if (!(wLen === 0 || sawSpaceSinceWord || punctCount >= 2)) {
          // The letters continue the word being read (after a joining punctuation).
          addLetters(input, i, j);
          i = j - 1;
          continue;
        }
        const after = j < n ? input.charCodeAt(j) : 32;
        if (j - i < 2 || after >= 128 || ASCII_CLASS[after] !== SPACE) {
          addLetters(input, i, j);
          i = j - 1;
          continue;
        }
        // Fast path: a whole ASCII word of two or more letters followed by whitespace.
        if (wLen > 0) flushWord();
        punctCount = 0;
        punctApostrophe = false;
        nextEvasive = 0;
        if (sLen > 0) flushSingles();
        reserveOut(oLen + (j - i) + 1);
        emitSpace(i);
        addWord(prefixKey(c | 32, input.charCodeAt(i + 1) | 32, j - i > 2 ? input.charCodeAt(i + 2) | 32 : -1));
        const codes = oCodes;
        const starts = oStarts;
        const ends = oEnds;
        const evasion = oEvasion;
        let o = oLen;
        for (let k = i; k < j; k++, o++) {
          codes[o] = input.charCodeAt(k) | 32;
          starts[o] = k;
          ends[o] = k + 1;
          evasion[o] = 0;
        }
        oLen = o;
        sawSpaceSinceWord = false;
        if (recording) recordCanonical(j);
        else if (converge !== null && canonicalAt(converge, j) >= 0) return j;
        i = j - 1;
        continue;
      }
      if (cls === DIGIT || cls === LEET) addWordChar(c, cls, i, i + 1, 0, -1);
      else addSeparator(cls, c);
      continue;
    }
    let cp = c;
    let end = i + 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = input.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        end = i + 2;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      addSeparator(SPACE, 32); // lone surrogate
      continue;
    }
    const info = infoFor(cp);
    if (info.out.length === 0) {
      if (wLen > 0) nextEvasive = 1; // hidden character inside a word
    } else {
      for (let k = 0; k < info.out.length; k++) {
        const oc = info.out.charCodeAt(k);
        const cls = info.classes[k] as number;
        if (cls === LETTER || cls === DIGIT) addWordChar(oc, cls, i, end, info.evasive ? 1 : 0, info.cross);
        else addSeparator(cls, oc);
      }
    }
    i = end - 1;
  }
  return to;
}

/** Buffers larger than this (in entries) are let go after a scan (see {@link releaseBuffers}). */
const KEEP_ENTRIES = 1 << 18;

/** Lets go of builder buffers grown large by a big input, so a scan does not pin its memory. */
export function releaseBuffers(): void {
  if (oCodes.length > KEEP_ENTRIES) {
    oCodes = new Uint16Array(OUT_SIZE);
    oStarts = new Int32Array(OUT_SIZE);
    oEnds = new Int32Array(OUT_SIZE);
    oEvasion = new Uint8Array(OUT_SIZE);
  }
  if (wCodes.length > KEEP_ENTRIES) {
    wCodes = new Int32Array(WORD_SIZE);
    wClass = new Uint8Array(WORD_SIZE);
    wStart = new Int32Array(WORD_SIZE);
    wEnd = new Int32Array(WORD_SIZE);
    wEvasive = new Uint8Array(WORD_SIZE);
    wCross = new Int32Array(WORD_SIZE);
  }
  if (singles.length > KEEP_ENTRIES) singles = new Int32Array(SINGLES_SIZE);
  if (wordAt.length > KEEP_ENTRIES) {
    wordAt = new Int32Array(WORDS_SIZE);
    wordKeys = new Int32Array(WORDS_SIZE);
  }
  if (cPos.length > KEEP_ENTRIES) {
    cPos = new Int32Array(CANONICAL_SIZE);
    cOut = new Int32Array(CANONICAL_SIZE);
    cWords = new Int32Array(CANONICAL_SIZE);
    cOther = new Int32Array(CANONICAL_SIZE);
  }
  oLen = 0;
  wordCount = 0;
  VIEW.text = '';
  VIEW.starts = oStarts;
  VIEW.ends = oEnds;
  VIEW.evasion = oEvasion;
  VIEW.words = wordAt;
  VIEW.keys = wordKeys;
  VIEW.length = 0;
  VIEW.wordCount = 0;
}

/**
 * A {@link Skeleton} whose arrays are the builder's reused buffers: only the first `length`
 * characters and `wordCount` words are valid, and only until the builder runs again.
 */
export interface SkeletonView extends Skeleton {
  length: number;
  wordCount: number;
}

const VIEW: SkeletonView = {
  text: '',
  starts: oStarts,
  ends: oEnds,
  evasion: oEvasion,
  hasOtherScript: false,
  words: wordAt,
  keys: wordKeys,
  length: 0,
  wordCount: 0,
};

/** The builder's output characters `from..to` as a string. */
function textOf(from: number, to: number): string {
  if (to - from > 24) return UTF16.decode(oCodes.subarray(from, to));
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(oCodes[i] as number);
  return s;
}

function view(text?: string): SkeletonView {
  VIEW.text = text ?? textOf(0, oLen);
  VIEW.starts = oStarts;
  VIEW.ends = oEnds;
  VIEW.evasion = oEvasion;
  VIEW.hasOtherScript = hasOtherScript;
  VIEW.words = wordAt;
  VIEW.keys = wordKeys;
  VIEW.length = oLen;
  VIEW.wordCount = wordCount;
  return VIEW;
}

/**
 * The skeleton of `input` as views into buffers that the next call reuses (for the scanner, which
 * is done with a skeleton before it builds the next one). Linear time.
 */
export function skeletonView(input: string): SkeletonView {
  reset();
  reserveOut(input.length + OUT_SLACK);
  consume(input, 0, input.length, null);
  flushWord();
  flushSingles();
  return view();
}

/** Builds the skeleton of `input`. Linear time; the result is at most a small multiple of the input's length. */
export function skeletonize(input: string): Skeleton {
  const v = skeletonView(input);
  return {
    text: v.text,
    starts: v.starts.slice(0, v.length),
    ends: v.ends.slice(0, v.length),
    evasion: v.evasion.slice(0, v.length),
    hasOtherScript: v.hasOtherScript,
    words: v.words.slice(0, v.wordCount),
    keys: v.keys.slice(0, v.wordCount),
  };
}

/**
 * One pass of the builder over a whole text, kept so that the skeletons of many of its substrings
 * (the windows of the split-message check) can be had without building each from scratch: a
 * substring's builder, started fresh, ends up in the same state as this run after the first whole
 * ASCII word both take the fast path for (a "canonical point": nothing pending); from there on
 * both produce the same characters, so they are copied from here up to the last canonical point
 * inside the substring.
 */
export interface SkeletonRun {
  input: string;
  /** The run's skeleton text. */
  text: string;
  codes: Uint16Array;
  starts: Int32Array;
  ends: Int32Array;
  evasion: Uint8Array;
  words: Int32Array;
  keys: Int32Array;
  /** Canonical points, ascending: source offset, and output length, word count and other-script letters there. */
  cPos: Int32Array;
  cOut: Int32Array;
  cWords: Int32Array;
  cOther: Int32Array;
}

/** Index of the canonical point at `at`, or -1. */
function canonicalAt(run: SkeletonRun, at: number): number {
  const k = lastCanonical(run, at);
  return k >= 0 && run.cPos[k] === at ? k : -1;
}

/** Index of the last canonical point at or before `at`, or -1. */
function lastCanonical(run: SkeletonRun, at: number): number {
  const pos = run.cPos;
  let lo = 0;
  let hi = pos.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((pos[mid] as number) <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Runs the builder over `input` once, recording its canonical points (see {@link SkeletonRun}). */
export function skeletonRun(input: string): SkeletonRun {
  reset();
  cLen = 0;
  reserveOut(input.length + OUT_SLACK);
  recording = true;
  try {
    consume(input, 0, input.length, null);
  } finally {
    recording = false;
  }
  // Whatever is pending at the end is not needed: substrings end at canonical points or build their end.
  return {
    input,
    text: textOf(0, oLen),
    codes: oCodes.slice(0, oLen),
    starts: oStarts.slice(0, oLen),
    ends: oEnds.slice(0, oLen),
    evasion: oEvasion.slice(0, oLen),
    words: wordAt.slice(0, wordCount),
    keys: wordKeys.slice(0, wordCount),
    cPos: cPos.slice(0, cLen),
    cOut: cOut.slice(0, cLen),
    cWords: cWords.slice(0, cLen),
    cOther: cOther.slice(0, cLen),
  };
}

/**
 * The skeleton of `run.input.slice(from, to)`, exactly as {@link skeletonView} builds it but with
 * source offsets relative to the whole input (add `from` to compare with the substring's). A view
 * into reused buffers, like {@link skeletonView}'s.
 */
export function substringSkeleton(run: SkeletonRun, from: number, to: number): SkeletonView {
  reset();
  const input = run.input;
  const at = consume(input, from, to, run);
  let text: string | undefined;
  if (at < to) {
    // Converged at a canonical point `at`: copy the run's output up to its last canonical point `q` <= to.
    const kp = canonicalAt(run, at);
    const kq = lastCanonical(run, to);
    if (kq > kp) {
      const outFrom = run.cOut[kp] as number;
      const outTo = run.cOut[kq] as number;
      const count = outTo - outFrom;
      reserveOut(oLen + count);
      oCodes.set(run.codes.subarray(outFrom, outTo), oLen);
      oStarts.set(run.starts.subarray(outFrom, outTo), oLen);
      oEnds.set(run.ends.subarray(outFrom, outTo), oLen);
      oEvasion.set(run.evasion.subarray(outFrom, outTo), oLen);
      const shift = oLen - outFrom;
      const w0 = run.cWords[kp] as number;
      const w1 = run.cWords[kq] as number;
      reserveWords(wordCount + (w1 - w0));
      wordKeys.set(run.keys.subarray(w0, w1), wordCount);
      for (let w = w0; w < w1; w++) wordAt[wordCount++] = (run.words[w] as number) + shift;
      const head = oLen;
      oLen += count;
      if ((run.cOther[kq] as number) > (run.cOther[kp] as number)) hasOtherScript = true;
      // The builder is canonical at q, as the run was.
      consume(input, run.cPos[kq] as number, to, null);
      flushWord();
      flushSingles();
      text = textOf(0, head) + run.text.slice(outFrom, outTo) + textOf(head + count, oLen);
    } else {
      consume(input, at, to, null);
    }
  }
  flushWord();
  flushSingles();
  return view(text);
}
