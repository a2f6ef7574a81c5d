#!/usr/bin/env node
// Builds the trained Brotli dictionaries of the `#BD|` wire form
// (crates/m2m-core/src/codec/trained.rs) from the development corpus of
// recorded LLM API traffic, ../shared/data/traffic-dev/ (its README), and
// writes build/dictionaries/<id>.m2md, one per message family:
//
//   id    family                                   from
//   req   OpenAI Chat Completions request bodies   traffic.jsonl kind "request"
//   res   OpenAI Chat Completions response bodies  traffic.jsonl kind "response"
//   sse   one Chat Completions SSE event           sse-events.jsonl
//
// Split: the messages of the repositories whose SHA-256 of "owner/repo" has
// a first byte divisible by 5 are held out (never read for training), so
// bench/dictionaries.ts measures on projects the dictionaries did not see.
//
// Training (deterministic; general content first): every 8-byte substring of
// the training messages scores (repos - 1) * sqrt(messages), where repos is
// the number of distinct repositories whose messages contain it and messages
// the number of messages that do: a string seen in one project only scores 0,
// so the dictionaries hold the JSON keys, shapes and boilerplate that
// projects share, not one corpus's strings. Windows of 256 bytes (every 32
// bytes of every message) are then chosen greedily by the sum of the scores
// of their substrings, each choice zeroing the scores it covers, until the
// budget is full. The best window goes last (Brotli's nearest distances).
//
// File format (version 1; integers little-endian; parsed by trained.rs):
//   magic "M2MD", u8 format version 1, u8 id length, the id (ASCII),
//   u32 dictionary version, u32 content length, the content.
// The wire names a dictionary by id, version and the first 8 hex digits of
// the SHA-256 of the whole file.
//
// Usage: node scripts/gen-dictionaries.mjs [--quiet]
// Without ../shared/data/traffic-dev/ it prints why and writes nothing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS_DIR = join(root, '..', 'shared', 'data', 'traffic-dev');
const outDir = join(root, 'build', 'dictionaries');

/** The dictionaries: id, version (bump when the training changes), byte budget. */
export const DICTIONARIES = [
  { id: 'req', version: 1, budget: 32 * 1024 },
  { id: 'res', version: 1, budget: 32 * 1024 },
  { id: 'sse', version: 1, budget: 16 * 1024 },
];

const K = 8;
const WINDOW = 256;
const STEP = 32;
const TABLE_BITS = 22;

/** The repository ("owner/repo") of a record's source. */
export function repoOf(source) {
  return source.split(':')[0];
}

/** True for the repositories held out of training. */
export function isHeldOut(repo) {
  return createHash('sha256').update(repo).digest()[0] % 5 === 0;
}

/**
 * The corpus by family: `{ req, res, sse }`, each a list of `{ repo, body,
 * group }` in file order (`group` the stream or record line, for grouping
 * the events of one stream).
 */
