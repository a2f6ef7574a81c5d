/**
 * Security scanner throughput on realistic chat payloads (OpenAI-style JSON
 * requests of about 1 KB, 10 KB and 1 MB, generated deterministically), plus
 * the same 10 KB as plain text.
 *
 * `--size N[,N...]` (bytes; `k`/`m` suffixes allowed) benchmarks `chatPayloadOfSize` payloads
 * instead (bench/corpus.ts: many short messages, the worst case for the per-field and
 * split-message work), e.g. `--size 1k,10k,1m`.
 *
 * Run: npx tsx bench/scan.ts  (`--profile` scans the 10 KB payload 3000 times, for `node --cpu-prof`)
 */
import { Bench } from 'tinybench';
import { scan } from '../ts/security.js';
import { chatPayloadOfSize, rng } from './corpus.js';

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

const bench = new Bench({ time: 1000, warmupTime: 200 });
for (const [name, text] of Object.entries(payloads)) {
  bench.add(`scan ${name} (${text.length} chars)`, () => {
    scan(text);
  });
}
if (!sizes) {
  bench.add(`scan 10 KB plain text (${plain10k.length} chars)`, () => {
    scan(plain10k);
  });
}

if (process.argv.includes('--profile')) {
  const text = sizes ? (Object.values(payloads)[0] as string) : (payloads['10 KB chat JSON'] as string);
  for (let i = 0; i < 3000; i++) scan(text);
  process.exit(0);
}
await bench.run();
const rows = bench.tasks.map((t) => {
  const res = t.result as unknown as { throughput?: { mean: number }; latency?: { mean: number } } | undefined;
  const meanMs = res?.latency?.mean ?? Number.NaN;
  const chars = Object.values(payloads).find((p) => t.name.includes(`(${p.length} chars)`))?.length ?? plain10k.length;
  return {
    task: t.name,
    'ops/s': Math.round(res?.throughput?.mean ?? 1000 / meanMs),
    'mean latency (ms)': Number(meanMs.toFixed(4)),
    'M chars/s': Number((chars / meanMs / 1000).toFixed(1)),
  };
});
console.table(rows);
