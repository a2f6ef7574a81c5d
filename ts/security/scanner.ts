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
import { type DecodeBudget, findEncoded } from './decode.js';
import { classify, modelConfidence } from './model.js';
import {
  EXACT_FLAG,
  PREFIX1_MASK,
  releaseBuffers,
  type SkeletonRun,
  type SkeletonView,
  skeletonRun,
  skeletonView,
  substringSkeleton,
} from './normalize.js';
import { canStartAt, type PatternFacts, patternFacts } from './patterns.js';
import { phraseRules, type Rule, triggeredRules } from './rules.js';
import { jsonDepth, MAX_JSON_DEPTH, type TextField, textFields } from './structure.js';
import type { DecodedFrom, ScanMode, ScanOptions, ScanResult, Severity, Threat, ThreatType } from './types.js';
import { SCAN_MODES } from './types.js';
import { scanCharacters, visible } from './unicode.js';

/** Bounds on the work and output of one scan. */
export const SCAN_LIMITS = Object.freeze({
  /** Longest evidence excerpt, in UTF-16 code units. */
  maxExcerpt: 120,
  /** Hits collected per rule per scanned text. */
  maxHitsPerRule: 16,
  /** Threats reported per rule per scan. */
  maxThreatsPerRule: 8,
  /** Threats reported per scan. */
  maxThreats: 100,
  /** Decoded text per scan (base64/hex/URL payloads), in UTF-16 code units. */
  maxDecodedChars: 1 << 20,
  /** Content longer than this (16 MiB, the protocol's message limit) is scanned only up to it. */
  maxScanChars: 16 * 1024 * 1024,
  /** Deepest `maxDecodeDepth` accepted. */
  maxDecodeDepth: 8,
  /** Distance (in source characters) within which hits support each other. */
  supportWindow: 600,
});

const DEFAULT_THRESHOLD = 0.8;
const DEFAULT_DECODE_DEPTH = 2;

const BASE_SEVERITY: Record<ThreatType, Severity> = {
  PROMPT_INJECTION: 'high',
  JAILBREAK: 'critical',
  DATA_EXFILTRATION: 'high',
  MALFORMED_INPUT: 'medium',
  EXCESSIVE_NESTING: 'medium',
};
const LOWER: Record<Severity, Severity> = { low: 'low', medium: 'low', high: 'medium', critical: 'high' };

const FAMILY = new Set<ThreatType>(['PROMPT_INJECTION', 'JAILBREAK', 'DATA_EXFILTRATION']);

/** Negations right before an instruction (skeleton text). */
const NEGATION =
  /(?:^| )(?:never|not|dont|do not|does not|doesnt|cannot|cant|can not|wont|will not|must not|mustnt|should not|shouldnt|refuse|refuses|refusing|avoid|avoids|prevent|prevents|block|blocks|detect|detects|against|prohibit|prohibits|forbid|forbids|forbidden|disallow|no one should|nunca|jamais|ne pas|niemals|nicht|kein|никогда|не|нельзя)(?: [^ ]{1,12}){0,2} ?$|(?:不要|别|請勿|请勿|切勿|禁止|不得|不可|绝不|絕不)$/;
/** A how-to question just before (skeleton text). */
const QUESTION =
  /(?:^| )(?:how|how do i|how can i|how to|how would i|where|is it safe to|should i|best way to|wie|como|comment|как|如何|怎么|怎樣|怎样)(?: |$)/;
/** Sentences about detection or examples (skeleton text). */
const META =
  /(?:^| )(?:example|examples|such as|like|detect|detects|detection|classifier|filter|flag|flags|phrase|phrases|called|known as|attack|attacks|injection|injections|pattern|patterns|regex|means|meaning|test case|dataset|string|strings|block|blocks|blocked|contains?|e g|eg|for instance)(?: |$)/;
/** Zero-width and other invisible format characters. */

