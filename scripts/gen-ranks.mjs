#!/usr/bin/env node
// Writes the BPE rank files the Rust core loads: build/ranks/<name>.bpe for
// cl100k_base, o200k_base and llama3.
//
// Sources (all from node_modules, nothing is downloaded):
// - node_modules/tiktoken/encoders/{cl100k_base,o200k_base}.json:
//   { pat_str, special_tokens, bpe_ranks }, where bpe_ranks is one
//   space-separated string: "! <first rank>" followed by the base64 of every
//   token, in rank order.
// - node_modules/llama3-tokenizer-js/src/data-converted.js: the constant
//   `llama_vocab_base64`, base64 of the 128,000 Llama 3 tokens, separated by
//   "\n", each spelt in GPT-2's byte-level alphabet (one printable character
//   per byte). Llama 3's special tokens are Meta's original list (not the
//   Llama 3.1 list llama3-tokenizer-js ships).
//
// File format (version 1; all integers little-endian; documented again in
// crates/m2m-core/src/bpe/rank_file.rs, which parses it):
//   magic    4 bytes  "M2MB"
//   version  u8       1
//   namelen  u8       then the encoding name in ASCII (e.g. "cl100k_base")
//   ranks    u32      N: the ranks are 0..N-1
//   specials u32      S
//   N times: varint byte length (unsigned LEB128), then the token's bytes,
//            in rank order
//   S times: u32 id, varint byte length, then the special token's UTF-8 text,
//            in id order
// The output is deterministic. Usage:
//   node scripts/gen-ranks.mjs            write the files if a source is newer
//   node scripts/gen-ranks.mjs --force    always write them
//   node scripts/gen-ranks.mjs --hashes   also print the SHA-256 of each file
//                                         (the constants in
//                                         crates/m2m-core/src/bpe/mod.rs)
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'build', 'ranks');
const tiktokenDir = join(root, 'node_modules', 'tiktoken', 'encoders');
const llamaData = join(root, 'node_modules', 'llama3-tokenizer-js', 'src', 'data-converted.js');
const self = fileURLToPath(import.meta.url);
const args = new Set(process.argv.slice(2));

const sources = {
  cl100k_base: [join(tiktokenDir, 'cl100k_base.json')],
  o200k_base: [join(tiktokenDir, 'o200k_base.json')],
  llama3: [join(tiktokenDir, 'cl100k_base.json'), llamaData],
};

function fail(msg) {
  console.error(`gen-ranks: ${msg}`);
  process.exit(1);
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** Reads a tiktoken encoder JSON: ranks as Buffers in rank order, and the specials. */
function readTiktoken(name) {
  const json = JSON.parse(readFileSync(join(tiktokenDir, `${name}.json`), 'utf8'));
  const parts = json.bpe_ranks.split(' ');
  const ranks = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '!') {
      // "! <n>": the next token has rank n. Only a leading "! 0" is expected.
      const next = Number.parseInt(parts[++i], 10);
      if (next !== ranks.length) fail(`${name}: rank gap at ${ranks.length} -> ${next}`);
      continue;
    }
    ranks.push(Buffer.from(parts[i], 'base64'));
  }
  const specials = Object.entries(json.special_tokens).map(([text, id]) => ({ id, text }));
  return { ranks, specials, pat: json.pat_str };
}

/** GPT-2's byte-level alphabet, inverted: code point -> byte. */
function gpt2UnicodeToByte() {
  const bs = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const map = new Map();
  bs.forEach((b, i) => {
    map.set(cs[i], b);
  });
  return map;
}

function readLlama3(cl100k) {
  const src = readFileSync(llamaData, 'utf8');
  const m = /const llama_vocab_base64 = "([A-Za-z0-9+/=]+)"/.exec(src);
  if (!m) fail(`cannot find llama_vocab_base64 in ${llamaData}`);
  const lines = Buffer.from(m[1], 'base64').toString('utf8').split('\n');
  if (lines.length !== 128000) fail(`llama3: expected 128000 tokens, got ${lines.length}`);
  const u2b = gpt2UnicodeToByte();
  const ranks = lines.map((line, id) => {
    const bytes = [];
    for (const ch of line) {
      const b = u2b.get(ch.codePointAt(0));
      if (b === undefined) fail(`llama3: token ${id} has a character outside GPT-2's byte alphabet`);
      bytes.push(b);
    }
    if (bytes.length === 0) fail(`llama3: token ${id} is empty`);
    return Buffer.from(bytes);
  });
  // Known fact, checked: the first 100,256 Llama 3 tokens are cl100k_base's.
  for (let i = 0; i < 100256; i++) {
    if (!ranks[i].equals(cl100k.ranks[i])) fail(`llama3: token ${i} differs from cl100k_base`);
  }
  // Meta's original Llama 3 special tokens (tokenizer.py of meta-llama/llama3).
  const names = [
    '<|begin_of_text|>',
    '<|end_of_text|>',
    '<|reserved_special_token_0|>',
    '<|reserved_special_token_1|>',
    '<|reserved_special_token_2|>',
    '<|reserved_special_token_3|>',
    '<|start_header_id|>',
    '<|end_header_id|>',
    '<|reserved_special_token_4|>',
    '<|eot_id|>',
  ];
  for (let i = 5; i <= 250; i++) names.push(`<|reserved_special_token_${i}|>`);
  if (names.length !== 256) fail('llama3: expected 256 special tokens');
  const specials = names.map((text, i) => ({ id: 128000 + i, text }));
  return { ranks, specials };
}

function varint(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function serialize(name, { ranks, specials }) {
  const seen = new Set();
  for (const r of ranks) {
    const key = r.toString('latin1');
    if (seen.has(key)) fail(`${name}: duplicate token`);
    seen.add(key);
  }
  specials = [...specials].sort((a, b) => a.id - b.id);
  for (const s of specials) {
    if (s.id < ranks.length) fail(`${name}: special ${s.text} collides with rank ${s.id}`);
  }
  const parts = [Buffer.from('M2MB', 'ascii'), Buffer.from([1, name.length]), Buffer.from(name, 'ascii')];
  parts.push(u32(ranks.length), u32(specials.length));
  for (const r of ranks) parts.push(varint(r.length), r);
  for (const s of specials) {
    const text = Buffer.from(s.text, 'utf8');
    parts.push(u32(s.id), varint(text.length), text);
  }
  return Buffer.concat(parts);
}

const outputs = Object.keys(sources);
const stale =
  args.has('--force') ||
  outputs.some((name) => {
    const out = mtime(join(outDir, `${name}.bpe`));
    return out < 0 || [...sources[name], self].some((src) => mtime(src) > out);
  });

if (stale) {
  mkdirSync(outDir, { recursive: true });
  const cl100k = readTiktoken('cl100k_base');
  const o200k = readTiktoken('o200k_base');
  const data = { cl100k_base: cl100k, o200k_base: o200k, llama3: readLlama3(cl100k) };
  for (const name of outputs) {
    const file = join(outDir, `${name}.bpe`);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, serialize(name, data[name]));
    renameSync(tmp, file);
  }
  console.log(`gen-ranks: wrote ${outputs.map((n) => `build/ranks/${n}.bpe`).join(', ')}`);
}

if (args.has('--hashes')) {
  for (const name of outputs) {
    const hash = createHash('sha256')
      .update(readFileSync(join(outDir, `${name}.bpe`)))
      .digest('hex');
    console.log(`${name} ${hash}`);
  }
}
