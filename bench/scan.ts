/**
 * Security scanner throughput on realistic chat payloads (OpenAI-style JSON
 * requests of about 1 KB, 10 KB and 1 MB, generated deterministically), plus
 * the same 10 KB as plain text.
 *
 * `--size N[,N...]` (bytes; `k`/`m` suffixes allowed) benchmarks `chatPayloadOfSize` payloads
 * instead (bench/corpus.ts: many short messages, the worst case for the per-field and
 * split-message work), e.g. `--size 1k,10k,1m`.
 *
 * Real texts, when they are beside the checkout: request and response bodies of
 * ../shared/data/traffic-dev (bench/traffic-data.ts) of about 1 KB (0.5-2 KB) and 10 KB (5-20 KB),
 * each class scanned body by body; texts of 1-10 KB of ../shared/data/security-train; and 1 MB of
 * those texts joined. MB/s counts UTF-8 bytes. Every row scans with the scanner's memo of recent
 * texts off (ts/security/memo.ts), so each scan does its whole work, except the last: the traffic
 * corpus in its recorded order with the memo on (what a server sees: histories and tool lists
 * sent again).
 *
 * Run: npx tsx bench/scan.ts  (`--profile` scans the 10 KB payload 3000 times, for `node --cpu-prof`;
 * `--traffic` scans the real request and response bodies in a loop instead)
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Bench } from 'tinybench';
import { resetScanMemo } from '../ts/security/memo.js';
import { scan } from '../ts/security.js';
import { chatPayloadOfSize, rng } from './corpus.js';
import { hasTraffic, loadTraffic, TRAFFIC_DIR, utf8Length } from './traffic-data.js';

const WORDS = (
  'the a of to and in is it that for on with as this be are was by at or from you your we can will an not ' +
  'function return value data user request response error system service message instructions previous ' +
  'configuration server client model token cache file path environment variable password reset ignore ' +
  'rules policy update deploy build test release version api key query database table index schema ' +
  'please could you help me write explain summarize translate review refactor improve check why how what ' +
  'when where which document report meeting customer order invoice payment shipping product feature bug'
).split(' ');

const SNIPPETS = [
  'const port = process.env.PORT ?? 3000;\nserver.listen(port);',
  'def handler(event, context):\n    return {"statusCode": 200, "body": json.dumps(event)}',
  'SELECT id, name FROM users WHERE created_at > NOW() - INTERVAL 7 DAY;',
  '2024-05-01T12:00:03Z INFO request id=ab12 status=200 latency=12ms',
  'git commit -m "fix: ignore empty lines in config parser"',
];

function sentence(r: () => number): string {
  const n = 6 + Math.floor(r() * 14);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(r() * WORDS.length)] as string);
  const s = words.join(' ');
  return `${s[0]?.toUpperCase()}${s.slice(1)}${r() < 0.2 ? '?' : '.'}`;
}

function messageText(r: () => number, chars: number): string {
  let out = '';
  while (out.length < chars) {
    out += r() < 0.1 ? `\n\n\`\`\`\n${SNIPPETS[Math.floor(r() * SNIPPETS.length)]}\n\`\`\`\n\n` : `${sentence(r)} `;
  }
  return out;
}

/** An OpenAI-style chat request of about `bytes` bytes. */
export function chatPayload(bytes: number, seed = 1): string {
  const r = rng(seed);
  const messages: { role: string; content: string }[] = [
    { role: 'system', content: 'You are a helpful assistant. Answer concisely and follow the style guide.' },
  ];
  let size = 200;
  let turn = 0;
  while (size < bytes) {
    const len = Math.min(bytes - size, 200 + Math.floor(r() * 1800));
    const content = messageText(r, Math.max(20, len));
    messages.push({ role: turn++ % 2 === 0 ? 'user' : 'assistant', content });
    size += content.length + 40;
  }
  return JSON.stringify({ model: 'gpt-4o', temperature: 0.2, messages });
}

/** `--size` values in bytes (`10k`, `1m`, `4096`), or null without the option. */
function sizesArg(): number[] | null {
  const i = process.argv.indexOf('--size');
  if (i < 0) return null;
  const sizes = (process.argv[i + 1] ?? '').split(',').map((v) => {
    const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(v.trim());
    if (!m) throw new Error(`--size: expected sizes like 1k,10k,1m (got ${JSON.stringify(v)})`);
    const unit = (m[2] ?? '').toLowerCase();
    return Math.round(Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1));
  });
  return sizes;
}

