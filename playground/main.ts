/**
 * The m2m playground page. All m2m work runs in a Web Worker (ts/worker.ts);
 * this file only renders. The wasm module and the rank data of the chosen
 * encoding load on first use.
 */
import type { Algorithm, AlgorithmReport, Analysis, CompressResult } from '../ts/codec/codec.js';
import type { Encoding } from '../ts/core/encoding.js';
import { M2MError } from '../ts/core/errors.js';
import type { ScanResult, Threat } from '../ts/security/types.js';
import { M2MWorker, type TokenSegment } from '../ts/worker.js';
import { EXAMPLES } from './examples.js';
import type {} from './hooks.js';

const ALGORITHMS: readonly Algorithm[] = ['token-native', 'token', 'brotli', 'dictionary', 'none'];

const ALGORITHM_INFO: Record<Algorithm, { title: string; prefix: string; about: string }> = {
  'token-native': { title: 'TokenNative', prefix: '#TK|', about: 'token ids, varint + base64' },
  token: { title: 'T1', prefix: '#T1|', about: 'JSON key and value abbreviation' },
  brotli: { title: 'Brotli', prefix: '#BR|', about: 'Brotli, base64' },
  dictionary: { title: 'Dictionary', prefix: '#DI|', about: 'common JSON patterns as single codes' },
  none: { title: 'None', prefix: '(passthrough)', about: 'the content as it is' },
};

/** Most tokens drawn in the token view (a huge input would make the page sluggish). */
const MAX_TOKENS_SHOWN = 20_000;

const base = new URL('./', import.meta.url);
const client = new M2MWorker(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }), {
  wasmUrl: new URL('m2m_wasm_bg.wasm', base).href,
  ranksBaseUrl: new URL('ranks/', base).href,
});

// ---------------------------------------------------------------------------
// Elements

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

const els = {
  error: $('error'),
  status: $('status'),
  example: $<HTMLSelectElement>('example'),
  encoding: $<HTMLSelectElement>('encoding'),
  optimize: $<HTMLSelectElement>('optimize'),
  file: $<HTMLInputElement>('file'),
  input: $<HTMLTextAreaElement>('input'),
  summary: $('summary'),
  chart: $('chart'),
  algorithms: $('algorithms'),
  tokens: $('tokens'),
  tokensCount: $('tokens-count'),
  scan: $('scan'),
  scanSummary: $('scan-summary'),
  wire: $<HTMLTextAreaElement>('wire'),
  decompress: $<HTMLButtonElement>('decompress'),
  decodeInfo: $('decode-info'),
  decoded: $('decoded'),
};

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const fmt = (n: number) => n.toLocaleString('en-US');
/** A saving in percent: positive is smaller than the original, negative (in red) larger. */
const savedPercent = (p: number) => `${p < 0 ? '−' : ''}${Math.abs(p).toFixed(1)}%`;

/** An error in plain words: `CODE: message`. */
function describe(err: unknown): { code: string; message: string } {
  if (err instanceof M2MError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'ERROR', message: err.message };
  return { code: 'ERROR', message: String(err) };
}

function showError(err: unknown | null): void {
  if (err === null) {
    els.error.hidden = true;
    els.error.textContent = '';
    return;
  }
  const { code, message } = describe(err);
  els.error.replaceChildren(h('strong', { text: 'Something went wrong. ' }), `${code}: ${message}`);
  els.error.hidden = false;
}

function setStatus(text: string, busy = false): void {
  els.status.textContent = text;
  els.status.classList.toggle('busy', busy);
}

// ---------------------------------------------------------------------------
// One run: analyze, compress with each algorithm, round-trip, tokens, scan.

interface AlgorithmRun {
  algorithm: Algorithm;
  report: AlgorithmReport | undefined;
  result?: CompressResult;
  roundTrip?: string;
  error?: { code: string; message: string };
}

interface Run {
  content: string;
  encoding: Encoding;
  analysis: Analysis;
  algorithms: AlgorithmRun[];
  segments: TokenSegment[];
  scan: ScanResult;
}