const isInvisibleUnit = (c: number) =>
  c === 0xad ||
  c === 0x34f ||
  c === 0x180e ||
  (c >= 0x200b && c <= 0x200f) ||
  (c >= 0x202a && c <= 0x202e) ||
  (c >= 0x2060 && c <= 0x2064) ||
  (c >= 0x2066 && c <= 0x2069) ||
  c === 0xfeff;

/** Nothing but a sentence end (and perhaps a polite word) before the hit (raw text). */
const SENTENCE_START =
  /(?:^|[.!?;:\n>*-])[\s"'`*]{0,4}(?:(?:now|please|then|also|and|ok|okay|next|finally|first)[\s,]{1,3}){0,2}$/i;
const QUOTES = new Set(['"', "'", '`', '“', '”', '‘', '’', '«', '»', '„', '「', '『']);

interface Hit {
  rule: Rule;
  weight: number;
  start: number;
  end: number;
  evasion: number;
}

interface Context {
  threshold: number;
  /** Whether the classifier scores each text (the second layer). */
  model: boolean;
  maxDecodeDepth: number;
  allowlist: ReadonlyArray<string | RegExp>;
  disabled: readonly string[];
  budget: DecodeBudget;
}

interface Unit {
  field?: string;
  role?: string;
}

function ruleOff(ctx: Context, id: string): boolean {
  for (const d of ctx.disabled) if (id === d || (d.endsWith('.') && id.startsWith(d))) return true;
  return false;
}

function excerpt(text: string, start: number, end: number): string {
  const max = SCAN_LIMITS.maxExcerpt;
  const s = visible(text.slice(start, Math.min(end, start + max)));
  return s.length > max || end - start > max ? `${s.slice(0, max - 1)}…` : s;
}

function severityOf(type: ThreatType, confidence: number): Severity {
  return confidence < 0.5 ? LOWER[BASE_SEVERITY[type]] : BASE_SEVERITY[type];
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const orCombine = (a: number, b: number) => 1 - (1 - a) * (1 - b);

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
 * Pre-filter of the trigger lookups: TRIGGER_FIRST[c0] when some trigger is a one-letter prefix
 * (or word) starting with c0, TRIGGER_PAIR[c0 c1] when some longer trigger starts with c0 c1
 * (9-bit characters as in `prefixKey`). A word passing neither triggers no rule.
 */
let TRIGGER_FIRST = new Uint8Array(0);
let TRIGGER_PAIR = new Uint8Array(0);

const NO_RULES = new Int32Array(0);
/** Rules triggered by a word, by its prefix key (memoized, bounded). */
const wordRulesCache = new Map<number, Int32Array>();

/** The rules (indexes, ascending) a word with prefix key `k3` triggers. */
function wordRules(k3: number): Int32Array {
  const c0 = (k3 >>> 18) & 511;
  const c1 = (k3 >>> 9) & 511;
  if (TRIGGER_FIRST[c0] === 0 && (c1 === 511 || TRIGGER_PAIR[(c0 << 9) | c1] === 0)) return NO_RULES;
  const hit = wordRulesCache.get(k3);
  if (hit) return hit;
  const k2 = k3 | 511;
  const k1 = k3 | PREFIX1_MASK;
  const keys = [k1];
  if (k2 !== k1) keys.push(k2);
  if (k3 !== k2) keys.push(k3);
  else keys.push(k3 | EXACT_FLAG); // a word of one or two characters
  const set = new Set<number>();
  for (const k of keys) for (const r of TRIGGERED_RULES.get(k) ?? []) set.add(r);
  const rules = set.size === 0 ? NO_RULES : Int32Array.from([...set].sort((x, y) => x - y));
  if (wordRulesCache.size < 1 << 16) wordRulesCache.set(k3, rules);
  return rules;
}

/**
 * Trigger words of the last {@link triggerPositions} call, grouped by rule: rule `r`'s skeleton
 * offsets (ascending) are `triggerAt[triggerFrom[r] .. triggerFrom[r + 1])`.
 */
let triggerAt = new Int32Array(256);
let triggerFrom = new Int32Array(0);
let triggerCount = new Int32Array(0);
let wordRuleLists: Int32Array[] = [];
let wordRulePos = new Int32Array(64);

/** Groups the trigger words among the first `wordLimit` words by rule (see {@link triggerAt}). */
function triggerPositions(sk: SkeletonView, wordLimit: number): void {
  const { keys, words } = sk;
  triggerCount.fill(0);
  let lists = 0;
  let total = 0;
  for (let w = 0; w < wordLimit; w++) {
    const rules = wordRules(keys[w] as number);
    if (rules.length === 0) continue;
    if (lists === wordRulePos.length) {
      const grown = new Int32Array(lists * 2);
      grown.set(wordRulePos);
      wordRulePos = grown;
    }
    wordRuleLists[lists] = rules;
    wordRulePos[lists++] = words[w] as number;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i] as number;
      triggerCount[r] = (triggerCount[r] as number) + 1;
    }
    total += rules.length;
  }
  let at = 0;
  for (let r = 0; r < RULES.length; r++) {
    triggerFrom[r] = at;
    at += triggerCount[r] as number;
  }
  triggerFrom[RULES.length] = at;
  if (triggerAt.length < total) triggerAt = new Int32Array(Math.max(total, triggerAt.length * 2));
  // Fill in word order, so each rule's offsets ascend (triggerCount becomes the fill cursor).
  for (let r = 0; r < RULES.length; r++) triggerCount[r] = triggerFrom[r] as number;
  for (let l = 0; l < lists; l++) {
    const rules = wordRuleLists[l] as Int32Array;
    const pos = wordRulePos[l] as number;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i] as number;
      const k = triggerCount[r] as number;
      triggerAt[k] = pos;
      triggerCount[r] = k + 1;
    }
  }
  if (wordRuleLists.length > 4096) wordRuleLists = [];
}

