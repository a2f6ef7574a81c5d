/**
 * CPU profile of one `m2m server` worker under autocannon (POST /v1/compress/auto,
 * ~1 KB chat payloads, a distinct one per request, as in bench/load.ts; concurrency 50), summarised
 * by source file and function.
 * Run after the set-up: `npx tsx bench/profile.ts [--seconds 8] [-- <server flags>]`,
 * e.g. `-- --mode disabled`. The .cpuprofile is kept in a temporary directory
 * (printed) for Chrome DevTools.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { chatPayloadOfSize } from './corpus.js';

const { values, positionals } = parseArgs({
  options: { seconds: { type: 'string', default: '8' } },
  allowPositionals: true,
});
const dir = mkdtempSync(join(tmpdir(), 'm2m-profile-'));
const child = spawn(
  process.execPath,
  [
    `--cpu-prof`,
    `--cpu-prof-dir=${dir}`,
    'dist/node/cli.js',
    'server',
    '--port',
    '0',
    '--log-level',
    'error',
    ...positionals,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, M2M_RATE_LIMIT_PER_CLIENT: '100000000' } },
);
const url = await new Promise<string>((resolve) =>
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const m = /https?:\/\/[^\s"]+/.exec(line);
    if (m) resolve(m[0]);
  }),
);
const cycle = Array.from({ length: 8192 }, (_, i) => JSON.stringify({ content: chatPayloadOfSize(1_000, 1000 + i) }));
let next = 0;
const r = await autocannon({
  url: `${url}/v1/compress/auto`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  requests: [
    {
      setupRequest: (req) => {
        req.body = cycle[next++ % cycle.length] as string;
        return req;
      },
    },
  ],
  connections: 50,
  duration: Number(values.seconds),
});
console.log(`${Math.round(r.requests.average)} requests/s, p99 ${r.latency.p99} ms; profile in ${dir}`);
child.kill('SIGINT');
await new Promise((resolve) => child.once('exit', resolve));

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (file === undefined) throw new Error('no profile written');
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const short = (u: string) => u.replace(/.*\/(node_modules\/(?:@[^/]+\/)?[^/]+|dist\/)/, '$1').replace(/^file:\/\//, '');
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let busy = 0;
for (const id of profile.samples) {
  const frame = byId.get(id)?.callFrame;
  if (frame === undefined || frame.functionName === '(idle)') continue;
  busy++;
  const key = `${frame.functionName || '(anonymous)'} ${short(frame.url || '(native)')}`;
  self.set(key, (self.get(key) ?? 0) + 1);
  const seen = new Set<string>();
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
    const u = short(byId.get(x)?.callFrame.url ?? '');
    if (u && !seen.has(u)) {
      seen.add(u);
      inclusive.set(u, (inclusive.get(u) ?? 0) + 1);
    }
  }
}
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
console.log(`busy samples: ${busy}\nby file, inclusive (a file anywhere on the stack):\n${top(inclusive, 20)}`);
console.log(`by function, self:\n${top(self, 20)}`);
