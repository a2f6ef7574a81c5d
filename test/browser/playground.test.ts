/**
 * End-to-end: the playground (build/playground, rebuilt here) in headless
 * Debian Chromium driven by playwright-core. Checks the UI, that the browser's
 * wasm build produces exactly Node's wire output, lazy loading of rank data,
 * the narrow layout, and records screenshots and load metrics (no timing
 * assertions). Fails — never skips — when Chromium is missing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../playground/examples.js';
import type {} from '../../playground/hooks.js';
import { compress, countTokens, decompress, type Encoding, M2MError } from '../../ts/index.js';
import { type Chromium, launchChromium } from './chromium.js';
import { type StaticServer, serveStatic } from './static-server.js';

const root = resolve(import.meta.dirname, '../..');
const siteDir = join(root, 'build/playground');
const artifacts = join(root, 'build/test-artifacts');

type Algo = 'token-native' | 'brotli' | 'dictionary' | 'token' | 'auto';
const ALGOS: Algo[] = ['token-native', 'brotli', 'dictionary', 'token', 'auto'];
const ENCODINGS: Encoding[] = ['cl100k_base', 'o200k_base', 'llama3'];

const example = (id: string) => {
  const found = EXAMPLES.find((e) => e.id === id);
  if (!found) throw new Error(`no example ${id}`);
  return found.content;
};

/** Inputs whose wire output must be identical in the browser and in Node. */
const PARITY_INPUTS: string[] = [
  example('request'),
  example('tools'),
  example('response'),
  example('chunk'),
  example('unicode'),
  example('text'),
  'Emoji only: 👩🏽‍💻🎉🇵🇹 — and ZWJ families 👨‍👩‍👧‍👦 and flags 🇯🇵🇧🇷, then 東京 and مرحبا.',
  '{"note":"special-token text <|endoftext|> and <|begin_of_text|> stays text","x":"\u0080\u0083\u0087 reserved"}',
  '',
  JSON.stringify({
    model: 'gpt-4o',
    messages: Array.from({ length: 120 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user',
      content: `Message ${i}: the quick brown fox jumps over the lazy dog ✓ ${'é'.repeat(i % 7)}`,
    })),
  }),
];

type Outcome = { wire: string; algorithm: string } | { error: string };

function nodeOutcome(content: string, algorithm: Algo, encoding: Encoding): Outcome {
  try {
    const r = compress(content, { algorithm, encoding });
    return { wire: r.wire, algorithm: r.algorithm };
  } catch (err) {
    if (err instanceof M2MError) return { error: err.code };
    throw err;
  }
}

interface Case {
  content: string;
  algorithm: Algo;
  encoding: Encoding;
}

function parityCases(): Case[] {
  const cases: Case[] = [];
  for (const content of PARITY_INPUTS) {
    for (const algorithm of ALGOS) {
      const encodings = algorithm === 'token-native' || algorithm === 'auto' ? ENCODINGS : ['cl100k_base' as const];
      for (const encoding of encodings) cases.push({ content, algorithm, encoding });
    }
  }
  return cases;
}

async function waitForRun(page: Page, after: number): Promise<number> {
  await page.waitForFunction(
    (n) => document.body.dataset.state === 'ready' && Number(document.body.dataset.run ?? 0) > n,
    after,
  );
  return page.evaluate(() => Number(document.body.dataset.run));
}

const currentRun = (page: Page) => page.evaluate(() => Number(document.body.dataset.run ?? 0));

