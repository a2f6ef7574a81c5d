/**
 * The scanner: runs the character checks, the phrase rules and the decoders
 * over a text (or the text fields of a JSON payload, or a list of messages)
 * and turns rule hits into threats with a combined confidence.
 *
 * Confidence of a hit:
 *   1. the rule's weight, adjusted by its context: a negation just before it
 *      (`never reveal your system prompt`) or a how-to question (`how do I
 *      print environment variables`) weakens it, a command just before a
 *      sensitive path (`cat /etc/passwd`) strengthens it, a quoted phrase in
 *      a sentence about detection/examples weakens it;
 *   2. combined (noisy-OR) with the other rules that fired nearby (within 600
 *      characters): fully for rules of the same threat type, partly (0.4)
 *      across the prompt-injection / jailbreak / exfiltration family, and at
 *      half strength when two rules matched the same words;
 *   3. raised when the text had to be de-obfuscated to match (homoglyphs,
 *      leetspeak, hidden characters, split letters, split messages), when it
 *      was hidden in an encoding, and for injections inside tool results
 *      (indirect injection);
 *   4. raised by the learned classifier (model.ts) when the hit lies in the
 *      window it scores highest; the classifier's score is also a finding of
 *      its own (rule `model.<class>`).
 * No hit reaches 1; every step is bounded so a scan is linear in the input.
 */
import { M2MError } from '../core/errors.js';
import { utf8Length } from '../core/utf8.js';
import {
  type Context,
  DEFAULT_DECODE_DEPTH,
  DEFAULT_MODE,
  DEFAULT_THRESHOLD,
  ruleOff,
  SCAN_LIMITS,
  type Unit,
} from './context.js';
import { findEncoded } from './decode.js';
import { Matcher } from './matcher.js';
import { remembered } from './memo.js';
import { releaseBuffers, skeletonRun } from './normalize.js';
import { builtInRules } from './rules.js';
import {
  combine,
  excerpt,
  FAMILY,
  finishEvidence,
  type Hit,
  hidden,
  modelLayer,
  nestingThreat,
  round,
  severityOf,
} from './scorer.js';
import { jsonDepth, type TextField, textFields } from './structure.js';
import type { ScanMode, ScanOptions, ScanResult, Threat } from './types.js';
import { SCAN_MODES } from './types.js';
import { scanCharacters } from './unicode.js';

export { SCAN_LIMITS } from './context.js';

let builtInMatcher: Matcher | undefined;

/** The matcher over the built-in rules, made on the first scan (see `builtInRules`). */
function matcher(): Matcher {
  builtInMatcher ??= new Matcher(builtInRules());
  return builtInMatcher;
}

/** Replaces allowlisted content by spaces (offsets are kept). */
function mask(text: string, allowlist: ReadonlyArray<string | RegExp>): string {
  if (allowlist.length === 0) return text;
  const spans: [number, number][] = [];
  for (const entry of allowlist) {
    if (typeof entry === 'string') {
      if (entry.length === 0) continue;
      for (let i = text.indexOf(entry), k = 0; i >= 0 && k < 10_000; i = text.indexOf(entry, i + entry.length), k++) {
        spans.push([i, i + entry.length]);
      }
    } else {
      const re = new RegExp(entry.source, entry.flags.includes('g') ? entry.flags : `${entry.flags}g`);
      for (let m = re.exec(text), k = 0; m && k < 10_000; m = re.exec(text), k++) {
        if (m[0].length === 0) re.lastIndex++;
        else spans.push([m.index, m.index + m[0].length]);
      }
    }
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [s, e] of spans) {
    if (e <= at) continue;
    const from = Math.max(s, at);
    out += text.slice(at, from) + ' '.repeat(e - from);
    at = e;
  }
  return out + text.slice(at);
}

/**

/** Roles whose text is the operator's own (a system prompt is not an attack on itself). */
const OPERATOR_ROLES = new Set(['system', 'developer']);

/** Scans one text: characters, phrases, nesting, encoded payloads (recursively); whole texts through the memo. */
function scanUnit(text: string, ctx: Context, unit: Unit, depth: number): Threat[] {
  const threats =
    depth === 0
      ? remembered(text, ctx, unit.role, () => scanText(text, ctx, { role: unit.role }, 0))
      : scanText(text, ctx, unit, depth);
  if (unit.field !== undefined)
    for (const t of threats) if (t.evidence.field === undefined) t.evidence.field = unit.field;
  return threats;
}