const sizes = sizesArg();
const payloads: Record<string, string> = sizes
  ? Object.fromEntries(sizes.map((n) => [`chatPayloadOfSize(${n})`, chatPayloadOfSize(n)]))
  : {
      '1 KB chat JSON': chatPayload(1024),
      '10 KB chat JSON': chatPayload(10 * 1024),
      '1 MB chat JSON': chatPayload(1024 * 1024),
    };
const plain10k = messageText(rng(7), 10 * 1024);

resetScanMemo(false);
const bench = new Bench({ time: 1000, warmupTime: 200 });
/** Rows: name → the texts one iteration scans, and their UTF-8 bytes. */
const sets = new Map<string, { texts: string[]; bytes: number; memo?: boolean }>();
const addSet = (name: string, texts: string[], memo?: boolean) => {
  if (texts.length === 0) return;
  sets.set(name, { texts, bytes: texts.reduce((n, t) => n + utf8Length(t), 0), memo });
};
for (const [name, text] of Object.entries(payloads)) addSet(`${name} (${text.length} chars)`, [text]);
if (!sizes) addSet(`10 KB plain text (${plain10k.length} chars)`, [plain10k]);

const TRAIN = resolve(TRAFFIC_DIR, '../security-train/train.jsonl');
let corpus: string[] = [];
if (!sizes && hasTraffic()) {
  const records = loadTraffic().filter((r) => r.kind.endsWith('request') || r.kind.endsWith('response'));
  corpus = records.map((r) => r.body);
  const sized = (kind: string, lo: number, hi: number) =>
    records.filter((r) => r.kind.endsWith(kind) && r.body.length >= lo && r.body.length < hi).map((r) => r.body);
  for (const kind of ['request', 'response']) {
    const small = sized(kind, 512, 2048);
    addSet(`real ${kind} bodies ~1 KB (${small.length} bodies)`, small);
    const large = sized(kind, 5120, 20480);
    addSet(`real ${kind} bodies ~10 KB (${large.length} bodies)`, large);
  }
} else if (!sizes) console.log(`(real-traffic rows skipped: ${TRAFFIC_DIR} is absent)`);
if (!sizes && existsSync(TRAIN)) {
  const texts = readFileSync(TRAIN, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const mid = texts.filter((t) => t.length >= 1024 && t.length < 10240);
  addSet(`real plain texts 1-10 KB (${mid.length} security-train texts)`, mid);
  let big = '';
  for (const t of texts) {
    if (big.length >= 1 << 20) break;
    big += `${t}\n\n`;
  }
  addSet(`real plain text 1 MB (security-train texts joined)`, [big.slice(0, 1 << 20)]);
}
if (corpus.length > 0) addSet(`real bodies in recorded order, memo on (${corpus.length} bodies)`, corpus, true);

for (const [name, set] of sets) {
  bench.add(`scan ${name}`, () => {
    resetScanMemo(set.memo === true);
    for (const t of set.texts) scan(t);
  });
}

if (process.argv.includes('--profile')) {
  const text = sizes ? (Object.values(payloads)[0] as string) : (payloads['10 KB chat JSON'] as string);
  for (let i = 0; i < 3000; i++) scan(text);
  process.exit(0);
}
if (process.argv.includes('--traffic')) {
  for (let k = 0; k < 5; k++) for (const t of corpus) scan(t);
  process.exit(0);
}
await bench.run();
const rows = bench.tasks.map((t) => {
  const res = t.result as unknown as { throughput?: { mean: number }; latency?: { mean: number } } | undefined;
  const meanMs = res?.latency?.mean ?? Number.NaN;
  const set = sets.get(t.name.slice('scan '.length)) as { texts: string[]; bytes: number };
  return {
    task: t.name,
    'ops/s': Math.round(res?.throughput?.mean ?? 1000 / meanMs),
    'mean latency (ms)': Number(meanMs.toFixed(4)),
    'MB/s': Number((set.bytes / meanMs / 1000).toFixed(1)),
  };
});
console.table(rows);
