#!/usr/bin/env node
// Deterministic mixed-script text for the tokenizer benchmarks and the
// differential fixtures: sentences of CJK ideographs, kana, Hangul, Cyrillic
// and emoji (with skin tones and ZWJ sequences), generated from code point
// ranges by a seeded xorshift32, never copied from any text. The same seed and
// size always give the same string, so the Node benchmark (bench/tokenize.ts),
// the Rust one (crates/m2m-bench, which runs this script) and the fixtures
// (scripts/gen-bpe-fixtures.mjs) see the same inputs.
//
// As a command: `node scripts/mixed-script.mjs BYTES [SEED] [latin]` writes
// the text to stdout (`latin`: unique pseudo-English words instead).

/** A seeded xorshift32; `seed` must not be 0 (0 is replaced by 1). */
function xorshift32(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const utf8Len = (cp) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

/** One sentence of `script` as code points. */
function sentence(script, r) {
  const out = [];
  const n = 4 + (r() % 14);
  const emoji = () => {
    out.push(0x1f300 + (r() % 0x350));
    const k = r() % 8;
    if (k === 0)
      out.push(0x1f3fb + (r() % 5)); // skin tone
    else if (k === 1)
      out.push(0x200d, 0x1f300 + (r() % 0x350)); // ZWJ sequence
    else if (k === 2) out.push(0xfe0f);
  };
  switch (script) {
    case 0: // CJK ideographs, no spaces, ideographic punctuation
      for (let i = 0; i < n; i++) {
        out.push(0x4e00 + (r() % 3000));
        if (r() % 9 === 0) out.push(0xff0c);
      }
      out.push(0x3002);
      break;
    case 1: // kana: hiragana runs, katakana words, a few ideographs
      for (let i = 0; i < n; i++) {
        const k = r() % 6;
        const len = 1 + (r() % 4);
        for (let j = 0; j < len; j++)
          out.push(k < 3 ? 0x3041 + (r() % 83) : k < 5 ? 0x30a1 + (r() % 86) : 0x4e00 + (r() % 3000));
        if (r() % 11 === 0) out.push(0x3001);
      }
      out.push(0x3002);
      break;
    case 2: // Hangul syllables in space-separated words
      for (let i = 0; i < n; i++) {
        if (i) out.push(0x20);
        const len = 1 + (r() % 4);
        for (let j = 0; j < len; j++) out.push(0xac00 + (r() % 11172));
      }
      out.push(0x2e);
      break;
    case 3: // Cyrillic words, the first capitalised, commas
      for (let i = 0; i < n; i++) {
        if (i) out.push(...(r() % 7 === 0 ? [0x2c, 0x20] : [0x20]));
        const len = 2 + (r() % 9);
        for (let j = 0; j < len; j++) {
          const c = r() % 33;
          const lower = c === 32 ? 0x451 : 0x430 + c;
          out.push(i === 0 && j === 0 ? lower - (c === 32 ? 0x50 : 0x20) : lower);
        }
      }
      out.push(0x2e);
      break;
    default: // emoji between short Cyrillic or Hangul words and digits
      for (let i = 0; i < n; i++) {
        if (i) out.push(0x20);
        const k = r() % 4;
        if (k < 2) emoji();
        else if (k === 2) for (let j = 0, len = 1 + (r() % 3); j < len; j++) out.push(0xac00 + (r() % 11172));
        else for (let j = 0, len = 1 + (r() % 3); j < len; j++) out.push(0x30 + (r() % 10));
      }
      out.push(0x21);
  }
  if (script !== 4 && r() % 4 === 0) {
    out.push(0x20);
    emoji();
  }
  return out;
}

/** A pseudo-English sentence of random lowercase words (unique pieces). */
function latinSentence(r) {
  const out = [];
  const n = 5 + (r() % 12);
  for (let i = 0; i < n; i++) {
    if (i) out.push(...(r() % 8 === 0 ? [0x2c, 0x20] : [0x20]));
    const len = 2 + (r() % 10);
    for (let j = 0; j < len; j++) out.push((i === 0 && j === 0 ? 0x41 : 0x61) + (r() % 26));
  }
  out.push(0x2e);
  return out;
}

/**
 * At most `bytes` UTF-8 bytes of generated text (whole sentences), from
 * `seed`: mixed scripts, or with `latin` pseudo-English words.
 */
export function mixedScript(bytes, seed = 1, latin = false) {
  const r = xorshift32(seed);
  const cps = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const s = latin ? latinSentence(r) : sentence(r() % 5, r);
    // Separator: a line break every few sentences, else a space (none after CJK/kana).
    const sep = i === 0 ? [] : r() % 5 === 0 ? [0x0a] : [0x20];
    const piece = [...sep, ...s];
    const len = piece.reduce((a, cp) => a + utf8Len(cp), 0);
    if (size + len > bytes) break;
    cps.push(...piece);
    size += len;
  }
  let text = '';
  for (let i = 0; i < cps.length; i += 4096) text += String.fromCodePoint(...cps.slice(i, i + 4096));
  return text;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [bytes, seed, kind] = process.argv.slice(2);
  process.stdout.write(mixedScript(Number(bytes), Number(seed ?? 1), kind === 'latin'));
}
