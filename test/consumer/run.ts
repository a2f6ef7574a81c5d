/**
 * The consumer suite: packs the package as a user gets it (`npm pack` of the
 * root and of the platform package npm/linux-x64-gnu), checks the tarball's
 * contents, installs it into fresh projects under the system's temp folder and
 * runs it the way each kind of user would: Node 20 and 22 (ESM, `require`,
 * native, wasm, without the addon), the CLI, the server with and without its
 * peer dependencies, the fastify plugin, `tsc --noEmit` (strict, no
 * skipLibCheck; nodenext and bundler), esbuild and Vite bundles (build and
 * dev) in Chromium, Cloudflare's workerd through miniflare, Deno and Bun.
 * Every row compresses the same input and must give the wire strings the
 * repository's own build gives.
 *
 * Run by scripts/test.sh (`npx tsx test/consumer/run.ts`); the runtimes come
 * from test/consumer/tools (installed by scripts/setup.sh). Prints one line per
 * row and `N passed, N failed`; exits 1 when a row fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compress, ENCODINGS, encode } from '../../ts/index.js';
import { launchChromium } from '../browser/chromium.js';
import { serveStatic } from '../browser/static-server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tools = join(root, 'test', 'consumer', 'tools', 'node_modules');
const bin = (name: string) => join(tools, '.bin', name);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, string | Record<string, unknown>>;
  bin: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
};
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'm2m-consumer-'));
const started = Date.now();

interface Row {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}
const rows: Row[] = [];

/** Runs one row: passes when `check` returns, fails with its error's message. */
async function row(name: string, check: () => unknown | Promise<unknown>): Promise<void> {
  const start = Date.now();
  try {
    const detail = await check();
    rows.push({ name, ok: true, ms: Date.now() - start, detail: typeof detail === 'string' ? detail : '' });
  } catch (err) {
    rows.push({
      name,
      ok: false,
      ms: Date.now() - start,
      detail: (err as Error).message.split('\n').slice(0, 8).join('\n    '),
    });
  }
  const last = rows.at(-1) as Row;
  console.log(
    `${last.ok ? 'ok  ' : 'FAIL'} ${name} (${(last.ms / 1000).toFixed(1)} s)${last.detail ? `\n    ${last.detail}` : ''}`,
  );
}

function fail(message: string): never {
  throw new Error(message);
}

/** Runs a command; returns stdout, or throws with its stderr. */
function run(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): string {
  const r = spawnSync(cmd, args, {
    cwd: options.cwd,
    env: { ...process.env, M2M_BACKEND: undefined, ...options.env },
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 180_000,
  });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------
// The input and what the repository's own build makes of it.

const INPUT = JSON.stringify({
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are a careful assistant. Answer in plain words and cite the spec section.' },
    {
      role: 'user',
      content:
        'Explain, with an example, how token-native compression differs from Brotli plus base64 for ' +
        'machine-to-machine LLM traffic — and why “auto” passes tiny messages through. 日本語も少し。',
    },
  ],
  temperature: 0.2,
});
const EXPECTED = {
  tk: compress(INPUT, { algorithm: 'token-native', encoding: 'cl100k_base' }).wire,
  br: compress(INPUT, { algorithm: 'brotli' }).wire,
  ids: Array.from(encode(INPUT, 'cl100k_base')).join(','),
};

/** The check every runtime's script performs, as source (ESM or CommonJS by `load`). */
function probeSource(load: string, setup = ''): string {
  return `${load}
${setup}
const input = ${JSON.stringify(INPUT)};
const tk = m2m.compress(input, { algorithm: 'token-native', encoding: 'cl100k_base' }).wire;
const br = m2m.compress(input, { algorithm: 'brotli' }).wire;
const same = m2m.decompress(tk) === input && m2m.decompress(br) === input;
const backend = typeof m2m.backendKind === 'function' ? m2m.backendKind() : 'wasm';
// Two results in a row (the native backend hands out views of one pool): the first must survive the second.
const first = m2m.encode(input, 'cl100k_base');
m2m.encode(input + ' and more', 'cl100k_base');
const ids = Array.from(first).join(',');
console.log(JSON.stringify({ backend, tk, br, same, ids }));
`;
}