/** The raw view of a text: without invisible characters, which raw rules should see through. */
interface RawView {
  /** The text without invisible characters (raw rules match it). */
  rawText: string;
  /** Source offset of each `rawText` unit (and of its end), or null when nothing was removed. */
  rawMap: Int32Array | null;
}

// biome-ignore lint/suspicious/noMisleadingCharacterClass: U+034F is matched on its own, as an invisible character
const INVISIBLE = /[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

function rawView(text: string): RawView {
  // Raw rules see the text without invisible characters (`/etc/pass\u200bwd`), mapped back to source offsets.
  if (!INVISIBLE.test(text)) return { rawText: text, rawMap: null };
  const rawMap = new Int32Array(text.length + 1);
  let out = '';
  let k = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isInvisibleUnit(c)) continue;
    rawMap[k++] = i;
    out += text[i];
  }
  rawMap[k] = text.length;
  return { rawText: out, rawMap };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** For each rule (by index), a RegExp matching any of its stems, or null. */
let STEM_RES: (RegExp | null)[] = [];

/** Whether rule `ri`'s stems (if any) occur in the lower-cased raw text. */
function stemsPresent(ri: number, lower: string): boolean {
  const re = STEM_RES[ri];
  return re ? re.test(lower) : true;
}

/** Where a raw match begins after the newline or separator that may anchor it. */
const RAW_LEAD = /[^\s'"/]/;
const rawLead = (m: string) => Math.max(0, m.search(RAW_LEAD));

/** What each rule's pattern allows (by rule index), for skipping work in {@link mayCross}. */
let FACTS: PatternFacts[] = [];
/** Characters some skeleton pattern can start with (besides word starts). */
let FIRST_CHAR = new Uint8Array(0);

/** Rule hits of the phrase rules over one text. */
function phraseHits(text: string, ctx: Context): Hit[] {
  const sk = skeletonView(text);
  const { rawText, rawMap } = rawView(text);
  let lower: string | null = null;
  const hits: Hit[] = [];
  const cjk = sk.hasOtherScript;
  const max = SCAN_LIMITS.maxHitsPerRule;
  triggerPositions(sk, sk.wordCount);
  for (let ri = 0; ri < RULES.length; ri++) {
    const rule = RULES[ri] as Rule;
    if (rule.view !== 'raw' && rule.triggerKeys && rule.sticky && !(cjk && rule.cjk)) {
      // Tried at its trigger words only.
      const from = triggerFrom[ri] as number;
      const to = triggerFrom[ri + 1] as number;
      if (to === from) continue;
      if (ctx.disabled.length > 0 && ruleOff(ctx, rule.id)) continue;
      const re = rule.sticky;
      let next = 0;
      let found = 0;
      for (let k = from; k < to; k++) {
        const pos = triggerAt[k] as number;
        if (pos < next) continue;
        re.lastIndex = pos;
        const m = re.exec(sk.text);
        if (!m || m[0].length === 0) continue;
        skeletonHit(hits, rule, text, sk, pos, m[0].length);
        next = pos + m[0].length;
        if (++found >= max) break;
      }
      continue;
    }
    if (ctx.disabled.length > 0 && ruleOff(ctx, rule.id)) continue;
    if (rule.view === 'raw') {
      if (rule.stems) {
        lower ??= rawText.toLowerCase();
        if (!stemsPresent(ri, lower)) continue;
      }
      const re = rule.re;
      re.lastIndex = 0;
      for (let k = 0, m = re.exec(rawText); m && k < max; m = re.exec(rawText)) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        k++;
        // A raw match may begin with the newline or separator that anchors it.
        const lead = rawLead(m[0]);
        const i = m.index + lead;
        const len = m[0].length - lead;
        const start = rawMap ? (rawMap[i] as number) : i;
        const end = rawMap ? (rawMap[i + len - 1] as number) + 1 : i + len;
        hits.push({ rule, weight: adjust(rule, text, sk, start, -1), start, end, evasion: 0 });
      }
      continue;
    }
    if (rule.cjk && !cjk && rule.triggerKeys) continue;
    const start = (FACTS[ri] as PatternFacts).start;
    if (start && rule.sticky) {
      // The same matches as a global search, found by trying only the places where one can start.
      const re = rule.sticky;
      const t = sk.text;
      for (let p = 0, k = 0; p < t.length && k < max; p++) {
        if (!canStartAt(start, t, p)) continue;
        re.lastIndex = p;
        const m = re.exec(t);
        if (!m) continue;
        const len = m[0].length;
        if (len === 0) continue; // a global search would go on from p + 1
        k++;
        skeletonHit(hits, rule, text, sk, p, len);
        p += len - 1; // and from the end of the match
      }
      continue;
    }
    const re = rule.re;
    re.lastIndex = 0;
    for (let k = 0, m = re.exec(sk.text); m && k < max; m = re.exec(sk.text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      k++;
      skeletonHit(hits, rule, text, sk, m.index, m[0].length);
    }
  }
  return hits;
}

function skeletonHit(hits: Hit[], rule: Rule, text: string, sk: SkeletonView, at: number, len: number): void {
  const start = sk.starts[at] as number;
  const end = sk.ends[at + len - 1] as number;
  let evasion = 0;
  for (let i = at; i < at + len; i++) evasion += sk.evasion[i] as number;
  hits.push({ rule, weight: adjust(rule, text, sk, start, at), start, end, evasion });
}

/** Scratch for {@link mayCross}: spaces before each skeleton offset (from some offset on), candidate offsets. */
let spacesBefore = new Int32Array(512);
let candidates = new Int32Array(512);

/** First index in `a[0..n)` (non-decreasing) whose value minus `base` is not below `x`. */
function lowerBound(a: Int32Array, n: number, base: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) - base < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether {@link phraseHits} over `text` could return a hit that starts before `b - 1` and ends
 * after `b` (offsets in `text`). Never false when it could: it tries every rule the same way, at
 * every place before `b` where one of its matches could start and reach past `b` (see
 * `patterns.ts`), without the hit limits. So a window without such a hit can be skipped. With
 * `run`, `text` is `run.input.slice(from, from + text.length)` and its skeleton is taken from the run.
 */
function mayCross(text: string, b: number, ctx: Context, run: SkeletonRun | null, from: number): boolean {
  const disabled = ctx.disabled.length > 0;
  // Raw rules: a crossing match holds the character at b - 1 (a newline, unless masked) after its first.
  const newline = text.charCodeAt(b - 1) === 10;
  let raw: RawView | null = null;
  let lower: string | null = null;
  for (const ri of RAW_RULES) {
    const rule = RULES[ri] as Rule;
    if (newline && !(FACTS[ri] as PatternFacts).newlineInside) continue;
    if (disabled && ruleOff(ctx, rule.id)) continue;
    raw ??= rawView(text);
    if (rule.stems) {
      lower ??= raw.rawText.toLowerCase();
      if (!stemsPresent(ri, lower)) continue;
    }
    const { rawText, rawMap } = raw;
    const re = rule.re;
    re.lastIndex = 0;
    for (let m = re.exec(rawText); m; m = re.exec(rawText)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const lead = rawLead(m[0]);
      const i = m.index + lead;
      const len = m[0].length - lead;
      const start = rawMap ? (rawMap[i] as number) : i;
      const end = rawMap ? (rawMap[i + len - 1] as number) + 1 : i + len;
      if (start < b - 1 && end > b) return true;
      if (start >= b - 1) break; // later matches start later still
    }
  }

  const sk = run ? substringSkeleton(run, from, from + text.length) : skeletonView(text);
  const base = run ? from : 0; // source offset of `text` in the skeleton's offsets
  const n = sk.length;
  const t = sk.text;
  // A crossing skeleton hit starts before `limit` (its source starts before b - 1) and reaches `kb`
  // (the first character whose source ends after b). Source offsets never decrease along the skeleton.
  const limit = lowerBound(sk.starts, n, base, b - 1);
  const kb = lowerBound(sk.ends, n, base, b + 1);
  if (limit === 0 || kb === n) return false;
  // Spaces from offset p (>= spaceFrom) up to kb: spacesBefore[kb - spaceFrom] - spacesBefore[p - spaceFrom].
  const spaceFrom = Math.max(0, Math.min(limit, kb) - MAX_SKELETON_MATCH);
  const span = kb - spaceFrom;
  if (spacesBefore.length < span + 1) spacesBefore = new Int32Array(span + 64);
  spacesBefore[0] = 0;
  for (let i = 0; i < span; i++) {
    spacesBefore[i + 1] = (spacesBefore[i] as number) + (t.charCodeAt(spaceFrom + i) === 32 ? 1 : 0);
  }
  const spacesToKb = spacesBefore[span] as number;
  const cjk = sk.hasOtherScript;
  /** A match from skeleton offset `p` cannot end at or past `kb` (too few characters or spaces left). */
  const cannotReach = (p: number, f: PatternFacts) =>
    p < kb &&
    (p + f.maxChars <= kb || (p >= spaceFrom && spacesToKb - (spacesBefore[p - spaceFrom] as number) > f.maxSpaces));
  /** The skeleton span `[p, p + len)` comes from source text on both sides of `b`. */
  const crosses = (p: number, len: number) =>
    (sk.starts[p] as number) - base < b - 1 && (sk.ends[p + len - 1] as number) - base > b;
  /** The sticky rule `re` matches at `p` across `b`. */
  const crossesAt = (re: RegExp, p: number) => {
    re.lastIndex = p;
    const m = re.exec(t);
    return m !== null && m[0].length > 0 && crosses(p, m[0].length);
  };

  // Rules run at their trigger words: the words that start before `limit`.
  const words = lowerBound(sk.words, sk.wordCount, 0, limit);
  for (let w = 0; w < words; w++) {
    const p = sk.words[w] as number;
    const rules = wordRules(sk.keys[w] as number);
    for (let k = 0; k < rules.length; k++) {
      const ri = rules[k] as number;
      const rule = RULES[ri] as Rule;
      if (!rule.sticky || (cjk && rule.cjk)) continue; // run over the whole text below
      if (cannotReach(p, FACTS[ri] as PatternFacts)) continue;
      if (disabled && ruleOff(ctx, rule.id)) continue;
      if (crossesAt(rule.sticky as RegExp, p)) return true;
    }
  }

  // Rules run over the whole text: without triggers, or CJK rules in CJK text.
  let candidateCount = -1;
  for (const ri of cjk ? GLOBAL_RULES_CJK : GLOBAL_RULES) {
    const rule = RULES[ri] as Rule;
    if (disabled && ruleOff(ctx, rule.id)) continue;
    const f = FACTS[ri] as PatternFacts;
    const start = f.start;
    if (start && rule.sticky) {
      // Every match starts at a word start or at one of a few characters: try just those places.
      if (candidateCount < 0) {
        if (candidates.length < limit) candidates = new Int32Array(limit + 64);
        candidateCount = 0;
        for (let p = 0; p < limit; p++) {
          if (p === 0 || t.charCodeAt(p - 1) === 32 || FIRST_CHAR[t.charCodeAt(p)] === 1)
            candidates[candidateCount++] = p;
        }
      }
      const re = rule.sticky;
      for (let k = 0; k < candidateCount; k++) {
        const p = candidates[k] as number;
        if (cannotReach(p, f)) continue;
        if (!canStartAt(start, t, p)) continue;
        if (crossesAt(re, p)) return true;
      }
      continue;
    }
    const re = rule.re;
    re.lastIndex = 0;
    for (let m = re.exec(t); m; m = re.exec(t)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const p = m.index;
      if (crosses(p, m[0].length)) return true;
      if (p >= limit) break;
    }
  }
  return false;
}

let RAW_RULES: number[] = [];
/** Skeleton rules run over the whole text (not at trigger words), in text without and with CJK letters. */
let GLOBAL_RULES: number[] = [];
let GLOBAL_RULES_CJK: number[] = [];
/** Longest match of any skeleton rule (spaces are only counted that far back). */
let MAX_SKELETON_MATCH = 0;

/** The compiled rules and the tables derived from them. */
let RULES: readonly Rule[] = [];
let TRIGGERED_RULES: ReadonlyMap<number, readonly number[]> = new Map();

/**
 * Builds the rule tables above on the first scan rather than at import, so
 * that loading m2m stays fast for applications that never scan.
 */
function prepare(): void {
  if (RULES.length > 0) return;
  const rules = phraseRules();
  TRIGGERED_RULES = triggeredRules();
  TRIGGER_FIRST = new Uint8Array(512);
  TRIGGER_PAIR = new Uint8Array(1 << 18);
  for (const k of TRIGGERED_RULES.keys()) {
    const c0 = (k >>> 18) & 511;
    const c1 = (k >>> 9) & 511;
    if (c1 === 511) TRIGGER_FIRST[c0] = 1;
    else TRIGGER_PAIR[(c0 << 9) | c1] = 1;
  }
  triggerFrom = new Int32Array(rules.length + 1);
  triggerCount = new Int32Array(rules.length);
  STEM_RES = rules.map((r) => (r.stems ? new RegExp(r.stems.map(escapeRe).join('|')) : null));
  FACTS = rules.map((r) => patternFacts(r.re));
  FIRST_CHAR = new Uint8Array(65536);
  for (const f of FACTS) for (const c of f.start?.first ?? []) FIRST_CHAR[c] = 1;
  RAW_RULES = [];
  GLOBAL_RULES = [];
  GLOBAL_RULES_CJK = [];
  rules.forEach((r, i) => {
    if (r.view === 'raw') RAW_RULES.push(i);
    else {
      // As in phraseHits: on triggers when it has them (and, in CJK text, is no CJK rule).
      if (!(r.triggerKeys && r.sticky) && !(r.cjk && r.triggerKeys)) GLOBAL_RULES.push(i);
      if (!(r.triggerKeys && r.sticky && !r.cjk)) GLOBAL_RULES_CJK.push(i);
    }
  });
  MAX_SKELETON_MATCH = Math.min(
    1 << 20,
    Math.max(0, ...rules.map((r, i) => (r.view === 'raw' ? 0 : (FACTS[i] as PatternFacts).maxChars))),
  );
  RULES = rules;
}

/** The rule's weight in its context (`at`: the hit's skeleton offset, or -1 for a raw hit). */
function adjust(rule: Rule, text: string, sk: SkeletonView, start: number, at: number): number {
  let w = rule.weight;
  if (!rule.negatable && !rule.questionable && !rule.before && !rule.sentenceStart && rule.view === 'raw') return w;
  const beforeRaw = text.slice(Math.max(0, start - 80), start);
  if (rule.sentenceStart !== null && SENTENCE_START.test(beforeRaw)) w = Math.max(w, rule.sentenceStart);
  // The skeleton just before the hit (found by binary search for raw hits).
  let k = at;
  if (k < 0) {
    let lo = 0;
    let hi = sk.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sk.starts[mid] as number) < start) lo = mid + 1;
      else hi = mid;
    }
    k = lo;
  }
  const before = sk.text.slice(Math.max(0, k - 80), k).trimEnd();
  const near = before.slice(-28);
  if (rule.before?.re.test(text.slice(Math.max(0, start - 60), start))) w = Math.max(w, rule.before.weight);
  if (rule.negatable && NEGATION.test(near)) w *= 0.35;
  if (rule.questionable && QUESTION.test(before.slice(-40))) w *= 0.6;
  // A quoted phrase in a sentence about detection or examples.
  let q = beforeRaw.length - 1;
  while (q >= 0 && beforeRaw[q] === ' ') q--;
  if (q >= 0 && QUOTES.has(beforeRaw[q] as string) && META.test(before)) w *= 0.7;
  return w;
}