/** {@link scanUnit} without the memo and without setting the field. */
function scanText(text: string, ctx: Context, unit: Unit, depth: number): Threat[] {
  const threats: Threat[] = [];
  const masked = mask(text, ctx.allowlist);
  if (depth === 0) {
    const chars = scanCharacters(masked);
    for (const f of chars.findings) {
      if (ruleOff(ctx, f.rule)) continue;
      threats.push({
        type: f.type,
        severity: 'low',
        confidence: f.confidence,
        rule: f.rule,
        evidence: {
          match: excerpt(masked, f.offset, f.offset + Math.max(f.length, 1)),
          offset: f.offset,
          length: f.length,
        },
      });
    }
    for (const h of chars.hidden) {
      if (ctx.maxDecodeDepth < 1) break;
      for (const t of scanUnit(h.text, ctx, {}, depth + 1)) threats.push(hidden(t, h, 'unicode-tags'));
    }
  }
  const phrase = combine(matcher().phraseHits(masked, ctx), unit, 0);
  if (ctx.model) modelLayer(masked, ctx, phrase);
  finishEvidence(phrase, masked, {});
  threats.push(...phrase);

  const trimmed = masked.trimStart();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && !ruleOff(ctx, 'nesting.json-depth')) {
    const d = jsonDepth(masked);
    if (d.exceededAt >= 0) threats.push(nestingThreat(masked, d.maxDepth, d.exceededAt, 0.95));
  }

  if (depth < ctx.maxDecodeDepth && ctx.budget.remaining > 0) {
    for (const run of findEncoded(masked, ctx.budget)) {
      for (const t of scanUnit(run.text, ctx, {}, depth + 1)) threats.push(hidden(t, run, run.from));
    }
  }
  if (unit.role !== undefined && OPERATOR_ROLES.has(unit.role)) return threats.filter((t) => !FAMILY.has(t.type));
  return threats;
}

interface MessageText {
  index: number;
  text: string;
  role?: string;
}

const SPLIT_TAIL = 100;
const SPLIT_HEAD = 100;
const SPLIT_MAX_MESSAGES = 8;
const SPLIT_MAX_CHARS = 400;

/** Instructions split across consecutive messages: phrase hits that cross a message boundary. */
function splitThreats(messages: MessageText[], ctx: Context): Threat[] {
  const threats: Threat[] = [];
  // Every window is a substring of the messages joined by newlines (of a long message, only its
  // head and tail are ever in one): one skeleton pass over that serves all windows (see
  // `substringSkeleton`). Not with an allowlist (windows are masked).
  const tailAt: number[] = [];
  let all = '';
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) all += '\n';
    const text = (messages[i] as MessageText).text;
    if (text.length > SPLIT_HEAD + SPLIT_TAIL) {
      all += `${text.slice(0, SPLIT_HEAD)}\n`;
      tailAt.push(all.length);
      all += text.slice(-SPLIT_TAIL);
    } else {
      tailAt.push(all.length + text.length - Math.min(text.length, SPLIT_TAIL));
      all += text;
    }
  }
  const run = ctx.allowlist.length === 0 ? skeletonRun(all) : null;
  for (let i = 0; i + 1 < messages.length; i++) {
    const first = messages[i] as MessageText;
    const tailLength = Math.min(first.text.length, SPLIT_TAIL);
    const base = first.text.length - tailLength;
    const from = tailAt[i] as number;
    let length = tailLength;
    const bounds: { at: number; index: number }[] = [];
    for (let j = i + 1; j < messages.length && j - i < SPLIT_MAX_MESSAGES; j++) {
      const m = messages[j] as MessageText;
      length += 1;
      bounds.push({ at: length, index: m.index });
      length += Math.min(m.text.length, SPLIT_HEAD);
      if (m.text.length > SPLIT_HEAD || length > SPLIT_MAX_CHARS) break;
    }
    // The window: the end of message i, then the starts of the next messages, joined by newlines.
    const joined = all.slice(from, from + length);
    const b0 = (bounds[0] as { at: number }).at;
    const masked = mask(joined, ctx.allowlist);
    if (!matcher().mayCross(masked, b0, ctx, run, from)) continue;
    const hits = matcher().phraseHits(masked, ctx);
    const crosses = (h: Hit) => h.start < b0 - 1 && h.end > b0;
    if (!hits.some(crosses)) continue;
    // Hits inside one message support a crossing hit, but only crossing hits are reported here.
    const found = combine(hits, { role: first.role }, 1, crosses);
    for (const t of found) {
      let last = first.index;
      for (const b of bounds) if (t.evidence.offset + t.evidence.length > b.at) last = b.index;
      t.evidence.match = excerpt(joined, t.evidence.offset, t.evidence.offset + t.evidence.length).replace(/\\n/g, ' ');
      t.evidence.field = `messages[${first.index}..${last}]`;
      t.evidence.offset += base;
      threats.push(t);
    }
  }
  return threats;
}

