/** The compress / decompress / analyze / scan commands (single content and JSON Lines batches). */

import {
  type Analysis,
  analyze,
  type CompressOptions,
  compress,
  decompressDetailed,
  type FrameInfo,
  findModel,
  inspect,
  M2MError,
  MODELS,
  MODELS_AS_OF,
  type ModelInfo,
} from '../../index.js';
import {
  assertSafe,
  isSecurityViolation,
  type ScanResult,
  scan,
  scanOptionsFrom,
  type Threat,
} from '../../security/index.js';
import type { Config } from '../config.js';
import { UsageError, type Values } from './args.js';
import { clip, int, pct, savedPercent, table } from './format.js';
import {
  type BatchRecord,
  type InputSpec,
  inputSource,
  isBatch,
  type Output,
  readContent,
  readRecords,
} from './input.js';
import { securityFrom } from './keys.js';
import { startProgress } from './progress.js';

/** The CLI's exit codes. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** Runtime error: invalid wire string, bad content for the algorithm, I/O, a failed batch record. */
  RUNTIME: 1,
  /** Usage error: unknown command or option, bad option value, invalid configuration. */
  USAGE: 2,
  /** A security threat: found in blocking mode, or by `scan --fail-on-threat`. */
  THREAT: 3,
} as const;

export interface CommandContext {
  command: string;
  values: Values;
  positionals: string[];
  config: Config;
  json: boolean;
  output: Output;
  /** Human messages (warnings, summaries, per-record errors). */
  stderr: (text: string) => void;
}

type ErrorBody = { code: string; message: string };
const errorBody = (err: M2MError): ErrorBody => ({ code: err.code, message: err.message });

/** Runs `fn`, turning an `M2MError` into a value (anything else is a bug and propagates). */
function attempt<T>(fn: () => T): T | M2MError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof M2MError) return err;
    throw err;
  }
}

function inputSpec(ctx: CommandContext): InputSpec {
  const file = ctx.values.file;
  return {
    command: ctx.command,
    positionals: ctx.positionals,
    ...(typeof file === 'string' ? { file } : {}),
    jsonl: ctx.values.jsonl === true,
    maxSize: ctx.config.compression.maxSize,
  };
}

function compressOptions(ctx: CommandContext, countTokens: boolean): CompressOptions {
  const c = ctx.config.compression;
  const security = ctx.command === 'compress' ? securityFrom(ctx.command, ctx.values, 'protect') : undefined;
  return {
    algorithm: c.algorithm,
    encoding: c.encoding,
    brotliQuality: c.brotliQuality,
    optimize: c.optimize,
    minSize: c.minSize,
    brotliThreshold: c.brotliThreshold,
    countTokens,
    profile: c.profile,
    ...(security ? { security } : {}),
    // Every entry point honours the configured security mode: blocking throws SECURITY_VIOLATION (exit 3).
    scan: ctx.config.security.mode === 'disabled' ? undefined : scanOptionsFrom(ctx.config.security),
  };
}

/** `decompress` options from the command line: the required frame protection. */
function requirement(ctx: CommandContext): { security?: ReturnType<typeof securityFrom> } {
  const security = securityFrom(ctx.command, ctx.values, 'require');
  return security ? { security } : {};
}

/** Scans text (decompressed output) in the configured mode: throws SECURITY_VIOLATION when blocked. */
function guard(ctx: CommandContext, text: string, where = ''): void {
  if (ctx.config.security.mode === 'disabled') return;
  const r = scan(text, scanOptionsFrom(ctx.config.security));
  if (r.blocked) assertSafe(r);
  warnUnsafe(ctx, r, where);
}

/** In monitor mode, tells about unsafe content on stderr (blocking mode has thrown already). */
function warnUnsafe(ctx: CommandContext, security: ScanResult | undefined, where = ''): void {
  if (!security || security.safe) return;
  const top = security.threats[0] as Threat;
  ctx.stderr(
    `warning${where}: ${top.type} (confidence ${top.confidence}, rule ${top.rule}) at or above the threshold ${security.threshold} (mode ${security.mode})`,
  );
}

const MAX_LISTED_ERRORS = 20;