async function runAlgorithm(content: string, encoding: Encoding, report: AlgorithmReport | undefined) {
  const algorithm = report?.algorithm ?? 'none';
  const out: AlgorithmRun = { algorithm, report };
  try {
    out.result = await client.compress(content, { algorithm, encoding, countTokens: true });
    out.roundTrip = (await client.decompress(out.result.wire)).text;
  } catch (err) {
    out.error = describe(err);
  }
  return out;
}

async function analyzeAll(content: string, encoding: Encoding, optimize: 'bytes' | 'tokens'): Promise<Run> {
  const [analysis, segments, scan] = await Promise.all([
    client.analyze(content, { encoding, optimize }),
    client.tokenize(content, encoding),
    client.scan(content),
  ]);
  const algorithms = await Promise.all(
    ALGORITHMS.map((a) =>
      runAlgorithm(
        content,
        encoding,
        analysis.algorithms.find((r) => r.algorithm === a),
      ),
    ),
  );
  return { content, encoding, analysis, algorithms, segments, scan };
}

// ---------------------------------------------------------------------------
// Rendering

function renderSummary(run: Run): void {
  const { analysis } = run;
  const auto = run.algorithms.find((a) => a.algorithm === analysis.auto);
  const item = (label: string, value: string) => h('span', {}, `${label} `, h('b', { text: value }));
  els.summary.replaceChildren(
    item('Original:', `${fmt(analysis.originalBytes)} bytes`),
    item('Tokens:', `${fmt(analysis.originalTokens)} (${analysis.encoding})`),
    item(`Auto (${els.optimize.value}) picks:`, ALGORITHM_INFO[analysis.auto].title),
  );
  if (auto?.result) els.summary.append(item('Auto wire:', `${fmt(auto.result.wireBytes)} bytes`));
  if (analysis.auto === 'none' && analysis.originalBytes < analysis.minSize) {
    els.summary.append(
      h('span', {
        class: 'why',
        text: `Auto passes content under ${fmt(analysis.minSize)} bytes through unchanged: on so little, a codec's prefix and framing cost more than it saves (minSize).`,
      }),
    );
  }
}

let lastRun: Run | undefined;

function renderChart(run: Run): void {
  const width = Math.max(280, Math.round(els.chart.clientWidth || 600));
  const labelW = width < 420 ? 96 : 116;
  const valueW = width < 420 ? 40 : 130;
  const barArea = width - labelW - valueW - 8;
  const barH = 11;
  const rowH = barH * 2 + 14;
  const top = 38;
  const height = top + rowH * run.algorithms.length + 4;
  const { originalBytes, originalTokens } = run.analysis;
  const pct = (part: number | undefined, whole: number) =>
    part === undefined ? undefined : whole === 0 ? 100 : (part / whole) * 100;
  const rows = run.algorithms.map((a) => ({
    a,
    bytes: a.report?.ok ? pct(a.report.wireBytes, originalBytes) : undefined,
    tokens: a.report?.ok ? pct(a.report.wireTokens, originalTokens) : undefined,
  }));
  const max = Math.max(100, ...rows.flatMap((r) => [r.bytes ?? 0, r.tokens ?? 0])) * 1.04;
  const x = (p: number) => labelW + (p / max) * barArea;

  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'Wire bytes and tokens of each algorithm, as a percentage of the original',
  });
  // Legend and the 100% line.
  svg.append(
    s('rect', { x: labelW, y: 4, width: 10, height: 10, class: 'bar-bytes', rx: 2 }),
    s('text', { x: labelW + 14, y: 13, class: 'value' }, 'bytes'),
    s('rect', { x: labelW + 60, y: 4, width: 10, height: 10, class: 'bar-tokens', rx: 2 }),
    s('text', { x: labelW + 74, y: 13, class: 'value' }, 'tokens'),
    s('line', { x1: x(100), x2: x(100), y1: top - 4, y2: height - 2, class: 'ref' }),
    s('text', { x: x(100), y: top - 8, class: 'value', 'text-anchor': 'middle' }, 'original = 100%'),
  );
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const info = ALGORITHM_INFO[r.a.algorithm];
    const isAuto = run.analysis.auto === r.a.algorithm;
    svg.append(
      s(
        'text',
        { x: 0, y: y + barH + 5, class: 'label', 'font-weight': isAuto ? 700 : 400 },
        info.title + (isAuto && width >= 420 ? ' ★' : ''),
      ),
    );
    if (r.bytes === undefined || r.tokens === undefined) {
      svg.append(
        s(
          'text',
          { x: labelW, y: y + barH + 5, class: 'na' },
          `not applicable (${r.a.report?.error?.code ?? 'error'})`,
        ),
      );
      return;
    }
    const bars: [number, string, number, number | undefined][] = [
      [r.bytes, 'bar-bytes', y, r.a.report?.wireBytes],
      [r.tokens, 'bar-tokens', y + barH + 2, r.a.report?.wireTokens],
    ];
    for (const [p, cls, by, abs] of bars) {
      svg.append(s('rect', { x: labelW, y: by, width: Math.max(1, x(p) - labelW), height: barH, rx: 2, class: cls }));
      svg.append(
        s(
          'text',
          { x: x(p) + 4, y: by + barH - 1.5, class: 'value' },
          `${Math.round(p)}%${width >= 420 ? ` (${fmt(abs ?? 0)})` : ''}`,
        ),
      );
    }
  });
  els.chart.replaceChildren(svg);
}

