/**
 * Load test of `m2m server` on loopback with autocannon (a real HTTP load
 * generator, in this process; the server runs in its own processes):
 * requests/s and p50/p99 latency of POST /v1/compress/auto with ~1 KB and
 * ~10 KB chat payloads at concurrency 50, with 1 and 2 workers, beside a bare
 * fastify route that parses the same JSON (bench/bare-server.ts) as the
 * ceiling; then RSS of the server processes at the start and end of a longer run.
 * Every request carries a body of its own (a cycle of distinct payloads, more text than the
 * scanner's memo of recent texts holds), so the scan does real work on each, as it would on fresh
 * traffic; a history re-sent by a chat is cheaper than this.
 * Run after the set-up: `npx tsx bench/load.ts [--seconds 30] [--soak 60] [--workers 1,2]`
 * (`--soak 0` skips the RSS run).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { chatPayloadOfSize } from './corpus.js';
import { mdHeader, mdRow } from './util.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    soak: { type: 'string', default: '60' },
    workers: { type: 'string', default: '1,2' },
  },
});
const seconds = Number(values.seconds);
const soak = Number(values.soak);

/** A server process; resolves with its URL once it prints it. */
async function spawnServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /https?:\/\/[^\s"]+/.exec(line);
      if (m) resolve(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, url };
}

/** `m2m server` with `workers`; `extra` adds flags (e.g. the log level, the scan mode). */
function startServer(workers: number, extra: string[] = ['--log-level', 'error']) {
  return spawnServer(
    ['dist/node/cli.js', 'server', '--port', '0', '--workers', String(workers), ...extra],
    // One client address sends everything here: lift the per-client rate limit (spec §7.6.2 default 6000/min).
    { M2M_RATE_LIMIT_PER_CLIENT: '100000000' },
  );
}

/** The baseline: bare fastify parsing the same JSON (bench/bare-server.ts). */
function startBare(workers: number) {
  return spawnServer(['--import', 'tsx', 'bench/bare-server.ts', String(workers)]);
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/** RSS of a process and its children, in MiB. */
function rssMiB(pid: number): number {
  const pids = [pid];
  try {
    pids.push(
      ...execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map(Number),
    );
  } catch {
    // no children
  }
  let kb = 0;
  for (const p of pids) {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
    kb += Number(m?.[1] ?? 0);
  }
  return kb / 1024;
}

/** CPU time (user + system) of a process and its children so far, in ms (from /proc, 100 ticks a second). */
function cpuMs(pid: number): number {
  let pids = [pid];
  try {
    pids = pids.concat(
      execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map(Number),
    );
  } catch {
    // no children
  }
  let ticks = 0;
  for (const p of pids) {
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return ticks * 10;
}

/** `count` distinct request bodies of about `bytes` bytes of content each. */
function bodies(bytes: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => JSON.stringify({ content: chatPayloadOfSize(bytes, 1000 + i) }));
}

async function load(url: string, cycle: readonly string[], duration: number) {
  let next = 0;
  return autocannon({
    url: `${url}/v1/compress/auto`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: 50,
    duration,
    requests: [
      {
        setupRequest: (req) => {
          req.body = cycle[next++ % cycle.length] as string;
          return req;
        },
      },
    ],
  });
}

// About 8 M characters of content per cycle: twice what the scanner's memo holds (ts/security/memo.ts).
const payloads = {
  '1 KB': bodies(1_000, 8192),
  '10 KB': bodies(10_000, 820),
};

console.log(
  `POST /v1/compress/auto, concurrency 50, ${seconds} s per row; m2m beside bare fastify parsing the same JSON`,
);
console.log("CPU µs/request: the server processes' CPU time over the row divided by the requests served; on a");
console.log(
  'shared machine it is steadier than requests/s, and bare / m2m CPU is the ratio an idle machine would show.',
);
const columns = ['workers', 'payload', 'server', 'requests/s', 'vs bare', 'CPU µs/request', 'vs bare (CPU)'];
for (const line of mdHeader([...columns, 'p50 ms', 'p99 ms', 'errors / non-2xx'])) console.log(line);
/** Runs a row: the load, and the server's CPU time per request over it. */
async function measure(server: { child: ChildProcess; url: string }, body: readonly string[]) {
  await load(server.url, body, 2); // warm-up
  const cpu0 = cpuMs(server.child.pid as number);
  const r = await load(server.url, body, seconds);
  const cpu = cpuMs(server.child.pid as number) - cpu0;
  return { r, cpuUs: (1000 * cpu) / Math.max(1, r.requests.total) };
}
const variants: [string, string[]][] = [
  ['m2m (log error)', ['--log-level', 'error']],
  ['m2m (log info)', ['--log-level', 'info']],
  ['m2m (log error, scan off)', ['--log-level', 'error', '--mode', 'disabled']],
];
for (const workers of values.workers.split(',').map(Number)) {
  for (const [name, body] of Object.entries(payloads)) {
    const bare = await startBare(workers);
    const b = await measure(bare, body);
    await stop(bare.child);
    const row = (label: string, { r, cpuUs }: Awaited<ReturnType<typeof measure>>) =>
      console.log(
        mdRow([
          workers,
          name,
          label,
          Math.round(r.requests.average),
          `${Math.round((100 * r.requests.average) / b.r.requests.average)}%`,
          Math.round(cpuUs),
          `${Math.round((100 * b.cpuUs) / cpuUs)}%`,
          r.latency.p50,
          r.latency.p99,
          `${r.errors} / ${r.non2xx}`,
        ]),
      );
    row('bare fastify', b);
    for (const [label, flags] of variants) {
      if (workers > 1 && label !== 'm2m (log error)') continue;
      // Logs go to /dev/null-like sinks in production too; here they are written to a pipe nobody reads.
      const server = await startServer(workers, flags);
      server.child.stdout?.resume();
      row(label, await measure(server, body));
      await stop(server.child);
    }
  }
}

if (soak > 0) {
  const server = await startServer(1);
  await load(server.url, payloads['1 KB'], 2);
  const start = rssMiB(server.child.pid as number);
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rssMiB(server.child.pid as number)), 5_000);
  await load(server.url, payloads['1 KB'], soak);
  clearInterval(timer);
  const end = rssMiB(server.child.pid as number);
  console.log(`\nRSS over a ${soak} s run (1 worker, 1 KB): start ${start.toFixed(1)} MiB, end ${end.toFixed(1)} MiB`);
  console.log(`samples every 5 s: ${samples.map((s) => s.toFixed(0)).join(', ')} MiB`);
  await stop(server.child);
}
