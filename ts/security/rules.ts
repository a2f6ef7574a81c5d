/**
 * The rule compiler: turns the rule data (`rule-data.ts`) into an immutable
 * {@link RuleSet} — each rule's regular expressions, the words that trigger it
 * and the tables the matcher (`matcher.ts`) uses to skip work. Skeleton
 * patterns are written in a small pattern language (see `rule-data.ts`),
 * expanded by {@link compile}.
 */
import { EXACT_FLAG, prefixKey } from './normalize.js';
import { type PatternFacts, patternFacts } from './patterns.js';
import { RULE_DEFS, type RuleDef } from './rule-data.js';
import type { ThreatType } from './types.js';

export interface Rule {
  id: string;
  type: ThreatType;
  weight: number;
  /** `skeleton` (default) or `raw` (case-insensitive, punctuation kept). */
  view: 'skeleton' | 'raw';
  re: RegExp;
  /** The same pattern, sticky: tried only at the words its triggers point to. */
  sticky: RegExp | null;
  /** Lower-case substrings of which at least one must occur for the rule to run (a cheap pre-filter). */
  stems: readonly string[] | null;
  /** Suspicious only as an instruction: a negation just before it (`never reveal ...`) weakens it. */
  negatable: boolean;
  /** A "how do I ..." question just before it weakens it (programming questions about env vars, files). */
  questionable: boolean;
  /** Raw-text context just before the hit that raises its weight (e.g. `cat` before `/etc/passwd`). */
  before: { re: RegExp; weight: number } | null;
  /** Weight when the hit opens a sentence (an imperative aimed at the model rather than a clause). */
  sentenceStart: number | null;
  /**
   * Skeleton rules: prefixes (1-3 characters) of the words a match can start with; the rule runs
   * only on texts with such a word. Null: always run.
   */
  triggers: readonly string[] | null;
  /** {@link prefixKey}s of `triggers`. */
  triggerKeys: readonly number[] | null;
  /** Skeleton rules with a CJK alternative: also run when the text has CJK characters. */
  cjk: boolean;
}