// ------------------------------------------------------------------ public entry points

interface Resolved {
  mode: ScanMode;
  threshold: number;
  ctx: Context;
  skipped?: ScanResult['skipped'];
}

function resolveOptions(options: ScanOptions | undefined): Resolved {
  const o = options ?? {};
  const mode = o.mode ?? DEFAULT_MODE;
  if (!(SCAN_MODES as readonly string[]).includes(mode)) {
    throw new M2MError('INVALID_OPTION', `mode must be one of ${SCAN_MODES.join(', ')} (got ${JSON.stringify(mode)})`);
  }
  const threshold = o.threshold ?? DEFAULT_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw new M2MError('INVALID_OPTION', `threshold must be a number from 0 to 1 (got ${String(threshold)})`);
  }
  const maxDecodeDepth = o.maxDecodeDepth ?? DEFAULT_DECODE_DEPTH;
  if (!Number.isInteger(maxDecodeDepth) || maxDecodeDepth < 0 || maxDecodeDepth > SCAN_LIMITS.maxDecodeDepth) {
    throw new M2MError(
      'INVALID_OPTION',
      `maxDecodeDepth must be an integer from 0 to ${SCAN_LIMITS.maxDecodeDepth} (got ${String(maxDecodeDepth)})`,
    );
  }
  const json = o.json ?? 'auto';
  if (json !== true && json !== false && json !== 'auto') {
    throw new M2MError('INVALID_OPTION', `json must be true, false or 'auto' (got ${String(json)})`);
  }
  const allowlist = o.allowlist ?? [];
  for (const a of allowlist) {
    if (typeof a !== 'string' && !(a instanceof RegExp)) {
      throw new M2MError('INVALID_OPTION', 'allowlist entries must be strings or RegExps');
    }
  }
  let skipped: ScanResult['skipped'];
  if (mode === 'disabled') skipped = 'disabled';
  else if (o.source !== undefined && o.trustedSources?.includes(o.source)) skipped = 'trusted-source';
  return {
    mode,
    threshold,
    skipped,
    ctx: {
      threshold,
      model: o.model ?? true,
      maxDecodeDepth,
      allowlist,
      disabled: o.disabledRules ?? [],
      budget: { remaining: SCAN_LIMITS.maxDecodedChars },
    },
  };
}

/** Lets go of scratch buffers grown large by a big input. */
function releaseScratch(): void {
  releaseBuffers();
  builtInMatcher?.release();
}