/** Threats from hits, with combined confidences. */
function combine(hits: Hit[], unit: Unit, extraEvasion: number, keep?: (h: Hit) => boolean): Threat[] {
  const threats: Threat[] = [];
  const W = SCAN_LIMITS.supportWindow;
  for (const h of hits) {
    if (keep && !keep(h)) continue;
    // Strongest hit of each other rule nearby.
    // Strongest support from each other rule nearby; words matched by both rules count half.
    const best = new Map<string, number>();
    let covered = false;
    for (const o of hits) {
      if (o.rule.id === h.rule.id || o.start > h.end + W || o.end < h.start - W) continue;
      let support = o.weight;
      if (o.start < h.end && o.end > h.start) {
        if (o.rule.type === h.rule.type && (o.weight > h.weight || (o.weight === h.weight && o.rule.id < h.rule.id)))
          covered = true;
        support *= 0.5;
      }
      if (o.rule.type !== h.rule.type) support *= FAMILY.has(o.rule.type) && FAMILY.has(h.rule.type) ? 0.4 : 0;
      if (support > (best.get(o.rule.id) ?? 0)) best.set(o.rule.id, support);
    }
    if (covered) continue;
    let c = h.weight;
    for (const support of best.values()) c = orCombine(c, support);
    const evasion = h.evasion + extraEvasion;
    if (evasion >= 3) c = orCombine(c, 0.45);
    else if (evasion > 0) c = orCombine(c, 0.3);
    if (h.rule.type === 'PROMPT_INJECTION' && (unit.role === 'tool' || unit.role === 'function'))
      c = orCombine(c, 0.25);
    c = Math.min(0.99, c);
    threats.push({
      type: h.rule.type,
      severity: 'low',
      confidence: c,
      rule: h.rule.id,
      evidence: { match: '', offset: h.start, length: h.end - h.start },
    });
  }
  return threats;
}