function metric(label: string, value: string, cls = ''): HTMLElement {
  return h('div', {}, h('dt', { text: label }), h('dd', { text: value, class: cls }));
}

function savedClass(p: number | undefined): string {
  return p === undefined ? '' : p > 0 ? 'saved-pos' : p < 0 ? 'saved-neg' : '';
}

function renderCards(run: Run): void {
  const cards = run.algorithms.map((a) => {
    const info = ALGORITHM_INFO[a.algorithm];
    const isAuto = run.analysis.auto === a.algorithm;
    const card = h('article', { class: `card${isAuto ? ' auto' : ''}`, 'data-algorithm': a.algorithm });
    const head = h(
      'div',
      { class: 'card-head' },
      h('h3', { text: info.title }),
      h('code', { text: info.prefix }),
      isAuto ? h('span', { class: 'badge auto', text: 'auto’s pick' }) : null,
    );
    card.append(head, h('div', { class: 'note', text: info.about }));
    if (a.error || !a.result) {
      const err = a.error ?? { code: 'ERROR', message: 'no result' };
      head.append(h('span', { class: 'badge bad', text: 'cannot encode' }));
      card.append(
        h(
          'div',
          { class: 'err', 'data-error-code': err.code },
          h('strong', { text: `${err.code}: ` }),
          plainWords(a.algorithm, err),
        ),
      );
      return card;
    }
    const exact = a.roundTrip === run.content;
    let badge: HTMLElement;
    if (exact) badge = h('span', { class: 'badge good', 'data-roundtrip': 'exact', text: 'round-trip ✓' });
    else if (a.algorithm === 'token' && sameJson(a.roundTrip, run.content))
      badge = h('span', {
        class: 'badge warn',
        'data-roundtrip': 'json',
        text: 'round-trip: same JSON',
        title: 'T1 keeps the JSON value and key order but may drop whitespace and documented defaults',
      });
    else badge = h('span', { class: 'badge bad', 'data-roundtrip': 'mismatch', text: 'round-trip ✗' });
    head.append(badge);
    const r = a.report;
    card.append(
      h(
        'dl',
        { class: 'metrics' },
        metric('Wire bytes', fmt(a.result.wireBytes)),
        metric(
          'Saved bytes',
          r?.savedBytesPercent === undefined ? '–' : savedPercent(r.savedBytesPercent),
          savedClass(r?.savedBytesPercent),
        ),
        metric('Wire tokens', a.result.wireTokens === undefined ? '–' : fmt(a.result.wireTokens)),
        metric(
          'Saved tokens',
          r?.savedTokensPercent === undefined ? '–' : savedPercent(r.savedTokensPercent),
          savedClass(r?.savedTokensPercent),
        ),
      ),
    );
    const wire = h('pre', { class: 'wire', 'data-wire': '', tabindex: '0' });
    wire.append(withVisibleControls(a.result.wire));
    const copy = h('button', { type: 'button', class: 'small', text: 'Copy' });
    copy.addEventListener('click', () => {
      void navigator.clipboard?.writeText(a.result?.wire ?? '').then(
        () => flash(copy, 'Copied'),
        () => flash(copy, 'Copy failed'),
      );
    });
    const decode = h('button', { type: 'button', class: 'small', text: 'Decompress ↓', 'data-action': 'decode' });
    decode.addEventListener('click', () => {
      els.wire.value = a.result?.wire ?? '';
      void decodeWire();
      els.wire.scrollIntoView({ behavior: 'smooth', block: 'center' });
    });
    card.append(wire, h('div', { class: 'row' }, copy, decode));
    return card;
  });
  els.algorithms.replaceChildren(...cards);
}