let browser: Chromium;
let server: StaticServer;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  // Rebuild the site (fast) so the test runs against the current sources.
  execFileSync('bash', [join(root, 'scripts/build-playground.sh')], { cwd: root, stdio: 'pipe' });
  mkdirSync(artifacts, { recursive: true });
  server = await serveStatic(siteDir);
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('playground in headless Chromium', () => {
  it('loads, compresses the first example through the worker, and fetches only one encoding', async () => {
    const start = server.log.length;
    await page.goto(server.url);
    await waitForRun(page, 0);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.locator('.card').count()).toBe(5);
    for (const algorithm of ['token-native', 'brotli', 'dictionary', 'none']) {
      expect(await page.getAttribute(`.card[data-algorithm="${algorithm}"] [data-roundtrip]`, 'data-roundtrip')).toBe(
        'exact',
      );
    }
    expect(['exact', 'json']).toContain(
      await page.getAttribute('.card[data-algorithm="token"] [data-roundtrip]', 'data-roundtrip'),
    );
    // The UI's wire strings are Node's.
    const input = await page.inputValue('#input');
    for (const algorithm of ['token-native', 'brotli', 'dictionary', 'token'] as const) {
      const wire = await page.textContent(`.card[data-algorithm="${algorithm}"] [data-wire]`);
      expect(wire, algorithm).toBe(compress(input, { algorithm, encoding: 'cl100k_base' }).wire);
    }
    // The chart has a bar per algorithm and metric.
    expect(await page.locator('#chart svg rect.bar-bytes').count()).toBe(1 + 5);
    // Lazy loading: the default encoding's rank data only.
    const fetched = server.log.slice(start).map((r) => r.path);
    expect(fetched).toContain('/ranks/cl100k_base.bpe');
    expect(fetched).not.toContain('/ranks/o200k_base.bpe');
    expect(fetched).not.toContain('/ranks/llama3.bpe');
    expect(server.log.slice(start).filter((r) => r.status !== 200)).toEqual([]);
    await page.screenshot({ path: join(artifacts, 'playground.png'), fullPage: true });
  });

  it('highlights Unicode tokens, switches encoding lazily and decompresses through the UI', async () => {
    const start = server.log.length;
    let run = await currentRun(page);
    await page.selectOption('#encoding', 'llama3');
    run = await waitForRun(page, run);
    await page.selectOption('#example', 'unicode');
    run = await waitForRun(page, run);
    expect(server.log.slice(start).map((r) => r.path)).toContain('/ranks/llama3.bpe');

    const input = example('unicode');
    expect(await page.inputValue('#input')).toBe(input);
    const spans = await page.$$eval('#tokens > span', (els) =>
      els.map((el) => ({ text: el.textContent ?? '', cls: el.className, title: el.getAttribute('title') ?? '' })),
    );
    // The token texts put together are the input; backgrounds alternate.
    expect(spans.map((s) => s.text).join('')).toBe(input);
    spans.forEach((s, i) => {
      expect(s.cls.split(' ')[0]).toBe(`t${i % 2}`);
    });
    // Some emoji span several tokens and were grouped until they decoded.
    expect(spans.some((s) => s.cls.includes('multi'))).toBe(true);
    const ids = spans.flatMap((s) => (s.title.match(/\d+/g) ?? []).map(Number));
    expect(ids.length).toBe(countTokens(input, 'llama3'));
    expect(await page.textContent('#tokens-count')).toContain(`${countTokens(input, 'llama3')} tokens`);

    // Decompress a card's wire through the decode panel.
    await page.click('.card[data-algorithm="token-native"] [data-action="decode"]');
    await page.waitForFunction(() => document.querySelector('#decoded')?.getAttribute('data-algorithm'));
    expect(await page.textContent('#decoded')).toBe(input);
    expect(await page.getAttribute('#decoded', 'data-algorithm')).toBe('token-native');

    // A wire string made by Node, pasted into the panel.
    const brotli = compress(input, { algorithm: 'brotli' }).wire;
    await page.fill('#wire', brotli);
    await page.click('#decompress');
    await page.waitForFunction(() => document.querySelector('#decoded')?.getAttribute('data-algorithm') === 'brotli');
    expect(await page.textContent('#decoded')).toBe(input);

    // A broken wire string: the error code in plain words.
    await page.fill('#wire', '#TK|C|@@not-base64@@');
    await page.click('#decompress');
    await page.waitForFunction(() => document.querySelector('#decoded')?.classList.contains('error'));
    expect(await page.textContent('#decoded')).toMatch(/^INVALID_BASE64: /);
  });

  it('produces the same wire output as Node (main-thread library and worker)', async () => {
    const cases = parityCases();
    const inBrowser = await page.evaluate(async (list) => {
      const pg = window.m2mPlayground;
      const lib = await pg.loadLibrary(['cl100k_base', 'o200k_base', 'llama3']);
      const main: unknown[] = [];
      const worker: unknown[] = [];
      for (const c of list) {
        const opts = { algorithm: c.algorithm, encoding: c.encoding };
        try {
          const r = lib.compress(c.content, opts);
          main.push({ wire: r.wire, algorithm: r.algorithm, back: lib.decompress(r.wire) });
        } catch (err) {
          main.push({ error: (err as { code?: string }).code ?? String(err) });
        }
        try {
          const r = await pg.client.compress(c.content, opts);
          worker.push({ wire: r.wire, algorithm: r.algorithm, back: (await pg.client.decompress(r.wire)).text });
        } catch (err) {
          worker.push({ error: (err as { code?: string }).code ?? String(err) });
        }
      }
      return { main, worker };
    }, cases);
    let compared = 0;
    cases.forEach((c, i) => {
      const expected = nodeOutcome(c.content, c.algorithm, c.encoding);
      const label = `${c.algorithm}/${c.encoding} on ${JSON.stringify(c.content.slice(0, 40))}`;
      for (const [where, got] of [
        ['main thread', inBrowser.main[i]],
        ['worker', inBrowser.worker[i]],
      ] as const) {
        const { back, ...outcome } = got as { back?: string };
        expect(outcome, `${where}: ${label}`).toEqual(expected);
        if ('wire' in expected) {
          // The browser decodes its wire to what Node decodes it to.
          expect(back, `${where} round trip: ${label}`).toBe(decompress(expected.wire));
          if (expected.algorithm !== 'token') expect(back).toBe(c.content);
        }
        compared++;
      }
    });
    expect(compared).toBe(cases.length * 2);
  });

  it('explains why T1 cannot encode non-JSON text', async () => {
    const run = await currentRun(page);
    await page.selectOption('#example', 'text');
    await waitForRun(page, run);
    const err = page.locator('.card[data-algorithm="token"] .err');
    expect(await err.getAttribute('data-error-code')).toBe('INVALID_JSON');
    expect(await err.textContent()).toMatch(/^INVALID_JSON: T1 only encodes JSON/);
    expect(await page.getAttribute('.card[data-algorithm="brotli"] [data-roundtrip]', 'data-roundtrip')).toBe('exact');
    // The chart marks T1 as not applicable.
    expect(await page.locator('#chart svg text.na').count()).toBe(1);
  });

  it('lists the threats the security scan finds', async () => {
    let run = await currentRun(page);
    await page.selectOption('#example', 'injection');
    run = await waitForRun(page, run);
    expect(await page.getAttribute('#scan [data-safe]', 'data-safe')).toBe('false');
    const types = await page.$$eval('#scan [data-threat]', (els) => els.map((el) => el.getAttribute('data-threat')));
    expect(types).toContain('PROMPT_INJECTION');
    // Typing into the input re-runs everything (debounced).
    await page.fill('#input', '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello! 👋"}]}');
    run = await waitForRun(page, run);
    expect(await page.getAttribute('#scan [data-safe]', 'data-safe')).toBe('true');
    expect(await page.inputValue('#example')).toBe('');
  });

  it('has no horizontal overflow at 390 px', async () => {
    let run = await currentRun(page);
    await page.selectOption('#example', 'tools');
    run = await waitForRun(page, run);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => {
      const svg = document.querySelector('#chart svg');
      return svg !== null && Number(svg.getAttribute('width')) <= 390;
    });
    const overflow = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const wide = Array.from(document.querySelectorAll('body *'))
        .filter((el) => el.getBoundingClientRect().right > vw + 0.5)
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}`);
      return { scrollWidth: document.documentElement.scrollWidth, vw, wide: wide.slice(0, 10) };
    });
    expect(overflow.wide).toEqual([]);
    expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.vw);
    await page.selectOption('#example', 'injection');
    await waitForRun(page, run);
    await page.screenshot({ path: join(artifacts, 'playground-narrow.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('records transfer size and time to first compression (no thresholds)', async () => {
    const loads = 5;
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    const measure = async (label: string, cacheDisabled: boolean) => {
      await cdp.send('Network.setCacheDisabled', { cacheDisabled });
      const times: number[] = [];
      let requests: string[] = [];
      for (let i = 0; i < loads; i++) {
        const start = server.log.length;
        await page.goto(`${server.url}?${label}=${i}`);
        await page.waitForFunction(() => window.m2mPlayground?.firstCompressionMs() !== undefined);
        times.push(await page.evaluate(() => window.m2mPlayground.firstCompressionMs() as number));
        if (i === 0) requests = server.log.slice(start).map((r) => r.path);
      }
      return { times, requests };
    };
    const cold = await measure('cold', true);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    await cdp.detach();

    // Each file once (with the cache off, the page and the worker each fetch the shared chunks).
    const files = [...new Set(cold.requests)].map((path) => {
      const data = readFileSync(join(siteDir, path === '/' ? 'index.html' : path));
      return { path, bytes: data.length, gzip: gzipSync(data).length };
    });
    const kinds: Record<string, (path: string) => boolean> = {
      js: (p) => p.endsWith('.js'),
      wasm: (p) => p.endsWith('.wasm'),
      ranks: (p) => p.endsWith('.bpe'),
      'html+css': (p) => !/\.(js|wasm|bpe)$/.test(p),
      all: () => true,
    };
    const sizes = Object.fromEntries(
      Object.entries(kinds).map(([k, f]) => {
        const some = files.filter((r) => f(r.path));
        return [k, { raw: some.reduce((n, r) => n + r.bytes, 0), gzip: some.reduce((n, r) => n + r.gzip, 0) }];
      }),
    );
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    const metrics = {
      note: 'first page load, HTTP cache off, up to the first compression result (default example, cl100k_base); gzip = node zlib level 6',
      files,
      sizes,
      firstCompressionMs: cold.times.map(Math.round),
      firstCompressionMeanMs: mean(cold.times),
    };
    writeFileSync(join(artifacts, 'playground-metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    console.log('playground metrics', JSON.stringify({ sizes, firstCompressionMs: metrics.firstCompressionMs }));
    expect(files.map((f) => f.path)).toContain('/ranks/cl100k_base.bpe');
    expect(files.filter((f) => f.path.endsWith('.bpe'))).toHaveLength(1);
    expect(cold.times.every((t) => t > 0)).toBe(true);
  });

  it('reported no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('package exports for bundlers', () => {
  it('resolves "m2m-protocol" to the browser entry under the browser condition', async () => {
    const resolveWith = async (platform: 'browser' | 'node') => {
      let resolved = '';
      await esbuild.build({
        stdin: { contents: "import 'm2m-protocol';", resolveDir: root },
        bundle: true,
        write: false,
        platform,
        logLevel: 'silent',
        plugins: [
          {
            name: 'probe',
            setup(build) {
              build.onResolve({ filter: /^m2m-protocol$/ }, async (args) => {
                if (args.pluginData === 'probe') return undefined;
                const r = await build.resolve('m2m-protocol', {
                  kind: args.kind,
                  resolveDir: args.resolveDir,
                  pluginData: 'probe',
                });
                resolved = r.path;
                return { path: 'probe', namespace: 'probe' };
              });
              build.onLoad({ filter: /.*/, namespace: 'probe' }, () => ({ contents: '' }));
            },
          },
        ],
      });
      return resolved;
    };
    expect(await resolveWith('browser')).toBe(join(root, 'dist/browser.js'));
    expect(await resolveWith('node')).toBe(join(root, 'dist/index.js'));
  });
});