function finishEvidence(threats: Threat[], text: string, unit: Unit): void {
  for (const t of threats) {
    const e = t.evidence;
    if (e.match === '') e.match = excerpt(text, e.offset, e.offset + e.length);
    if (unit.field !== undefined && e.field === undefined) e.field = unit.field;
  }
}

/** Classifier scores below this (on the confidence scale) are not reported. */
const MODEL_REPORT_MIN = 0.3;
/** How much of the classifier's confidence a rule finding inside its window gains (noisy-OR). */
const MODEL_SUPPORT = 0.5;

/**
 * The classifier over one text: a finding of its own (rule `model.<class>`, the window as
 * evidence), and support for the rule findings of the injection/jailbreak/exfiltration family
 * inside that window, so weak rule findings and a middling score add up.
 */
function modelLayer(text: string, ctx: Context, phrase: Threat[]): void {
  if (ruleOff(ctx, 'model.')) return;
  const v = classify(text);
  const c = modelConfidence(v.score, DEFAULT_THRESHOLD);
  for (const t of phrase) {
    const e = t.evidence;
    if (!FAMILY.has(t.type) || e.offset >= v.end || e.offset + e.length <= v.start) continue;
    // Weak findings and a middling score add up; when the classifier flags the window, a rule
    // finding in it ranks just above the classifier's own finding (it is the explainable one).
    let raised = orCombine(t.confidence, MODEL_SUPPORT * c);
    if (c >= DEFAULT_THRESHOLD) raised = Math.max(raised, c + 0.04 * t.confidence); // keeps the rules' order
    t.confidence = Math.min(0.99, raised);
  }
  if (c < MODEL_REPORT_MIN || ruleOff(ctx, v.rule)) return;
  phrase.push({
    type: v.type,
    severity: 'low',
    confidence: c,
    rule: v.rule,
    evidence: { match: '', offset: v.start, length: v.end - v.start },
  });
}