/**
 * Checks a probe's output: the expected backend, identical wire strings, exact
 * round trips, and with `withIds` (the probes of `probeSource`) encode's ids.
 */
function checkProbe(stdout: string, backend: string, withIds = false): string {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let got: { backend: string; tk: string; br: string; same: boolean; ids?: string };
  try {
    got = JSON.parse(line);
  } catch {
    fail(`no result printed: ${stdout.trim().slice(0, 300)}`);
  }
  if (got.backend !== backend) fail(`backend ${got.backend}, expected ${backend}`);
  if (got.tk !== EXPECTED.tk) fail(`token-native wire differs from the repository build's: ${got.tk.slice(0, 60)}`);
  if (got.br !== EXPECTED.br) fail(`brotli wire differs from the repository build's: ${got.br.slice(0, 60)}`);
  if (!got.same) fail('round trip not exact');
  if (withIds && got.ids !== EXPECTED.ids) fail(`encode gave other ids: ${String(got.ids).slice(0, 60)}`);
  return `${backend}, wire identical to the repository build`;
}

// ---------------------------------------------------------------------------
// Pack and inspect.

const tarballs = { main: '', platform: '' };
let files: string[] = [];

await row('npm pack (package and platform package npm/linux-x64-gnu)', () => {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root }))[0];
  tarballs.main = join(work, packed.filename);
  files = (packed.files as { path: string }[]).map((f) => f.path);
  const plat = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', work], { cwd: join(root, 'npm', 'linux-x64-gnu') }),
  )[0];
  tarballs.platform = join(work, plat.filename);
  if (!(plat.files as { path: string }[]).some((f) => f.path.endsWith('.node')))
    fail('the platform package has no .node addon');
  return `${packed.filename} ${(packed.size / 1e6).toFixed(2)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${files.length} files; ${plat.filename} ${(plat.size / 1e6).toFixed(2)} MB`;
});

await row('tarball contents: every export, bin, import, asset; no maps, sources or .gitignore', () => {
  const have = new Set(files);
  const problems: string[] = [];
  const need = (path: string, why: string) => {
    if (!have.has(path)) problems.push(`${path} (${why})`);
  };
  for (const f of ['LICENSE', 'README.md', 'build/THIRD_PARTY_NOTICES.md', 'build/native/index.cjs'])
    need(f, 'required');
  for (const dir of ['wasm-node', 'wasm-web']) {
    for (const f of ['m2m_wasm.js', 'm2m_wasm_bg.wasm', 'm2m_wasm.d.ts', 'package.json'])
      need(`build/${dir}/${f}`, 'wasm build');
  }
  for (const e of ENCODINGS) need(`build/ranks/${e}.bpe`, 'rank data');
  for (const f of Object.values(pkg.bin)) need(f, 'bin');
  const targets = (value: unknown): string[] =>
    typeof value === 'string' ? [value] : Object.values(value as Record<string, unknown>).flatMap(targets);
  for (const [subpath, value] of Object.entries(pkg.exports)) {
    for (const target of targets(value)) {
      if (target.includes('*')) {
        const re = new RegExp(`^${target.slice(2).replace(/[.]/g, '\\.').replace('*', '[^/]+')}$`);
        if (!files.some((f) => re.test(f))) problems.push(`${target} (export ${subpath} matches nothing)`);
      } else need(target.slice(2), `export ${subpath}`);
    }
  }
  // Every relative import of the shipped JavaScript and declarations resolves inside the tarball.
  const packageDir = join(work, 'unpacked');
  rmSync(packageDir, { recursive: true, force: true });
  mkdirSync(packageDir);
  execFileSync('tar', ['-xzf', tarballs.main, '-C', packageDir]);
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const f of files.filter((f) => /\.(m?js|cjs|d\.ts|d\.cts)$/.test(f))) {
    const text = readFileSync(join(packageDir, 'package', f), 'utf8');
    for (const m of text.matchAll(specifier)) {
      // napi-rs's loader names every platform's addon; each comes from its own platform package.
      if (/\.node$|wasi/.test(m[1] as string)) continue;
      const target = posix.normalize(posix.join(posix.dirname(f), m[1] as string));
      const candidates = [target, target.replace(/\.js$/, '.d.ts'), target.replace(/\.cjs$/, '.d.cts'), `${target}.js`];
      if (!candidates.some((c) => have.has(c))) problems.push(`${target} (imported by ${f})`);
    }
  }
  // The playground page's own files (its wasm and ranks come from build/ at run time).
  const html = readFileSync(join(packageDir, 'package', 'build/playground/index.html'), 'utf8');
  for (const m of html.matchAll(/(?:src|href)="\.?\/?([^"#:]+)"/g)) need(`build/playground/${m[1]}`, 'playground page');
  for (const f of files) {
    if (f.endsWith('.map')) problems.push(`${f} (a source map of unshipped sources)`);
    if (f.endsWith('.gitignore') || f.startsWith('ts/') || f.startsWith('crates/'))
      problems.push(`${f} (not for the package)`);
  }
  if (problems.length > 0) fail(`${problems.length} problems:\n${problems.join('\n')}`);
  return `${files.length} files checked`;
});

// ---------------------------------------------------------------------------
// A library-only project: the package and its platform package, nothing else.

const lib = join(work, 'lib');
mkdirSync(lib);
writeFileSync(join(lib, 'package.json'), JSON.stringify({ name: 'consumer-lib', private: true, type: 'module' }));
const SERVER_PEERS = Object.keys(pkg.peerDependencies);

/** `npm install` from the local cache when it can (CI's `npm ci` filled it), else the registry. */
function npmInstall(dir: string, specs: string[]): void {
  const args = ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs];
  const offline = spawnSync('npm', [...args, '--offline'], { cwd: dir, encoding: 'utf8' });
  if (offline.status !== 0) run('npm', [...args, '--prefer-offline'], { cwd: dir });
}