/** Expands the pattern mini-language into a RegExp source. */
export function compile(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      out += c + (pattern[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === ' ') {
      out += ' ?';
    } else if (c === 'l') {
      out += '[li]';
    } else if (c === '<') {
      out += '(?<![^ ])';
    } else if (c === '>') {
      out += '(?![^ ])';
    } else if (c === '~') {
      const n = Number(pattern[i + 1]);
      out += `(?: [^ ]{1,20}){0,${n}}`;
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

/** Index of the parenthesis closing the group that opens at `open`. */
function closing(p: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Top-level alternatives of a group body. */
function alternatives(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(body.slice(start, i));
      start = i + 1;
    }
  }
  out.push(body.slice(start));
  return out;
}

const LETTER_RUN = /^[a-z\u0400-\u04ff]+/;

/**
 * The words a pattern can start with, as 1-3 character prefixes (with `l`/`i` both for leetspeak),
 * and whether it has a CJK alternative. Null when the start cannot be told (the rule then always runs).
 */
export function startWords(pattern: string): { prefixes: string[]; cjk: boolean } | null {
  let p = pattern;
  if (p.startsWith('<')) p = p.slice(1);
  if (p.startsWith('(?:')) {
    const end = closing(p, 0);
    if (end < 0 || /^[?*{]/.test(p.slice(end + 1))) return null;
    const result = { prefixes: [] as string[], cjk: false };
    for (const alt of alternatives(p.slice(3, end))) {
      const sub = startWords(alt + p.slice(end + 1));
      if (!sub) return null;
      result.prefixes.push(...sub.prefixes);
      result.cjk ||= sub.cjk;
    }
    return result;
  }
  const first = p.codePointAt(0) ?? 0;
  if (first >= 0x2e80) return { prefixes: [], cjk: true };
  const m = LETTER_RUN.exec(p);
  if (!m) return null;
  let run = m[0];
  let rest = p.slice(run.length);
  if (/^[?*{]/.test(rest)) run = run.slice(0, -1);
  if (run.length === 0) return null;
  // A short first word followed by more letters: the word itself, or its joined form (`do not` / `donot`).
  const exact: string[] = [];
  while (run.length < 3 && rest.startsWith(' ') && run === m[0]) {
    const next = LETTER_RUN.exec(rest.slice(1));
    if (!next) break;
    exact.push(`=${run}`);
    rest = rest.slice(1 + next[0].length);
    run = (run + next[0]).slice(0, 3);
    if (/^[?*{]/.test(rest) && run.length < 3) return null;
  }
  let keys = [''];
  for (const c of run.slice(0, 3)) keys = keys.flatMap((k) => (c === 'l' ? [`${k}l`, `${k}i`] : [k + c]));
  return { prefixes: [...keys, ...exact.slice(0, 1)], cjk: false };
}

function keyOf(trigger: string): number {
  const exact = trigger.startsWith('=');
  const p = exact ? trigger.slice(1) : trigger;
  const key = prefixKey(p.charCodeAt(0), p.length > 1 ? p.charCodeAt(1) : -1, p.length > 2 ? p.charCodeAt(2) : -1);
  return exact ? key | EXACT_FLAG : key;
}

function toRule(raw: RuleDef): Rule {
  const view = raw.view ?? 'skeleton';
  // Skeleton patterns are folded like the text (NFKD, marks dropped), so they may be written with accents.
  const def = view === 'skeleton' ? { ...raw, pattern: raw.pattern.normalize('NFKD').replace(/\p{M}/gu, '') } : raw;
  const start = view === 'skeleton' ? startWords(def.pattern) : null;
  const source = view === 'raw' ? def.pattern : compile(def.pattern);
  return {
    id: def.id,
    type: def.type,
    weight: def.weight,
    view,
    re: new RegExp(source, view === 'raw' ? 'gim' : 'g'),
    sticky: view === 'raw' ? null : new RegExp(source, 'y'),
    stems: def.stems ?? null,
    negatable: def.negatable ?? false,
    questionable: def.questionable ?? false,
    before: def.before ?? null,
    sentenceStart: def.sentenceStart ?? null,
    triggers: start ? [...new Set(start.prefixes)] : null,
    triggerKeys: start ? [...new Set(start.prefixes)].map(keyOf) : null,
    cjk: start ? start.cjk : false,
  };
}

/** The compiled rules and every table derived from them; frozen, built once per rule list. */
export interface RuleSet {
  readonly rules: readonly Rule[];
  /** For each trigger key ({@link prefixKey}), the indexes of the rules it triggers. */
  readonly triggered: ReadonlyMap<number, readonly number[]>;
  /**
   * Pre-filter of the trigger lookups: `triggerFirst[c0]` when some trigger is a one-letter
   * prefix (or word) starting with c0, `triggerPair[c0 c1]` when some longer trigger starts with
   * c0 c1 (9-bit characters as in {@link prefixKey}). A word passing neither triggers no rule.
   */
  readonly triggerFirst: Uint8Array;
  readonly triggerPair: Uint8Array;
  /** For each rule, a RegExp matching any of its stems, or null. */
  readonly stemRes: readonly (RegExp | null)[];
  /**
   * A RegExp matching any stem of any raw rule, when every raw rule has stems (else null): a text
   * it does not match (lower-cased) runs no raw rule.
   */
  readonly rawStems: RegExp | null;
  /** What each rule's pattern allows, for skipping work. */
  readonly facts: readonly PatternFacts[];
  /** Characters some skeleton pattern can start with (besides word starts). */
  readonly firstChar: Uint8Array;
  /** Raw-text rules. */
  readonly rawRules: readonly number[];
  /** Skeleton rules run over the whole text (not at trigger words), in text without CJK letters. */
  readonly globalRules: readonly number[];
  /** The same, in text with CJK letters. */
  readonly globalRulesCjk: readonly number[];
  /** Longest match of any skeleton rule (spaces are only counted that far back). */
  readonly maxSkeletonMatch: number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Compiles rule definitions into a {@link RuleSet}. */
export function compileRuleSet(defs: readonly RuleDef[]): RuleSet {
  const rules = Object.freeze(defs.map(toRule));
  const triggered = new Map<number, number[]>();
  rules.forEach((r, i) => {
    for (const k of r.triggerKeys ?? []) {
      const list = triggered.get(k);
      if (list) list.push(i);
      else triggered.set(k, [i]);
    }
  });
  const triggerFirst = new Uint8Array(512);
  const triggerPair = new Uint8Array(1 << 18);
  for (const k of triggered.keys()) {
    const c0 = (k >>> 18) & 511;
    const c1 = (k >>> 9) & 511;
    if (c1 === 511) triggerFirst[c0] = 1;
    else triggerPair[(c0 << 9) | c1] = 1;
  }
  const facts = rules.map((r) => patternFacts(r.re));
  const firstChar = new Uint8Array(65536);
  for (const f of facts) for (const c of f.start?.first ?? []) firstChar[c] = 1;
  const rawRules: number[] = [];
  const globalRules: number[] = [];
  const globalRulesCjk: number[] = [];
  rules.forEach((r, i) => {
    if (r.view === 'raw') rawRules.push(i);
    else {
      // As in the matcher: on triggers when it has them (and, in CJK text, is no CJK rule).
      if (!(r.triggerKeys && r.sticky) && !(r.cjk && r.triggerKeys)) globalRules.push(i);
      if (!(r.triggerKeys && r.sticky && !r.cjk)) globalRulesCjk.push(i);
    }
  });
  const maxSkeletonMatch = Math.min(
    1 << 20,
    Math.max(0, ...rules.map((r, i) => (r.view === 'raw' ? 0 : (facts[i] as PatternFacts).maxChars))),
  );
  return Object.freeze({
    rules,
    triggered,
    triggerFirst,
    triggerPair,
    stemRes: Object.freeze(rules.map((r) => (r.stems ? new RegExp(r.stems.map(escapeRe).join('|')) : null))),
    rawStems: rawRules.every((i) => (rules[i] as Rule).stems)
      ? new RegExp(
          rawRules
            .flatMap((i) => (rules[i] as Rule).stems as readonly string[])
            .map(escapeRe)
            .join('|'),
        )
      : null,
    facts: Object.freeze(facts),
    firstChar,
    rawRules: Object.freeze(rawRules),
    globalRules: Object.freeze(globalRules),
    globalRulesCjk: Object.freeze(globalRulesCjk),
    maxSkeletonMatch,
  });
}

let builtIn: RuleSet | undefined;

/**
 * The package's own rules, compiled on first use: compiling takes some milliseconds, which an
 * application that never scans should not pay at start-up.
 */
export function builtInRules(): RuleSet {
  builtIn ??= compileRuleSet(RULE_DEFS);
  return builtIn;
}

/** Every built-in phrase rule, compiled. */
export function phraseRules(): readonly Rule[] {
  return builtInRules().rules;
}