export function loadFamilies(dir = CORPUS_DIR) {
  const records = readFileSync(join(dir, 'traffic.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const families = { req: [], res: [], sse: [] };
  records.forEach((r, line) => {
    const family = r.kind === 'request' ? 'req' : r.kind === 'response' ? 'res' : undefined;
    if (family) families[family].push({ repo: repoOf(r.source), body: r.body, group: line });
  });
  for (const l of readFileSync(join(dir, 'sse-events.jsonl'), 'utf8').trim().split('\n')) {
    const e = JSON.parse(l);
    families.sse.push({ repo: repoOf(records[e.stream].source), body: e.body, group: e.stream });
  }
  return families;
}

function hashAt(b, i) {
  let h = 0x811c9dc5;
  for (let j = 0; j < K; j++) h = Math.imul(h ^ b[i + j], 0x01000193);
  return (h ^ (h >>> 15)) >>> (32 - TABLE_BITS);
}

/** Trains one dictionary of at most `budget` bytes from `docs`. */
export function train(docs, budget) {
  const size = 1 << TABLE_BITS;
  const repos = new Uint16Array(size);
  const messages = new Uint32Array(size);
  const lastRepo = new Int32Array(size).fill(-1);
  const lastDoc = new Int32Array(size).fill(-1);
  const repoIds = new Map();
  const bytes = docs.map((d) => Buffer.from(d.body, 'utf8'));
  bytes.forEach((b, doc) => {
    let repo = repoIds.get(docs[doc].repo);
    if (repo === undefined) {
      repo = repoIds.size;
      repoIds.set(docs[doc].repo, repo);
    }
    for (let i = 0; i + K <= b.length; i++) {
      const h = hashAt(b, i);
      if (lastDoc[h] !== doc) {
        lastDoc[h] = doc;
        messages[h]++;
      }
      if (lastRepo[h] !== repo) {
        lastRepo[h] = repo;
        repos[h]++;
      }
    }
  });
  const score = new Float64Array(size);
  for (let h = 0; h < size; h++) if (repos[h] > 1) score[h] = (repos[h] - 1) * Math.sqrt(messages[h]);
  const windowScore = (b, start) => {
    let s = 0;
    const end = Math.min(b.length, start + WINDOW) - K;
    for (let i = start; i <= end; i++) s += score[hashAt(b, i)];
    return s;
  };
  // Lazy greedy over the candidate windows: a max-heap of (score, doc, start).
  const heap = [];
  const less = (a, b) => a[0] < b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])));
  const push = (item) => {
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[p], heap[i])) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const pop = () => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[m], heap[l])) m = l;
        if (r < heap.length && less(heap[m], heap[r])) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  };
  bytes.forEach((b, doc) => {
    for (let start = 0; start === 0 || start + K <= b.length; start += STEP) {
      const s = windowScore(b, start);
      if (s > 0) push([s, doc, start]);
      if (start + WINDOW >= b.length) break;
    }
  });
  const chosen = [];
  let total = 0;
  while (heap.length > 0 && total < budget) {
    const [, doc, start] = pop();
    const b = bytes[doc];
    const s = windowScore(b, start);
    if (s <= 0) continue;
    if (heap.length > 0 && s < heap[0][0]) {
      push([s, doc, start]);
      continue;
    }
    const piece = b.subarray(start, Math.min(b.length, start + WINDOW, start + budget - total));
    for (let i = 0; i + K <= piece.length; i++) score[hashAt(piece, i)] = 0;
    chosen.push(piece);
    total += piece.length;
  }
  return Buffer.concat(chosen.reverse());
}

/** The file of a dictionary (see the format above). */
export function dictionaryFile(id, version, content) {
  const head = Buffer.alloc(4 + 1 + 1 + id.length + 4 + 4);
  head.write('M2MD', 0, 'ascii');
  head[4] = 1;
  head[5] = id.length;
  head.write(id, 6, 'ascii');
  head.writeUInt32LE(version, 6 + id.length);
  head.writeUInt32LE(content.length, 10 + id.length);
  return Buffer.concat([head, content]);
}

function main() {
  const quiet = process.argv.includes('--quiet');
  if (!existsSync(join(CORPUS_DIR, 'traffic.jsonl'))) {
    console.log(`gen-dictionaries: ${CORPUS_DIR} is absent: no trained dictionaries are built`);
    return;
  }
  const families = loadFamilies();
  mkdirSync(outDir, { recursive: true });
  for (const { id, version, budget } of DICTIONARIES) {
    const training = families[id].filter((d) => !isHeldOut(d.repo));
    const file = dictionaryFile(id, version, train(training, budget));
    const path = join(outDir, `${id}.m2md`);
    writeFileSync(`${path}.tmp`, file);
    renameSync(`${path}.tmp`, path);
    if (!quiet) {
      const hash = createHash('sha256').update(file).digest('hex').slice(0, 8);
      console.log(`${id}.${version}.${hash}  ${file.length} bytes  (${training.length} training messages)`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