/** Apparent size of a folder in bytes (`du -sb`). */
const sizeOf = (dir: string) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);

await row('library-only install: no server dependency installed', () => {
  npmInstall(lib, [tarballs.main, tarballs.platform]);
  const present = SERVER_PEERS.filter((p) => existsSync(join(lib, 'node_modules', p)));
  if (present.length > 0) fail(`installed without being asked for: ${present.join(', ')}`);
  const names =
    execFileSync('npm', ['ls', '--all', '--parseable'], { cwd: lib, encoding: 'utf8' }).trim().split('\n').length - 1;
  return `${names} packages, node_modules ${(sizeOf(join(lib, 'node_modules')) / 1e6).toFixed(1)} MB`;
});

writeFileSync(join(lib, 'esm.mjs'), probeSource("import * as m2m from 'm2m-protocol';"));
writeFileSync(join(lib, 'cjs.cjs'), probeSource("const m2m = require('m2m-protocol');"));
writeFileSync(
  join(lib, 'browser-entry.mjs'),
  probeSource("import * as m2m from 'm2m-protocol/browser';", "await m2m.init({ encodings: ['cl100k_base'] });"),
);
const node22 = bin('node');

for (const [label, node] of [
  ['Node 20', process.execPath],
  ['Node 22', node22],
] as const) {
  await row(`${label} ESM import, native`, () => checkProbe(run(node, ['esm.mjs'], { cwd: lib }), 'native', true));
  await row(`${label} CommonJS require, native`, () =>
    checkProbe(run(node, ['cjs.cjs'], { cwd: lib }), 'native', true),
  );
  await row(`${label} ESM, M2M_BACKEND=wasm`, () =>
    checkProbe(run(node, ['esm.mjs'], { cwd: lib, env: { M2M_BACKEND: 'wasm' } }), 'wasm', true),
  );
}
await row('Node 20 browser entry (m2m-protocol/browser, default init fetching file: URLs)', () => {
  // Node's fetch has no file: URLs, so the default init must fail with a typed error naming the way out.
  const out = spawnSync(process.execPath, ['browser-entry.mjs'], { cwd: lib, encoding: 'utf8' });
  if (out.status === 0) fail('expected a failure: Node fetch cannot read file: URLs');
  if (
    !/M2MError.*(RANK_DATA_UNAVAILABLE|BACKEND_UNAVAILABLE)|code: '(RANK_DATA_UNAVAILABLE|BACKEND_UNAVAILABLE)'/s.test(
      out.stderr,
    )
  )
    fail(`not a typed error: ${out.stderr.slice(0, 400)}`);
  return 'typed error';
});