/** Shared loop of the batch commands: records, progress bar, per-line errors. */
async function eachRecord(
  ctx: CommandContext,
  spec: InputSpec,
  stdoutBusy: boolean,
  handle: (record: BatchRecord & { content: string }) => void,
  fail: (record: BatchRecord, error: M2MError) => void,
): Promise<void> {
  const source = inputSource(spec);
  const progress = await startProgress({
    label: ctx.command,
    totalBytes: source.kind === 'file' ? source.size : undefined,
    enabled: ctx.values['no-progress'] !== true,
    stdoutBusy,
  });
  try {
    for await (const record of readRecords(spec, source)) {
      progress.tick(record.bytes);
      if (record.error) {
        fail(record, record.error);
        continue;
      }
      const content = record.content as string;
      const outcome = attempt(() => handle({ ...record, content }));
      if (outcome instanceof M2MError) fail(record, outcome);
    }
  } finally {
    progress.stop();
  }
}

/** Tells about failed lines on stderr (text mode), capped. */
function reportFailures(ctx: CommandContext, failures: { line: number; error: M2MError }[]): void {
  for (const f of failures.slice(0, MAX_LISTED_ERRORS))
    ctx.stderr(`line ${f.line}: ${f.error.code}: ${f.error.message}`);
  if (failures.length > MAX_LISTED_ERRORS) {
    ctx.stderr(`... and ${failures.length - MAX_LISTED_ERRORS} more failed lines (use --json for all of them)`);
  }
}

// ---------------------------------------------------------------- compress

export async function runCompress(ctx: CommandContext): Promise<number> {
  const spec = inputSpec(ctx);
  if (isBatch(spec)) return compressBatch(ctx, spec);
  const { content } = await readContent(spec);
  const r = compress(content, compressOptions(ctx, ctx.json));
  warnUnsafe(ctx, r.security);
  if (ctx.json) {
    ctx.output.write(
      `${JSON.stringify({
        algorithm: r.algorithm,
        wire: r.wire,
        encoding: ctx.config.compression.encoding,
        originalBytes: r.originalBytes,
        wireBytes: r.wireBytes,
        savedBytesPercent: savedPercent(r.originalBytes, r.wireBytes),
        originalTokens: r.originalTokens,
        wireTokens: r.wireTokens,
      })}\n`,
    );
  } else ctx.output.data(r.wire);
  return EXIT.OK;
}

async function compressBatch(ctx: CommandContext, spec: InputSpec): Promise<number> {
  const options = compressOptions(ctx, false);
  const records: object[] = [];
  const failures: { line: number; error: M2MError }[] = [];
  const algorithms: Record<string, number> = {};
  let originalBytes = 0;
  let wireBytes = 0;
  let ok = 0;
  await eachRecord(
    ctx,
    spec,
    !ctx.json && ctx.output.isTerminal,
    (rec) => {
      const r = compress(rec.content, options);
      warnUnsafe(ctx, r.security, ` (line ${rec.line})`);
      ok++;
      originalBytes += r.originalBytes;
      wireBytes += r.wireBytes;
      algorithms[r.algorithm] = (algorithms[r.algorithm] ?? 0) + 1;
      if (ctx.json) {
        records.push({
          line: rec.line,
          algorithm: r.algorithm,
          wire: r.wire,
          originalBytes: r.originalBytes,
          wireBytes: r.wireBytes,
        });
      } else ctx.output.write(`${JSON.stringify(r.wire)}\n`);
    },
    (rec, error) => {
      failures.push({ line: rec.line, error });
      if (ctx.json) records.push({ line: rec.line, error: errorBody(error) });
      else ctx.output.write('null\n'); // keeps output lines aligned with input records
    },
  );
  const summary = {
    records: ok + failures.length,
    ok,
    failed: failures.length,
    originalBytes,
    wireBytes,
    savedBytesPercent: savedPercent(originalBytes, wireBytes),
    algorithms,
  };
  if (ctx.json) ctx.output.write(`${JSON.stringify({ records, summary })}\n`);
  else {
    reportFailures(ctx, failures);
    const picks = Object.entries(algorithms)
      .map(([a, n]) => `${a} ×${n}`)
      .join(', ');
    ctx.stderr(
      `compressed ${ok} of ${summary.records} records${failures.length ? ` (${failures.length} failed)` : ''}: ` +
        `${int(originalBytes)} → ${int(wireBytes)} bytes (${pct(summary.savedBytesPercent)} saved)${picks ? `; ${picks}` : ''}`,
    );
  }
  if (failures.some((f) => isSecurityViolation(f.error))) return EXIT.THREAT;
  return failures.length > 0 ? EXIT.RUNTIME : EXIT.OK;
}

