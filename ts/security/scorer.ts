/**
 * The scorer: a hit's weight in its context, hits combined into threats with
 * one confidence each (noisy-OR over nearby hits, evasion and role), and the
 * learned classifier's layer over the rule findings. See `scanner.ts` for the
 * whole computation.
 */
import { type Context, DEFAULT_THRESHOLD, ruleOff, SCAN_LIMITS, type Unit } from './context.js';
import { classify, modelConfidence } from './model.js';
import type { SkeletonView } from './normalize.js';
import type { Rule } from './rules.js';
import { MAX_JSON_DEPTH } from './structure.js';
import type { DecodedFrom, Severity, Threat, ThreatType } from './types.js';
import { visible } from './unicode.js';

const BASE_SEVERITY: Record<ThreatType, Severity> = {
  PROMPT_INJECTION: 'high',
  JAILBREAK: 'critical',
  DATA_EXFILTRATION: 'high',
  MALFORMED_INPUT: 'medium',
  EXCESSIVE_NESTING: 'medium',
};
const LOWER: Record<Severity, Severity> = { low: 'low', medium: 'low', high: 'medium', critical: 'high' };

/** The threat types of attacks on the model (as opposed to malformed input). */
export const FAMILY = new Set<ThreatType>(['PROMPT_INJECTION', 'JAILBREAK', 'DATA_EXFILTRATION']);

/** Negations right before an instruction (skeleton text). */
const NEGATION =
  /(?:^| )(?:never|not|dont|do not|does not|doesnt|cannot|cant|can not|wont|will not|must not|mustnt|should not|shouldnt|refuse|refuses|refusing|avoid|avoids|prevent|prevents|block|blocks|detect|detects|against|prohibit|prohibits|forbid|forbids|forbidden|disallow|no one should|nunca|jamais|ne pas|niemals|nicht|kein|никогда|не|нельзя)(?: [^ ]{1,12}){0,2} ?$|(?:不要|别|請勿|请勿|切勿|禁止|不得|不可|绝不|絕不)$/;
/** A how-to question just before (skeleton text). */
const QUESTION =
  /(?:^| )(?:how|how do i|how can i|how to|how would i|where|is it safe to|should i|best way to|wie|como|comment|как|如何|怎么|怎樣|怎样)(?: |$)/;
/** Sentences about detection or examples (skeleton text). */
const META =
  /(?:^| )(?:example|examples|such as|like|detect|detects|detection|classifier|filter|flag|flags|phrase|phrases|called|known as|attack|attacks|injection|injections|pattern|patterns|regex|means|meaning|test case|dataset|string|strings|block|blocks|blocked|contains?|e g|eg|for instance)(?: |$)/;

/** Nothing but a sentence end (and perhaps a polite word) before the hit (raw text). */
const SENTENCE_START =
  /(?:^|[.!?;:\n>*-])[\s"'`*]{0,4}(?:(?:now|please|then|also|and|ok|okay|next|finally|first)[\s,]{1,3}){0,2}$/i;
const QUOTES = new Set(['"', "'", '`', '“', '”', '‘', '’', '«', '»', '„', '「', '『']);

/** A rule match in a text, before scoring. */
export interface Hit {
  rule: Rule;
  weight: number;
  start: number;
  end: number;
  evasion: number;
}

export function excerpt(text: string, start: number, end: number): string {
  const max = SCAN_LIMITS.maxExcerpt;
  const s = visible(text.slice(start, Math.min(end, start + max)));
  return s.length > max || end - start > max ? `${s.slice(0, max - 1)}…` : s;
}

export function severityOf(type: ThreatType, confidence: number): Severity {
  return confidence < 0.5 ? LOWER[BASE_SEVERITY[type]] : BASE_SEVERITY[type];
}

export const round = (x: number) => Math.round(x * 1000) / 1000;
export const orCombine = (a: number, b: number) => 1 - (1 - a) * (1 - b);

/** The rule's weight in its context (`at`: the hit's skeleton offset, or -1 for a raw hit). */
export function adjust(rule: Rule, text: string, sk: SkeletonView, start: number, at: number): number {
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
export function combine(hits: Hit[], unit: Unit, extraEvasion: number, keep?: (h: Hit) => boolean): Threat[] {
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

export function finishEvidence(threats: Threat[], text: string, unit: Unit): void {
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
export function modelLayer(text: string, ctx: Context, phrase: Threat[]): void {
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

/** A threat found in decoded text, moved to the encoded run it came from. */
export function hidden(t: Threat, run: { offset: number; length: number }, from: DecodedFrom): Threat {
  return {
    ...t,
    confidence: Math.min(0.99, orCombine(t.confidence, 0.3)),
    evidence: { match: t.evidence.match, offset: run.offset, length: run.length, decodedFrom: from },
  };
}

export function nestingThreat(text: string, maxDepth: number, at: number, confidence: number): Threat {
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