await row('Node 20 without the addon (platform package removed): wasm, and a clear native error', () => {
  const dir = join(lib, 'node_modules', `${pkg.name}-linux-x64-gnu`);
  renameSync(dir, `${dir}.off`);
  try {
    checkProbe(run(process.execPath, ['esm.mjs'], { cwd: lib }), 'wasm', true);
    const forced = spawnSync(process.execPath, ['esm.mjs'], {
      cwd: lib,
      env: { ...process.env, M2M_BACKEND: 'native' },
      encoding: 'utf8',
    });
    if (forced.status === 0) fail('M2M_BACKEND=native loaded without the addon');
    if (!forced.stderr.includes('BACKEND_UNAVAILABLE') || !forced.stderr.includes('linux-x64'))
      fail(`error does not name the platform: ${forced.stderr.slice(0, 400)}`);
    if (/npm has a bug|set-up command/.test(forced.stderr)) fail('error tells a consumer about npm bugs or the set-up');
    // Neither backend: one error naming the platform and what to do.
    const wasmDir = join(lib, 'node_modules', pkg.name, 'build', 'wasm-node');
    renameSync(wasmDir, `${wasmDir}.off`);
    try {
      const none = spawnSync(process.execPath, ['esm.mjs'], { cwd: lib, encoding: 'utf8' });
      if (none.status === 0 || !/no m2m backend could be loaded on linux-x64-gnu .*reinstall/s.test(none.stderr))
        fail(`without either backend: ${none.stderr.slice(0, 400)}`);
    } finally {
      renameSync(`${wasmDir}.off`, wasmDir);
    }
  } finally {
    renameSync(`${dir}.off`, dir);
  }
  return 'falls back to wasm; M2M_BACKEND=native and a missing wasm build name linux-x64-gnu';
});

// createM2MFetch from the packed package (library-only install), against a node:http peer that decodes the
// wire body and answers with a compressed body: what the gateway does, without fastify.
writeFileSync(
  join(lib, 'fetch.mjs'),
  `import { createServer } from 'node:http';
import { compress, createM2MFetch, decompress, M2M_CONTENT_TYPE } from 'm2m-protocol';
const input = ${JSON.stringify(INPUT)};
let received;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    received = { type: req.headers['content-type'], text: req.headers['content-type'] === M2M_CONTENT_TYPE ? decompress(body) : body, accept: req.headers['x-m2m-accept'] };
    res.writeHead(200, { 'content-type': M2M_CONTENT_TYPE, 'x-m2m-content-type': 'application/json' });
    res.end(compress(input, { algorithm: 'brotli' }).wire);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const res = await createM2MFetch()('http://127.0.0.1:' + server.address().port + '/v1/chat/completions', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: input,
});
const text = await res.text();
server.close();
console.log(JSON.stringify({ sent: received.type, same: received.text === input, accept: received.accept, back: text === input, type: res.headers.get('content-type') }));
`,
);
await row('createM2MFetch (library-only install): compressed request, decoded response', () => {
  const out = run(process.execPath, ['fetch.mjs'], { cwd: lib }).trim().split('\n').at(-1) ?? '';
  const got = JSON.parse(out) as { sent: string; same: boolean; accept: string; back: boolean; type: string };
  if (got.sent !== 'application/vnd.m2m.wire' || !got.same || got.accept !== 'wire')
    fail(`request not sent as an exact wire body: ${out}`);
  if (!got.back || got.type !== 'application/json') fail(`response not decoded: ${out}`);
  return 'request as application/vnd.m2m.wire, response decoded to application/json';
});