function finish(r: Resolved, threats: Threat[], scannedBytes: number): ScanResult {
  releaseScratch();
  // Highest confidence first; identical findings (same rule, field, place) once; bounded output.
  threats.sort((a, b) => b.confidence - a.confidence || a.evidence.offset - b.evidence.offset);
  const seen = new Set<string>();
  const perRule = new Map<string, number>();
  const out: Threat[] = [];
  for (const t of threats) {
    const key = `${t.rule}|${t.evidence.field ?? ''}|${t.evidence.offset}|${t.evidence.decodedFrom ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const n = perRule.get(t.rule) ?? 0;
    if (n >= SCAN_LIMITS.maxThreatsPerRule) continue;
    perRule.set(t.rule, n + 1);
    t.confidence = round(t.confidence);
    t.severity = severityOf(t.type, t.confidence);
    out.push(t);
    if (out.length >= SCAN_LIMITS.maxThreats) break;
  }
  const safe = !out.some((t) => t.confidence >= r.threshold);
  return {
    safe,
    blocked: r.mode === 'blocking' && !safe,
    mode: r.mode,
    threshold: r.threshold,
    threats: out,
    scannedBytes,
  };
}

function skippedResult(r: Resolved): ScanResult {
  return {
    safe: true,
    blocked: false,
    mode: r.mode,
    threshold: r.threshold,
    threats: [],
    scannedBytes: 0,
    skipped: r.skipped,
  };
}

function scanFields(fields: TextField[], ctx: Context): Threat[] {
  const threats: Threat[] = [];
  const byMessage = new Map<number, MessageText>();
  for (const f of fields) {
    threats.push(...scanUnit(f.value, ctx, { field: f.path, role: f.role }, 0));
    if (f.message !== undefined) {
      const m = byMessage.get(f.message);
      if (m) m.text += `\n${f.value}`;
      else byMessage.set(f.message, { index: f.message, text: f.value, role: f.role });
    }
  }
  if (byMessage.size > 1) {
    threats.push(
      ...splitThreats(
        [...byMessage.values()].sort((a, b) => a.index - b.index),
        ctx,
      ),
    );
  }
  return threats;
}

/**
 * Scans content for prompt injection, jailbreaks, data exfiltration, malformed
 * input and excessive JSON nesting. Never throws for any content; throws
 * `M2MError('INVALID_OPTION')` for invalid options.
 */
export function scan(content: string, options?: ScanOptions): ScanResult {
  const r = resolveOptions(options);
  if (typeof content !== 'string') throw new M2MError('INVALID_OPTION', 'content must be a string');
  if (r.skipped) return skippedResult(r);
  const ctx = r.ctx;
  const threats: Threat[] = [];
  let text = content;
  if (text.length > SCAN_LIMITS.maxScanChars) {
    text = text.slice(0, SCAN_LIMITS.maxScanChars);
    threats.push({
      type: 'MALFORMED_INPUT',
      severity: 'low',
      confidence: 0.9,
      rule: 'malformed.oversize',
      evidence: { match: `content longer than ${SCAN_LIMITS.maxScanChars} characters`, offset: text.length, length: 0 },
    });
  }
  const scannedBytes = utf8Length(text);
  const json = options?.json ?? 'auto';
  const trimmed = text.trimStart();
  let parsed: unknown;
  let isJson = false;
  if (json !== false && (trimmed.startsWith('{') || trimmed.startsWith('['))) {
    const d = jsonDepth(text);
    if (d.exceededAt >= 0) {
      if (!ruleOff(ctx, 'nesting.json-depth')) threats.push(nestingThreat(text, d.maxDepth, d.exceededAt, 0.95));
      // Too deep to walk: scan it as text (without reporting the nesting twice).
      ctx.disabled = [...ctx.disabled, 'nesting.json-depth'];
    } else {
      try {
        parsed = JSON.parse(text);
        isJson = parsed !== null && typeof parsed === 'object';
      } catch {
        isJson = false;
      }
    }
  }
  if (json === true && !isJson && !ruleOff(ctx, 'malformed.invalid-json')) {
    threats.push({
      type: 'MALFORMED_INPUT',
      severity: 'low',
      confidence: 0.85,
      rule: 'malformed.invalid-json',
      evidence: { match: excerpt(text, 0, 40), offset: 0, length: 0 },
    });
  }
  if (isJson) threats.push(...scanFields(textFields(parsed), ctx));
  else threats.push(...scanUnit(text, ctx, {}, 0));
  return finish(r, threats, scannedBytes);
}

/** A chat message: a string, or an object with a `role` and a `content` (string, content parts, anything JSON). */
export type ScanMessage = string | { role?: string; content: unknown };

/**
 * Scans each message of a conversation, and the boundaries between
 * consecutive messages for instructions split across them (a bounded window
 * of up to 8 short messages, 100 characters each side of a boundary).
 * Findings carry `field` = `messages[i].content...`, or `messages[i..j]` for
 * a split finding (its offset is then in message i's text).
 *
 * Roles count: the text of `system` and `developer` messages is the
 * operator's own and yields no injection, jailbreak or exfiltration findings
 * (malformed input still counts); `tool` and `function` results, where
 * indirect injections hide, make rule findings of injection stronger.
 */
export function scanMessages(messages: readonly ScanMessage[], options?: ScanOptions): ScanResult {
  const r = resolveOptions(options);
  if (!Array.isArray(messages)) throw new M2MError('INVALID_OPTION', 'messages must be an array');
  if (r.skipped) return skippedResult(r);
  const fields: TextField[] = [];
  let bytes = 0;
  messages.forEach((m, i) => {
    const base = `messages[${i}].content`;
    if (typeof m === 'string') {
      fields.push({ path: `messages[${i}]`, value: m, message: i });
      bytes += utf8Length(m);
      return;
    }
    if (!m || typeof m !== 'object') return;
    const role = typeof m.role === 'string' ? m.role : undefined;
    if (typeof m.content === 'string') {
      fields.push({ path: base, value: m.content, role, message: i });
      bytes += utf8Length(m.content);
      return;
    }
    for (const f of textFields(m.content)) {
      const path = f.path === '$' ? base : f.path.startsWith('[') ? base + f.path : `${base}.${f.path}`;
      fields.push({ path, value: f.value, role: f.role ?? role, message: i });
      bytes += utf8Length(f.value);
    }
  });
  return finish(r, scanFields(fields, r.ctx), bytes);
}

/** Options resolved with defaults (for callers that log or display them). */
export function scanDefaults(): { mode: ScanMode; threshold: number; maxDecodeDepth: number } {
  return { mode: DEFAULT_MODE, threshold: DEFAULT_THRESHOLD, maxDecodeDepth: DEFAULT_DECODE_DEPTH };
}