/** Roles whose text is the operator's own (a system prompt is not an attack on itself). */
const OPERATOR_ROLES = new Set(['system', 'developer']);

/** Scans one text: characters, phrases, nesting, encoded payloads (recursively). */
function scanUnit(text: string, ctx: Context, unit: Unit, depth: number): Threat[] {
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
  const phrase = combine(phraseHits(masked, ctx), unit, 0);
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
  for (const t of threats)
    if (unit.field !== undefined && t.evidence.field === undefined) t.evidence.field = unit.field;
  if (unit.role !== undefined && OPERATOR_ROLES.has(unit.role)) return threats.filter((t) => !FAMILY.has(t.type));
  return threats;
}

/** A threat found in decoded text, moved to the encoded run it came from. */
function hidden(t: Threat, run: { offset: number; length: number }, from: DecodedFrom): Threat {
  return {
    ...t,
    confidence: Math.min(0.99, orCombine(t.confidence, 0.3)),
    evidence: { match: t.evidence.match, offset: run.offset, length: run.length, decodedFrom: from },
  };
}

function nestingThreat(text: string, maxDepth: number, at: number, confidence: number): Threat {
  return {
    type: 'EXCESSIVE_NESTING',
    severity: 'low',
    confidence,
    rule: 'nesting.json-depth',
    evidence: {
      match: `depth ${maxDepth} > ${MAX_JSON_DEPTH}: ${excerpt(text, at, at + 40)}`.slice(0, SCAN_LIMITS.maxExcerpt),
      offset: at,
      length: 1,
    },
  };
}

// ------------------------------------------------------------------ split messages

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
    if (!mayCross(masked, b0, ctx, run, from)) continue;
    const hits = phraseHits(masked, ctx);
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
  const mode = o.mode ?? 'monitor';
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
  if (triggerAt.length > 1 << 18) triggerAt = new Int32Array(256);
  if (wordRulePos.length > 1 << 18) wordRulePos = new Int32Array(64);
  wordRuleLists = [];
  if (spacesBefore.length > 1 << 18) spacesBefore = new Int32Array(512);
  if (candidates.length > 1 << 18) candidates = new Int32Array(512);
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
  prepare();
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
  prepare();
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
  return { mode: 'monitor', threshold: DEFAULT_THRESHOLD, maxDecodeDepth: DEFAULT_DECODE_DEPTH };
}