await row('CLI (npx m2m) in the library-only install; `m2m server` names its missing dependencies', () => {
  const wire = run(process.execPath, ['node_modules/.bin/m2m', 'compress', '-a', 'token-native', '-'], {
    cwd: lib,
    input: INPUT,
  }).trim();
  if (wire !== EXPECTED.tk) fail(`m2m compress printed ${wire.slice(0, 60)}`);
  const back = run(process.execPath, ['node_modules/.bin/m2m', 'decompress', '-'], { cwd: lib, input: wire });
  if (back.replace(/\n$/, '') !== INPUT) fail('m2m decompress did not round-trip');
  const server = spawnSync(process.execPath, ['node_modules/.bin/m2m', 'server', '--port', '0'], {
    cwd: lib,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (server.status === 0 || !/fastify/.test(server.stderr) || !/npm install/.test(server.stderr))
    fail(`m2m server without fastify: exit ${server.status}, ${server.stderr.slice(0, 300)}`);
  return `server: ${server.stderr.trim().split('\n')[0]?.slice(0, 120)}`;
});

// ---------------------------------------------------------------------------
// Bun and Deno on the same project.

await row('Bun ESM import', () => checkProbe(run(bin('bun'), ['esm.mjs'], { cwd: lib }), 'native', true));
await row('Bun CommonJS require', () => checkProbe(run(bin('bun'), ['cjs.cjs'], { cwd: lib }), 'native', true));
await row('Bun browser entry (default init)', () =>
  checkProbe(run(bin('bun'), ['browser-entry.mjs'], { cwd: lib }), 'wasm', true),
);
const denoEnv = { DENO_DIR: join(work, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' };
await row('Deno ESM import (Node entry)', () =>
  checkProbe(
    run(bin('deno'), ['run', '-A', '--node-modules-dir=manual', 'esm.mjs'], { cwd: lib, env: denoEnv }),
    'native',
    true,
  ),
);
await row('Deno browser entry (default init)', () =>
  checkProbe(
    run(bin('deno'), ['run', '-A', '--node-modules-dir=manual', 'browser-entry.mjs'], { cwd: lib, env: denoEnv }),
    'wasm',
    true,
  ),
);

// ---------------------------------------------------------------------------
// TypeScript: strict, no skipLibCheck, both resolutions.

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const strict = {
  strict: true,
  noEmit: true,
  skipLibCheck: false,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
};
/** Node's resolution (ESM and CommonJS files) with Node's types from the repository. */
const NODENEXT = {
  ...strict,
  module: 'nodenext',
  moduleResolution: 'nodenext',
  target: 'es2022',
  lib: ['es2023'],
  types: ['node'],
  typeRoots: [join(root, 'node_modules', '@types')],
};
writeFileSync(
  join(lib, 'node-check.ts'),
  `import { compress, decompress, M2MError, type CompressResult, useBackend } from 'm2m-protocol';
import { scan } from 'm2m-protocol/security';
import { M2MWorker } from 'm2m-protocol/worker';
const r: CompressResult = compress('hello', { algorithm: 'auto' });
const text: string = decompress(r.wire);
const e: string = new M2MError('INVALID_OPTION', 'y').code;
useBackend('wasm');
export { text, e, scan, M2MWorker };
`,
);
writeFileSync(
  join(lib, 'cjs-check.cts'),
  `import m2m = require('m2m-protocol');
export const wire: string = m2m.compress('hello').wire;
`,
);
writeFileSync(
  join(lib, 'browser-check.ts'),
  `import { init, compress, type InitOptions } from 'm2m-protocol';
import * as direct from 'm2m-protocol/browser';
const options: InitOptions = { encodings: ['cl100k_base'], ranks: { llama3: new Uint8Array(0) } };
await init(options);
await direct.init({ module: new Uint8Array(0) });
export const wire: string = compress('hello').wire;
`,
);
writeFileSync(
  join(lib, 'tsconfig.nodenext.json'),
  JSON.stringify({
    compilerOptions: NODENEXT,
    files: ['node-check.ts', 'cjs-check.cts'],
  }),
);
writeFileSync(
  join(lib, 'tsconfig.bundler.json'),
  JSON.stringify({
    compilerOptions: {
      ...strict,
      module: 'esnext',
      moduleResolution: 'bundler',
      customConditions: ['browser'],
      target: 'es2022',
      lib: ['es2023', 'dom'],
      types: [],
    },
    files: ['browser-check.ts'],
  }),
);
await row('tsc --noEmit, nodenext (ESM and .cts require), strict, no skipLibCheck', () => {
  run(process.execPath, [tsc, '-p', 'tsconfig.nodenext.json'], { cwd: lib });
});
await row('tsc --noEmit, bundler + browser condition, no Node types, strict, no skipLibCheck', () => {
  run(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], { cwd: lib });
});

// ---------------------------------------------------------------------------
// Bundles in Chromium: esbuild (page and Web Worker), Vite build and dev.

const PAGE_PROBE = `
const input = ${JSON.stringify(INPUT)};
function probe(m2m) {
  const tk = m2m.compress(input, { algorithm: 'token-native', encoding: 'cl100k_base' }).wire;
  const br = m2m.compress(input, { algorithm: 'brotli' }).wire;
  return { backend: 'wasm', tk, br, same: m2m.decompress(tk) === input && m2m.decompress(br) === input };
}
function report(value) { document.title = 'done'; window.result = JSON.stringify(value); }
`;
const web = join(lib, 'web');
mkdirSync(web);
writeFileSync(
  join(web, 'page.js'),
  `import * as m2m from 'm2m-protocol';
import { M2MWorker } from 'm2m-protocol/worker';
${PAGE_PROBE}
try {
  const ranks = await (await fetch('./ranks/cl100k_base.bpe')).arrayBuffer();
  await m2m.init({ module: new URL('./m2m_wasm_bg.wasm', location.href), ranks: { cl100k_base: ranks } });
  const page = probe(m2m);
  const worker = new M2MWorker(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }), {
    wasmUrl: '/m2m_wasm_bg.wasm',
    ranksBaseUrl: '/ranks/',
  });
  const viaWorker = (await worker.compress(input, { algorithm: 'token-native', encoding: 'cl100k_base' })).wire;
  report({ ...page, same: page.same && viaWorker === page.tk });
} catch (err) { report({ error: String(err && err.stack || err) }); }
`,
);
writeFileSync(join(web, 'worker.js'), "import 'm2m-protocol/worker';\n");
const html = (script: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>m2m</title></head><body><script type="module" src="${script}"></script></body></html>`;

/** Loads `url` in Chromium and returns what the page reported. */
async function inChromium(url: string): Promise<string> {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page
      .waitForFunction(() => document.title === 'done', undefined, { timeout: 60_000 })
      .catch(() => {
        fail(`page never reported: ${errors.join('; ') || 'no error'}`);
      });
    const result = (await page.evaluate(() => (window as unknown as { result: string }).result)) as string;
    const parsed = JSON.parse(result) as { error?: string };
    if (parsed.error) fail(parsed.error);
    return result;
  } finally {
    await browser.close();
  }
}

await row('esbuild bundle (browser condition, page + Web Worker) in Chromium', async () => {
  const out = join(web, 'out');
  run(
    join(root, 'node_modules', '.bin', 'esbuild'),
    [
      'page.js',
      'worker.js',
      '--bundle',
      '--format=esm',
      '--platform=browser',
      `--outdir=${out}`,
      '--log-level=warning',
    ],
    { cwd: web },
  );
  // The recipe: copy the wasm module and the rank files next to the bundle.
  const pkgDir = join(lib, 'node_modules', pkg.name);
  cpSync(join(pkgDir, 'build', 'wasm-web', 'm2m_wasm_bg.wasm'), join(out, 'm2m_wasm_bg.wasm'));
  cpSync(join(pkgDir, 'build', 'ranks'), join(out, 'ranks'), { recursive: true });
  writeFileSync(join(out, 'index.html'), html('./page.js'));
  const server = await serveStatic(out);
  try {
    return checkProbe(await inChromium(new URL('index.html', server.url).href), 'wasm');
  } finally {
    await server.close();
  }
});

const toolsRequire = createRequire(join(tools, 'noop.js'));
const vite = (await import(pathToFileURL(toolsRequire.resolve('vite')).href)) as typeof import('vite');
const viteApp = join(lib, 'vite-app');
mkdirSync(viteApp);
writeFileSync(join(viteApp, 'index.html'), html('./main.js'));
writeFileSync(
  join(viteApp, 'main.js'),
  `import * as m2m from 'm2m-protocol';
import ranksUrl from 'm2m-protocol/ranks/cl100k_base.bpe?url';
${PAGE_PROBE}
try {
  await m2m.init({ ranks: { cl100k_base: await (await fetch(ranksUrl)).arrayBuffer() } });
  report(probe(m2m));
} catch (err) { report({ error: String(err && err.stack || err) }); }
`,
);
const viteConfig = {
  root: viteApp,
  configFile: false as const,
  logLevel: 'error' as const,
  // The recipe: keep m2m out of dependency pre-bundling, so the wasm glue's `new URL(…, import.meta.url)` stays valid.
  optimizeDeps: { exclude: [pkg.name] },
  build: { target: 'es2022', outDir: join(viteApp, 'dist') },
};
await row('Vite build in Chromium', async () => {
  await vite.build(viteConfig);
  const server = await serveStatic(join(viteApp, 'dist'));
  try {
    return checkProbe(await inChromium(new URL('index.html', server.url).href), 'wasm');
  } finally {
    await server.close();
  }
});
await row('Vite dev server in Chromium', async () => {
  const server = await vite.createServer({ ...viteConfig, server: { host: '127.0.0.1', port: 0, strictPort: false } });
  await server.listen();
  try {
    const url = server.resolvedUrls?.local[0] ?? fail('vite dev server has no URL');
    return checkProbe(await inChromium(url), 'wasm');
  } finally {
    await server.close();
  }
});

// ---------------------------------------------------------------------------
// Cloudflare workerd through miniflare: wasm and rank data as modules.

await row(
  'workerd (miniflare): init({ module, ranks }) from module imports; default init() a typed error',
  async () => {
    const dir = join(lib, 'workerd');
    mkdirSync(dir);
    const pkgDir = join(lib, 'node_modules', pkg.name);
    cpSync(join(pkgDir, 'build', 'wasm-web', 'm2m_wasm_bg.wasm'), join(dir, 'm2m_wasm_bg.wasm'));
    cpSync(join(pkgDir, 'build', 'ranks', 'cl100k_base.bpe'), join(dir, 'cl100k_base.bpe'));
    writeFileSync(
      join(dir, 'entry.js'),
      `import * as m2m from 'm2m-protocol';
import wasm from './m2m_wasm_bg.wasm';
import ranks from './cl100k_base.bpe';
const input = ${JSON.stringify(INPUT)};
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === '/default') {
      try { await m2m.init({ encodings: ['cl100k_base'] }); return Response.json({ code: 'none' }); }
      catch (err) { return Response.json({ name: err.name, code: err.code, message: err.message }); }
    }
    await m2m.init({ module: wasm, ranks: { cl100k_base: ranks } });
    const tk = m2m.compress(input, { algorithm: 'token-native', encoding: 'cl100k_base' }).wire;
    const br = m2m.compress(input, { algorithm: 'brotli' }).wire;
    return Response.json({ backend: 'wasm', tk, br, same: m2m.decompress(tk) === input && m2m.decompress(br) === input });
  },
};
`,
    );
    run(
      join(root, 'node_modules', '.bin', 'esbuild'),
      [
        'entry.js',
        '--bundle',
        '--format=esm',
        '--platform=neutral',
        '--conditions=workerd,worker,browser',
        '--main-fields=module,main',
        '--external:*.wasm',
        '--external:*.bpe',
        '--outfile=worker.js',
        '--log-level=warning',
      ],
      { cwd: dir },
    );
    const { Miniflare } = (await import(pathToFileURL(toolsRequire.resolve('miniflare')).href)) as {
      // miniflare is installed in test/consumer/tools, outside the root's types.
      Miniflare: new (
        options: Record<string, unknown>,
      ) => { dispatchFetch(url: string): Promise<Response>; dispose(): Promise<void> };
    };
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(dir, 'worker.js'),
      modulesRoot: dir,
      modulesRules: [
        { type: 'CompiledWasm', include: ['**/*.wasm'] },
        { type: 'Data', include: ['**/*.bpe'] },
      ],
      compatibilityDate: '2025-01-01',
    });
    try {
      const def = (await (await mf.dispatchFetch('http://localhost/default')).json()) as {
        name: string;
        code: string;
        message: string;
      };
      if (def.name !== 'M2MError' || !['BACKEND_UNAVAILABLE', 'RANK_DATA_UNAVAILABLE'].includes(def.code))
        fail(`default init(): ${JSON.stringify(def)}`);
      const result = await (await mf.dispatchFetch('http://localhost/')).text();
      return `${checkProbe(result, 'wasm')}; default init(): ${def.code}`;
    } finally {
      await mf.dispose();
    }
  },
);

// ---------------------------------------------------------------------------
// With the server's peer dependencies: the server, the fastify plugin, their types.

const srv = join(work, 'server');
mkdirSync(srv);
writeFileSync(join(srv, 'package.json'), JSON.stringify({ name: 'consumer-server', private: true, type: 'module' }));
await row('install with the server peers', () => {
  npmInstall(srv, [
    tarballs.main,
    tarballs.platform,
    ...SERVER_PEERS.map((p) => `${p}@${pkg.devDependencies[p] ?? pkg.peerDependencies[p]}`),
  ]);
  const names =
    execFileSync('npm', ['ls', '--all', '--parseable'], { cwd: srv, encoding: 'utf8' }).trim().split('\n').length - 1;
  return `${names} packages, node_modules ${(sizeOf(join(srv, 'node_modules')) / 1e6).toFixed(1)} MB`;
});
writeFileSync(
  join(srv, 'plugin.mjs'),
  `import Fastify from 'fastify';
import { m2mPlugin } from 'm2m-protocol/fastify';
import { startServer } from 'm2m-protocol/server';
const input = ${JSON.stringify(INPUT)};
const post = async (url, body) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
const app = Fastify();
app.get('/mine', async () => ({ mine: true }));
await app.register(m2mPlugin, { prefix: '/m2m' });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = 'http://127.0.0.1:' + app.server.address().port;
const tk = (await post(base + '/m2m/v1/compress', { content: input, algorithm: 'token-native' })).wire;
const br = (await post(base + '/m2m/v1/compress', { content: input, algorithm: 'brotli' })).wire;
const back = (await post(base + '/m2m/v1/decompress', { wire: tk })).content;
const mine = (await (await fetch(base + '/mine')).json()).mine;
const missing = await (await fetch(base + '/m2m/nope')).status;
await app.close();
const server = await startServer({ port: 0, logLevel: false });
const viaServer = (await post(server.url + '/v1/compress', { content: input, algorithm: 'token-native' })).wire;
// Past the default offload size (16 KiB): compressed and decoded on the server's worker threads.
const large = input.repeat(Math.ceil(40000 / input.length));
const largeWire = (await post(server.url + '/v1/compress', { content: large, algorithm: 'brotli' })).wire;
const largeBack = (await post(server.url + '/v1/decompress', { wire: largeWire })).content;
const page = await (await fetch(server.url + '/')).text();
const wasm = await fetch(server.url + '/m2m_wasm_bg.wasm');
await server.close();
console.log(JSON.stringify({ backend: 'native', tk, br, same: back === input && mine === true && missing === 404 && viaServer === tk && largeBack === large && page.includes('<html') && wasm.ok }));
`,
);
await row('fastify plugin in a user app, and startServer() with the playground and its worker threads', () =>
  checkProbe(run(process.execPath, ['plugin.mjs'], { cwd: srv }), 'native'),
);
writeFileSync(
  join(srv, 'server-check.ts'),
  `import Fastify from 'fastify';
import { m2mPlugin, type M2MPluginOptions } from 'm2m-protocol/fastify';
import { startServer, type RunningServer } from 'm2m-protocol/server';
import { M2MClient } from 'm2m-protocol/session';
const options: M2MPluginOptions = { prefix: '/m2m', security: { mode: 'blocking' } };
const app = Fastify();
await app.register(m2mPlugin, options);
const running: RunningServer = await startServer({ port: 0 });
export { running, M2MClient };
`,
);
writeFileSync(
  join(srv, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: NODENEXT,
    files: ['server-check.ts'],
  }),
);
await row('tsc --noEmit of the server, fastify and session subpaths (nodenext, strict, no skipLibCheck)', () => {
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: srv });
});

// ---------------------------------------------------------------------------

if (!keep) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
const failed = rows.filter((r) => !r.ok).length;
console.log(`\nconsumer suite: ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`consumer: ${rows.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