/**
 * The text with control characters (the dictionary coder's U+0080..U+0087
 * codes, newlines of T1...) shown as small labels. The characters themselves
 * stay in the DOM, so the element's text and a copy are the exact wire string.
 */
function withVisibleControls(text: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const re = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    const i = m.index ?? 0;
    if (i > last) frag.append(text.slice(last, i));
    const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
    frag.append(h('span', { class: 'ctl', 'data-label': code, title: `U+00${code}` }, m[0]));
    last = i + 1;
  }
  if (last < text.length) frag.append(text.slice(last));
  return frag;
}

function flash(button: HTMLButtonElement, text: string): void {
  const old = button.textContent;
  button.textContent = text;
  setTimeout(() => {
    button.textContent = old;
  }, 1200);
}

function sameJson(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** A short explanation for the errors a user meets most. */
function plainWords(algorithm: Algorithm, err: { code: string; message: string }): string {
  if (err.code === 'INVALID_JSON' && algorithm === 'token')
    return `T1 only encodes JSON, and this input is not valid JSON (${err.message}).`;
  if (err.code === 'ENCODING_NOT_LOADED' || err.code === 'RANK_DATA_UNAVAILABLE')
    return `The tokenizer data could not be loaded (${err.message}).`;
  return err.message;
}

function renderTokens(run: Run): void {
  const shown = run.segments.slice(0, MAX_TOKENS_SHOWN);
  const frag = document.createDocumentFragment();
  shown.forEach((seg, i) => {
    const span = document.createElement('span');
    span.className = seg.ids.length > 1 ? `t${i % 2} multi` : `t${i % 2}`;
    span.textContent = seg.text;
    span.title =
      seg.ids.length > 1 ? `ids ${seg.ids.join(', ')} (one character split across tokens)` : `id ${seg.ids[0]}`;
    frag.append(span);
  });
  if (run.segments.length > shown.length) {
    frag.append(
      h('div', { class: 'note', text: `… ${fmt(run.segments.length - shown.length)} more tokens not shown` }),
    );
  }
  els.tokens.replaceChildren(frag);
  const tokenCount = run.segments.reduce((n, seg) => n + seg.ids.length, 0);
  els.tokensCount.textContent = `${fmt(tokenCount)} tokens, ${run.encoding}; hover a token for its id`;
}

function renderScan(run: Run): void {
  const { scan } = run;
  const above = scan.threats.filter((t) => t.confidence >= scan.threshold);
  els.scanSummary.textContent = `threshold ${scan.threshold}; ${fmt(scan.scannedBytes)} bytes scanned`;
  if (scan.threats.length === 0) {
    els.scan.replaceChildren(h('p', { class: 'safe', 'data-safe': 'true', text: '✓ No threats found.' }));
    return;
  }
  const head = scan.safe
    ? h('p', {
        class: 'safe',
        'data-safe': 'true',
        text: `✓ Safe: ${scan.threats.length} low-confidence finding(s) below the threshold.`,
      })
    : h(
        'p',
        { class: 'err', 'data-safe': 'false' },
        h('strong', { text: `⚠ ${above.length} threat(s) at or above the threshold.` }),
      );
  const list = h('ul', { class: 'threats' }, ...scan.threats.map(renderThreat));
  els.scan.replaceChildren(head, list);
}

function renderThreat(t: Threat): HTMLElement {
  const sevClass = t.severity === 'high' || t.severity === 'critical' ? 'bad' : t.severity === 'medium' ? 'warn' : '';
  const where = [
    t.evidence.field ? `in ${t.evidence.field}` : null,
    `at ${t.evidence.offset}`,
    t.evidence.decodedFrom ? `decoded from ${t.evidence.decodedFrom}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  return h(
    'li',
    { class: `threat sev-${t.severity}`, 'data-threat': t.type },
    h(
      'div',
      { class: 'what' },
      h('span', { text: t.type.replaceAll('_', ' ').toLowerCase() }),
      h('span', { class: `badge ${sevClass}`, text: t.severity }),
      h('span', { class: 'badge', text: `${Math.round(t.confidence * 100)}% sure` }),
    ),
    h('div', {}, h('q', { text: t.evidence.match })),
    h('div', { class: 'note' }, `${where} · rule `, h('code', { text: t.rule })),
  );
}

function render(run: Run): void {
  lastRun = run;
  renderSummary(run);
  renderChart(run);
  renderCards(run);
  renderTokens(run);
  renderScan(run);
}

// ---------------------------------------------------------------------------
// Driving

let runCounter = 0;
let firstCompressionMs: number | undefined;

async function update(): Promise<void> {
  const id = ++runCounter;
  const content = els.input.value;
  const encoding = els.encoding.value as Encoding;
  document.body.dataset.state = 'busy';
  setStatus(`Compressing with ${encoding}…`, true);
  try {
    const run = await analyzeAll(content, encoding, els.optimize.value === 'tokens' ? 'tokens' : 'bytes');
    if (id !== runCounter) return; // a newer edit is on its way
    render(run);
    showError(null);
    if (firstCompressionMs === undefined) {
      firstCompressionMs = performance.now();
      performance.mark('m2m-first-compression');
    }
    setStatus(`Done · ${encoding}`);
  } catch (err) {
    if (id !== runCounter) return;
    showError(err);
    setStatus('Failed');
  } finally {
    if (id === runCounter) {
      document.body.dataset.state = 'ready';
      document.body.dataset.run = String(id);
    }
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
function scheduleUpdate(delay = 250): void {
  if (timer !== undefined) clearTimeout(timer);
  document.body.dataset.state = 'busy';
  timer = setTimeout(() => {
    timer = undefined;
    void update();
  }, delay);
}

async function decodeWire(): Promise<void> {
  const wire = els.wire.value;
  els.decoded.hidden = false;
  els.decoded.classList.remove('error');
  els.decodeInfo.textContent = 'Decompressing…';
  try {
    const result = await client.decompress(wire);
    els.decoded.textContent = result.text;
    els.decoded.dataset.algorithm = result.algorithm;
    const same = result.text === els.input.value ? ' · identical to the input ✓' : '';
    els.decodeInfo.textContent = `${ALGORITHM_INFO[result.algorithm].title} · ${fmt(result.text.length)} characters${same}`;
  } catch (err) {
    const { code, message } = describe(err);
    els.decoded.classList.add('error');
    els.decoded.textContent = `${code}: ${message}`;
    delete els.decoded.dataset.algorithm;
    els.decodeInfo.textContent = 'Could not decompress';
  }
}

function setup(): void {
  for (const ex of EXAMPLES) els.example.append(h('option', { value: ex.id, text: ex.label }));
  els.example.append(h('option', { value: '', text: '(your own)' }));
  const first = EXAMPLES[0];
  if (first) els.input.value = first.content;

  els.example.addEventListener('change', () => {
    const ex = EXAMPLES.find((e) => e.id === els.example.value);
    if (!ex) return;
    els.input.value = ex.content;
    scheduleUpdate(0);
  });
  els.encoding.addEventListener('change', () => scheduleUpdate(0));
  els.optimize.addEventListener('change', () => scheduleUpdate(0));
  els.input.addEventListener('input', () => {
    els.example.value = '';
    scheduleUpdate();
  });
  els.file.addEventListener('change', async () => {
    const file = els.file.files?.[0];
    if (!file) return;
    try {
      els.input.value = await file.text();
      els.example.value = '';
      scheduleUpdate(0);
    } catch (err) {
      showError(err);
    }
  });
  els.decompress.addEventListener('click', () => void decodeWire());
  new ResizeObserver(() => {
    if (lastRun) renderChart(lastRun);
  }).observe(els.chart);

  void update();
}

window.m2mPlayground = {
  client,
  async loadLibrary(encodings = []) {
    const m = await import('../ts/browser.js');
    await m.init({ module: new URL('m2m_wasm_bg.wasm', base), ranksBaseUrl: new URL('ranks/', base), encodings });
    return m;
  },
  firstCompressionMs: () => firstCompressionMs,
};

setup();