// ---------------------------------------------------------------- decompress

/** Wire forms whose text is base64 or JSON: a trailing newline cannot be part of them. */
const FRAMED = /^(#TK\||#BR\||#T1\||#M2M\[v\d\.\d\]\|DATA:|#M2M\|\d+\|)/;

export async function runDecompress(ctx: CommandContext): Promise<number> {
  const spec = inputSpec(ctx);
  if (isBatch(spec)) return decompressBatch(ctx, spec);
  const { content, source } = await readContent(spec);
  // stdout of `m2m compress` ends with a newline: drop it when the wire comes back through a pipe.
  const wire = source.kind === 'stdin' || FRAMED.test(content) ? content.replace(/\r?\n$/, '') : content;
  const r = decompressDetailed(wire, { ...requirement(ctx), onWarning: (w) => ctx.stderr(`warning: ${w}`) });
  guard(ctx, r.text);
  if (ctx.json) {
    ctx.output.write(
      `${JSON.stringify({
        algorithm: r.algorithm,
        text: r.text,
        wireBytes: Buffer.byteLength(wire),
        bytes: Buffer.byteLength(r.text),
        ...(r.deprecated ? { deprecated: r.deprecated } : {}),
      })}\n`,
    );
  } else ctx.output.data(r.text);
  return EXIT.OK;
}

/** A decompressed record as one output line: JSON text as it is, anything else as a JSON string. */
function asLine(text: string): string {
  if (!text.includes('\n')) {
    try {
      JSON.parse(text);
      return text;
    } catch {
      // not JSON: quote it
    }
  }
  return JSON.stringify(text);
}

async function decompressBatch(ctx: CommandContext, spec: InputSpec): Promise<number> {
  const require = requirement(ctx);
  const records: object[] = [];
  const failures: { line: number; error: M2MError }[] = [];
  const warnings = new Set<string>();
  let ok = 0;
  let wireBytes = 0;
  let bytes = 0;
  await eachRecord(
    ctx,
    spec,
    !ctx.json && ctx.output.isTerminal,
    (rec) => {
      const r = decompressDetailed(rec.content, { ...require, onWarning: (w) => warnings.add(w) });
      guard(ctx, r.text, ` (line ${rec.line})`);
      ok++;
      wireBytes += Buffer.byteLength(rec.content);
      bytes += Buffer.byteLength(r.text);
      if (ctx.json) records.push({ line: rec.line, algorithm: r.algorithm, text: r.text });
      else ctx.output.write(`${asLine(r.text)}\n`);
    },
    (rec, error) => {
      failures.push({ line: rec.line, error });
      if (ctx.json) records.push({ line: rec.line, error: errorBody(error) });
      else ctx.output.write('null\n');
    },
  );
  for (const w of warnings) ctx.stderr(`warning: ${w}`);
  const summary = { records: ok + failures.length, ok, failed: failures.length, wireBytes, bytes };
  if (ctx.json) ctx.output.write(`${JSON.stringify({ records, summary })}\n`);
  else {
    reportFailures(ctx, failures);
    ctx.stderr(
      `decompressed ${ok} of ${summary.records} records${failures.length ? ` (${failures.length} failed)` : ''}: ` +
        `${int(wireBytes)} → ${int(bytes)} bytes`,
    );
  }
  if (failures.some((f) => isSecurityViolation(f.error))) return EXIT.THREAT;
  return failures.length > 0 ? EXIT.RUNTIME : EXIT.OK;
}

// ---------------------------------------------------------------- inspect

/** The human form of a frame header: one `name: value` line per field. */
export function renderFrameInfo(info: FrameInfo): string {
  return Object.entries(info)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') || '-' : v === null ? '-' : String(v)}`)
    .join('\n');
}

export async function runInspect(ctx: CommandContext): Promise<number> {
  const { content } = await readContent(inputSpec(ctx));
  const info = inspect(content.replace(/\r?\n$/, ''));
  ctx.output.write(ctx.json ? `${JSON.stringify(info)}\n` : `${renderFrameInfo(info)}\n`);
  return EXIT.OK;
}

// ---------------------------------------------------------------- models

const MODEL_COLUMNS = [
  { title: 'model' },
  { title: 'encoding' },
  { title: 'context', align: 'right' },
  { title: 'max output', align: 'right' },
  { title: 'input $/M', align: 'right' },
  { title: 'output $/M', align: 'right' },
] as const;

/** The registry's models whose id contains `term` (or the family of a snapshot id). */
export function matchingModels(term: string | undefined): ModelInfo[] {
  if (term === undefined) return [...MODELS];
  const family = findModel(term);
  const needle = term.toLowerCase();
  return MODELS.filter((m) => m === family || m.id.includes(needle));
}

export function runModels(ctx: CommandContext): number {
  if (ctx.positionals.length > 1) throw new UsageError("m2m models: at most one search term. Run 'm2m models --help'.");
  const found = matchingModels(ctx.positionals[0]);
  if (ctx.json) {
    ctx.output.write(`${JSON.stringify(found)}\n`);
    return EXIT.OK;
  }
  if (found.length === 0) {
    ctx.stderr(`no model matches ${JSON.stringify(ctx.positionals[0])}`);
    return EXIT.RUNTIME;
  }
  const price = (n: number) => (n === 0 ? '-' : String(n));
  const rows = found.map((m) => [
    m.id,
    m.encoding,
    int(m.contextWindow),
    m.maxOutputTokens === 0 ? '-' : int(m.maxOutputTokens),
    price(m.inputPrice),
    price(m.outputPrice),
  ]);
  ctx.output.write(`${table(MODEL_COLUMNS, rows)}\nList prices as of ${MODELS_AS_OF}; '-' where none is listed.\n`);
  return EXIT.OK;
}

// ---------------------------------------------------------------- analyze

const ANALYZE_COLUMNS = [
  { title: 'algorithm' },
  { title: 'wire bytes', align: 'right' },
  { title: 'saved', align: 'right' },
  { title: 'wire tokens', align: 'right' },
  { title: 'saved', align: 'right' },
  { title: '' },
] as const;

/** The human report of one analysis. */
export function renderAnalysis(a: Analysis): string {
  const rows = a.algorithms.map((r) => {
    const name = r.algorithm;
    if (!r.ok) return [name, '-', '-', '-', '-', `cannot: ${r.error?.code}: ${clip(r.error?.message ?? '', 70)}`];
    return [
      name,
      int(r.wireBytes ?? 0),
      pct(r.savedBytesPercent),
      int(r.wireTokens ?? 0),
      pct(r.savedTokensPercent),
      r.algorithm === a.auto ? '← auto' : '',
    ];
  });
  return [
    `input: ${int(a.originalBytes)} bytes, ${int(a.originalTokens)} tokens (${a.encoding})`,
    '',
    table(ANALYZE_COLUMNS, rows),
    '',
    `auto picks: ${a.auto}${a.auto === 'none' && a.originalBytes < 100 ? ' (content under 100 bytes is sent as it is)' : ''}`,
  ].join('\n');
}

export async function runAnalyze(ctx: CommandContext): Promise<number> {
  const spec = inputSpec(ctx);
  if (isBatch(spec)) return analyzeBatch(ctx, spec);
  const { content } = await readContent(spec);
  const a = analyze(content, { ...compressOptions(ctx, false), scan: undefined });
  ctx.output.write(ctx.json ? `${JSON.stringify(a)}\n` : `${renderAnalysis(a)}\n`);
  return EXIT.OK;
}

interface Totals {
  records: number;
  originalBytes: number;
  originalTokens: number;
  wireBytes: number;
  wireTokens: number;
}
const zero = (): Totals => ({ records: 0, originalBytes: 0, originalTokens: 0, wireBytes: 0, wireTokens: 0 });

function summarize(t: Totals) {
  return {
    ...t,
    savedBytesPercent: savedPercent(t.originalBytes, t.wireBytes),
    savedTokensPercent: savedPercent(t.originalTokens, t.wireTokens),
  };
}

async function analyzeBatch(ctx: CommandContext, spec: InputSpec): Promise<number> {
  const options = { ...compressOptions(ctx, false), scan: undefined };
  const records: object[] = [];
  const rows: string[][] = [];
  const failures: { line: number; error: M2MError }[] = [];
  const per = new Map<string, Totals & { failed: number }>();
  const auto = zero();
  const picks: Record<string, number> = {};
  let originalBytes = 0;
  let originalTokens = 0;
  const summaryOnly = ctx.values.summary === true;
  // Everything is printed at the end, so a progress bar never meets the table on a terminal.
  await eachRecord(
    ctx,
    spec,
    false,
    (rec) => {
      const a = analyze(rec.content, options);
      originalBytes += a.originalBytes;
      originalTokens += a.originalTokens;
      let best: { algorithm: string; bytes: number } | undefined;
      for (const r of a.algorithms) {
        const t = per.get(r.algorithm) ?? { ...zero(), failed: 0 };
        per.set(r.algorithm, t);
        if (!r.ok) {
          t.failed++;
          continue;
        }
        t.records++;
        t.originalBytes += a.originalBytes;
        t.originalTokens += a.originalTokens;
        t.wireBytes += r.wireBytes ?? 0;
        t.wireTokens += r.wireTokens ?? 0;
        if (!best || (r.wireBytes ?? 0) < best.bytes) best = { algorithm: r.algorithm, bytes: r.wireBytes ?? 0 };
      }
      const chosen = a.algorithms.find((r) => r.algorithm === a.auto);
      auto.records++;
      auto.originalBytes += a.originalBytes;
      auto.originalTokens += a.originalTokens;
      auto.wireBytes += chosen?.wireBytes ?? a.originalBytes;
      auto.wireTokens += chosen?.wireTokens ?? a.originalTokens;
      picks[a.auto] = (picks[a.auto] ?? 0) + 1;
      if (ctx.json) records.push({ line: rec.line, ...a });
      else if (!summaryOnly) {
        rows.push([
          String(rec.line),
          int(a.originalBytes),
          int(a.originalTokens),
          a.auto,
          int(chosen?.wireBytes ?? 0),
          pct(chosen?.savedBytesPercent),
          int(chosen?.wireTokens ?? 0),
          pct(chosen?.savedTokensPercent),
          best?.algorithm ?? '-',
        ]);
      }
    },
    (rec, error) => {
      failures.push({ line: rec.line, error });
      if (ctx.json) records.push({ line: rec.line, error: errorBody(error) });
      else if (!summaryOnly) rows.push([String(rec.line), `error ${error.code}: ${clip(error.message, 90)}`]);
    },
  );
  const ok = auto.records;
  const summary = {
    records: ok + failures.length,
    ok,
    failed: failures.length,
    originalBytes,
    originalTokens,
    encoding: ctx.config.compression.encoding,
    algorithms: [...per].map(([algorithm, t]) => ({ algorithm, ...summarize(t) })),
    auto: { ...summarize(auto), picks },
  };
  if (ctx.json) {
    ctx.output.write(`${JSON.stringify({ records, summary })}\n`);
  } else {
    const out: string[] = [];
    if (!summaryOnly) {
      out.push(
        table(
          [
            { title: 'line', align: 'right' },
            { title: 'bytes', align: 'right' },
            { title: 'tokens', align: 'right' },
            { title: 'auto' },
            { title: 'wire bytes', align: 'right' },
            { title: 'saved', align: 'right' },
            { title: 'wire tokens', align: 'right' },
            { title: 'saved', align: 'right' },
            { title: 'smallest' },
          ],
          rows,
        ),
        '',
      );
    }
    out.push(
      `summary: ${summary.records} records (${ok} ok, ${failures.length} failed), ` +
        `${int(originalBytes)} bytes, ${int(originalTokens)} tokens (${summary.encoding})`,
      '',
    );
    const line = (name: string, t: Totals, note: string) => [
      name,
      int(t.records),
      int(t.wireBytes),
      pct(savedPercent(t.originalBytes, t.wireBytes)),
      int(t.wireTokens),
      pct(savedPercent(t.originalTokens, t.wireTokens)),
      note,
    ];
    const totals = [...per].map(([name, t]) => line(name, t, t.failed ? `cannot encode ${t.failed} records` : ''));
    totals.push(
      line(
        'auto',
        auto,
        Object.entries(picks)
          .map(([a, n]) => `${a} ×${n}`)
          .join(', '),
      ),
    );
    out.push(
      table(
        [
          { title: 'algorithm' },
          { title: 'records', align: 'right' },
          { title: 'wire bytes', align: 'right' },
          { title: 'saved', align: 'right' },
          { title: 'wire tokens', align: 'right' },
          { title: 'saved', align: 'right' },
          { title: '' },
        ],
        totals,
      ),
    );
    ctx.output.write(`${out.join('\n')}\n`);
    reportFailures(ctx, failures);
  }
  return failures.length > 0 ? EXIT.RUNTIME : EXIT.OK;
}

// ---------------------------------------------------------------- scan

function threatLines(threats: readonly Threat[], threshold: number, indent: string): string[] {
  return threats.flatMap((t, i) => {
    const e = t.evidence;
    const where = [`offset ${e.offset}`, `length ${e.length}`];
    if (e.field !== undefined) where.push(`field ${e.field}`);
    if (e.decodedFrom !== undefined) where.push(`decoded from ${e.decodedFrom}`);
    const below = t.confidence < threshold ? ' (below threshold)' : '';
    return [
      `${indent}${i + 1}. ${t.type}  severity ${t.severity}  confidence ${t.confidence.toFixed(2)}${below}  rule ${t.rule}`,
      `${indent}   evidence: ${JSON.stringify(e.match)} at ${where.join(', ')}`,
    ];
  });
}

/** The verdict line and findings of one scan. */
export function renderScan(r: ScanResult, indent = ''): string {
  if (r.skipped)
    return `${indent}not scanned: ${r.skipped === 'disabled' ? 'scanning is disabled (mode disabled)' : 'trusted source'}`;
  const above = r.threats.filter((t) => t.confidence >= r.threshold).length;
  const verdict = r.blocked ? 'BLOCKED' : r.safe ? 'SAFE' : 'UNSAFE';
  const counts =
    r.threats.length === 0
      ? 'no threats'
      : `${above} threat${above === 1 ? '' : 's'} at or above the threshold` +
        (r.threats.length > above ? `, ${r.threats.length - above} below` : '');
  return [
    `${indent}${verdict}: ${counts} (mode ${r.mode}, threshold ${r.threshold})`,
    ...threatLines(r.threats, r.threshold, `${indent}  `),
  ].join('\n');
}

function scanExit(unsafe: boolean, blocked: boolean, failOnThreat: boolean): number {
  return blocked || (failOnThreat && unsafe) ? EXIT.THREAT : EXIT.OK;
}

export async function runScan(ctx: CommandContext): Promise<number> {
  const spec = inputSpec(ctx);
  const options = scanOptionsFrom(ctx.config.security);
  const failOnThreat = ctx.values['fail-on-threat'] === true;
  if (isBatch(spec)) return scanBatch(ctx, spec, failOnThreat);
  const { content } = await readContent(spec);
  const r = scan(content, options);
  ctx.output.write(ctx.json ? `${JSON.stringify(r)}\n` : `${renderScan(r)}\n`);
  return scanExit(!r.safe, r.blocked, failOnThreat);
}

async function scanBatch(ctx: CommandContext, spec: InputSpec, failOnThreat: boolean): Promise<number> {
  const options = scanOptionsFrom(ctx.config.security);
  const records: object[] = [];
  const lines: string[] = [];
  const failures: { line: number; error: M2MError }[] = [];
  let ok = 0;
  let unsafe = 0;
  let blocked = 0;
  let withFindings = 0;
  await eachRecord(
    ctx,
    spec,
    false,
    (rec) => {
      const r = scan(rec.content, options);
      ok++;
      if (!r.safe) unsafe++;
      if (r.blocked) blocked++;
      if (r.threats.length > 0) withFindings++;
      if (ctx.json) records.push({ line: rec.line, ...r });
      else if (r.threats.length > 0) lines.push(`line ${rec.line}: ${renderScan(r).trimStart()}`);
    },
    (rec, error) => {
      failures.push({ line: rec.line, error });
      if (ctx.json) records.push({ line: rec.line, error: errorBody(error) });
    },
  );
  const { mode, threshold } = ctx.config.security;
  const summary = {
    records: ok + failures.length,
    scanned: ok,
    failed: failures.length,
    unsafe,
    blocked,
    mode,
    threshold,
  };
  if (ctx.json) ctx.output.write(`${JSON.stringify({ records, summary })}\n`);
  else {
    lines.push(
      `${lines.length ? '\n' : ''}summary: ${summary.records} records scanned (mode ${mode}, threshold ${threshold}): ` +
        `${unsafe} unsafe, ${blocked} blocked, ${withFindings - unsafe} with findings below the threshold, ${failures.length} failed`,
    );
    ctx.output.write(`${lines.join('\n')}\n`);
    reportFailures(ctx, failures);
  }
  const code = scanExit(unsafe > 0, blocked > 0, failOnThreat);
  return code !== EXIT.OK ? code : failures.length > 0 ? EXIT.RUNTIME : EXIT.OK;
}
