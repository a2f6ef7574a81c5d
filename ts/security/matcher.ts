/**
 * The matcher: finds where the phrase rules of a {@link RuleSet} match a text
 * (over its skeleton, or over the raw text for raw rules), trying each rule
 * only where one of its trigger words or start characters is, and tells
 * whether a window could hold a match across a message boundary. Its scratch
 * buffers belong to the instance; scans are synchronous, so one instance
 * serves them all.
 */
import { type Context, ruleOff, SCAN_LIMITS } from './context.js';
import {
  EXACT_FLAG,
  PREFIX1_MASK,
  type SkeletonRun,
  type SkeletonView,
  skeletonView,
  substringSkeleton,
} from './normalize.js';
import { canStartAt, type PatternFacts } from './patterns.js';
import type { Rule, RuleSet } from './rules.js';
import { adjust, type Hit } from './scorer.js';

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
/** Where a raw match begins after the newline or separator that may anchor it. */
const RAW_LEAD = /[^\s'"/]/;
const rawLead = (m: string) => Math.max(0, m.search(RAW_LEAD));

const NO_RULES = new Int32Array(0);

function skeletonHit(hits: Hit[], rule: Rule, text: string, sk: SkeletonView, at: number, len: number): void {
  const start = sk.starts[at] as number;
  const end = sk.ends[at + len - 1] as number;
  let evasion = 0;
  for (let i = at; i < at + len; i++) evasion += sk.evasion[i] as number;
  hits.push({ rule, weight: adjust(rule, text, sk, start, at), start, end, evasion });
}

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

/** Finds rule matches for one {@link RuleSet}, with scratch buffers of its own. */
export class Matcher {
  private readonly wordRulesCache = new Map<number, Int32Array>();
  /**
   * Trigger words of the last {@link triggerPositions} call, grouped by rule: rule `r`'s skeleton
   * offsets (ascending) are `triggerAt[triggerFrom[r] .. triggerFrom[r + 1])`.
   */
  private triggerAt = new Int32Array(256);
  private readonly triggerFrom: Int32Array;
  private readonly triggerCount: Int32Array;
  private wordRuleLists: Int32Array[] = [];
  private wordRulePos = new Int32Array(64);
  /** Scratch for {@link mayCross}: spaces before each skeleton offset (from some offset on), candidate offsets. */
  private spacesBefore = new Int32Array(512);
  private candidates = new Int32Array(512);

  constructor(readonly set: RuleSet) {
    this.triggerFrom = new Int32Array(set.rules.length + 1);
    this.triggerCount = new Int32Array(set.rules.length);
  }

  /** The rules (indexes, ascending) a word with prefix key `k3` triggers. */
  wordRules(k3: number): Int32Array {
    const c0 = (k3 >>> 18) & 511;
    const c1 = (k3 >>> 9) & 511;
    if (this.set.triggerFirst[c0] === 0 && (c1 === 511 || this.set.triggerPair[(c0 << 9) | c1] === 0)) return NO_RULES;
    const hit = this.wordRulesCache.get(k3);
    if (hit) return hit;
    const k2 = k3 | 511;
    const k1 = k3 | PREFIX1_MASK;
    const keys = [k1];
    if (k2 !== k1) keys.push(k2);
    if (k3 !== k2) keys.push(k3);
    else keys.push(k3 | EXACT_FLAG); // a word of one or two characters
    const set = new Set<number>();
    for (const k of keys) for (const r of this.set.triggered.get(k) ?? []) set.add(r);
    const rules = set.size === 0 ? NO_RULES : Int32Array.from([...set].sort((x, y) => x - y));
    if (this.wordRulesCache.size < 1 << 16) this.wordRulesCache.set(k3, rules);
    return rules;
  }

  /**
   * Trigger words of the last {@link triggerPositions} call, grouped by rule: rule `r`'s skeleton

  /** Groups the trigger words among the first `wordLimit` words by rule (see {@link this.triggerAt}). */
  triggerPositions(sk: SkeletonView, wordLimit: number): void {
    const { keys, words } = sk;
    this.triggerCount.fill(0);
    let lists = 0;
    let total = 0;
    for (let w = 0; w < wordLimit; w++) {
      const rules = this.wordRules(keys[w] as number);
      if (rules.length === 0) continue;
      if (lists === this.wordRulePos.length) {
        const grown = new Int32Array(lists * 2);
        grown.set(this.wordRulePos);
        this.wordRulePos = grown;
      }
      this.wordRuleLists[lists] = rules;
      this.wordRulePos[lists++] = words[w] as number;
      for (let i = 0; i < rules.length; i++) {
        const r = rules[i] as number;
        this.triggerCount[r] = (this.triggerCount[r] as number) + 1;
      }
      total += rules.length;
    }
    if (lists === 0) {
      this.triggerFrom.fill(0);
      return;
    }
    let at = 0;
    for (let r = 0; r < this.set.rules.length; r++) {
      this.triggerFrom[r] = at;
      at += this.triggerCount[r] as number;
    }
    this.triggerFrom[this.set.rules.length] = at;
    if (this.triggerAt.length < total) this.triggerAt = new Int32Array(Math.max(total, this.triggerAt.length * 2));
    // Fill in word order, so each rule's offsets ascend (this.triggerCount becomes the fill cursor).
    for (let r = 0; r < this.set.rules.length; r++) this.triggerCount[r] = this.triggerFrom[r] as number;
    for (let l = 0; l < lists; l++) {
      const rules = this.wordRuleLists[l] as Int32Array;
      const pos = this.wordRulePos[l] as number;
      for (let i = 0; i < rules.length; i++) {
        const r = rules[i] as number;
        const k = this.triggerCount[r] as number;
        this.triggerAt[k] = pos;
        this.triggerCount[r] = k + 1;
      }
    }
    if (this.wordRuleLists.length > 4096) this.wordRuleLists = [];
  }

  /** Whether rule `ri`'s stems (if any) occur in the lower-cased raw text. */
  stemsPresent(ri: number, lower: string): boolean {
    const re = this.set.stemRes[ri];
    return re ? re.test(lower) : true;
  }

  /** Rule hits of the phrase rules over one text. */
  phraseHits(text: string, ctx: Context): Hit[] {
    const sk = skeletonView(text);
    const { rawText, rawMap } = rawView(text);
    let lower: string | null = null;
    const hits: Hit[] = [];
    const cjk = sk.hasOtherScript;
    const max = SCAN_LIMITS.maxHitsPerRule;
    this.triggerPositions(sk, sk.wordCount);
    // No stem of any raw rule in the text: no raw rule runs (each would skip itself on its stems).
    let rawPossible = true;
    if (this.set.rawStems !== null) {
      lower = rawText.toLowerCase();
      rawPossible = this.set.rawStems.test(lower);
    }
    for (let ri = 0; ri < this.set.rules.length; ri++) {
      const rule = this.set.rules[ri] as Rule;
      if (rule.view !== 'raw' && rule.triggerKeys && rule.sticky && !(cjk && rule.cjk)) {
        // Tried at its trigger words only.
        const from = this.triggerFrom[ri] as number;
        const to = this.triggerFrom[ri + 1] as number;
        if (to === from) continue;
        if (ctx.disabled.length > 0 && ruleOff(ctx, rule.id)) continue;
        const re = rule.sticky;
        let next = 0;
        let found = 0;
        for (let k = from; k < to; k++) {
          const pos = this.triggerAt[k] as number;
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
      if (rule.view === 'raw' && !rawPossible) continue;
      if (ctx.disabled.length > 0 && ruleOff(ctx, rule.id)) continue;
      if (rule.view === 'raw') {
        if (rule.stems) {
          lower ??= rawText.toLowerCase();
          if (!this.stemsPresent(ri, lower)) continue;
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
      const start = (this.set.facts[ri] as PatternFacts).start;
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

  /**
   * Whether {@link phraseHits} over `text` could return a hit that starts before `b - 1` and ends
   * after `b` (offsets in `text`). Never false when it could: it tries every rule the same way, at
   * every place before `b` where one of its matches could start and reach past `b` (see
   * `patterns.ts`), without the hit limits. So a window without such a hit can be skipped. With
   * `run`, `text` is `run.input.slice(from, from + text.length)` and its skeleton is taken from the run.
   */
  mayCross(text: string, b: number, ctx: Context, run: SkeletonRun | null, from: number): boolean {
    const disabled = ctx.disabled.length > 0;
    // Raw rules: a crossing match holds the character at b - 1 (a newline, unless masked) after its first.
    const newline = text.charCodeAt(b - 1) === 10;
    let raw: RawView | null = null;
    let lower: string | null = null;
    let rawPossible = true;
    for (const ri of this.set.rawRules) {
      if (!rawPossible) break;
      const rule = this.set.rules[ri] as Rule;
      if (newline && !(this.set.facts[ri] as PatternFacts).newlineInside) continue;
      if (disabled && ruleOff(ctx, rule.id)) continue;
      if (raw === null) {
        raw = rawView(text);
        if (this.set.rawStems !== null) {
          lower = raw.rawText.toLowerCase();
          rawPossible = this.set.rawStems.test(lower);
          if (!rawPossible) break;
        }
      }
      if (rule.stems) {
        lower ??= raw.rawText.toLowerCase();
        if (!this.stemsPresent(ri, lower)) continue;
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
    // Spaces from offset p (>= spaceFrom) up to kb: this.spacesBefore[kb - spaceFrom] - this.spacesBefore[p - spaceFrom].
    const spaceFrom = Math.max(0, Math.min(limit, kb) - this.set.maxSkeletonMatch);
    const span = kb - spaceFrom;
    if (this.spacesBefore.length < span + 1) this.spacesBefore = new Int32Array(span + 64);
    this.spacesBefore[0] = 0;
    for (let i = 0; i < span; i++) {
      this.spacesBefore[i + 1] = (this.spacesBefore[i] as number) + (t.charCodeAt(spaceFrom + i) === 32 ? 1 : 0);
    }
    const spacesToKb = this.spacesBefore[span] as number;
    const cjk = sk.hasOtherScript;
    /** A match from skeleton offset `p` cannot end at or past `kb` (too few characters or spaces left). */
    const cannotReach = (p: number, f: PatternFacts) =>
      p < kb &&
      (p + f.maxChars <= kb ||
        (p >= spaceFrom && spacesToKb - (this.spacesBefore[p - spaceFrom] as number) > f.maxSpaces));
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
      const rules = this.wordRules(sk.keys[w] as number);
      for (let k = 0; k < rules.length; k++) {
        const ri = rules[k] as number;
        const rule = this.set.rules[ri] as Rule;
        if (!rule.sticky || (cjk && rule.cjk)) continue; // run over the whole text below
        if (cannotReach(p, this.set.facts[ri] as PatternFacts)) continue;
        if (disabled && ruleOff(ctx, rule.id)) continue;
        if (crossesAt(rule.sticky as RegExp, p)) return true;
      }
    }

    // Rules run over the whole text: without triggers, or CJK rules in CJK text.
    let candidateCount = -1;
    for (const ri of cjk ? this.set.globalRulesCjk : this.set.globalRules) {
      const rule = this.set.rules[ri] as Rule;
      if (disabled && ruleOff(ctx, rule.id)) continue;
      const f = this.set.facts[ri] as PatternFacts;
      const start = f.start;
      if (start && rule.sticky) {
        // Every match starts at a word start or at one of a few characters: try just those places.
        if (candidateCount < 0) {
          if (this.candidates.length < limit) this.candidates = new Int32Array(limit + 64);
          candidateCount = 0;
          for (let p = 0; p < limit; p++) {
            if (p === 0 || t.charCodeAt(p - 1) === 32 || this.set.firstChar[t.charCodeAt(p)] === 1)
              this.candidates[candidateCount++] = p;
          }
        }
        const re = rule.sticky;
        for (let k = 0; k < candidateCount; k++) {
          const p = this.candidates[k] as number;
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

  /** Lets go of scratch buffers grown large by a big input. */
  release(): void {
    if (this.triggerAt.length > 1 << 18) this.triggerAt = new Int32Array(256);
    if (this.wordRulePos.length > 1 << 18) this.wordRulePos = new Int32Array(64);
    this.wordRuleLists = [];
    if (this.spacesBefore.length > 1 << 18) this.spacesBefore = new Int32Array(512);
    if (this.candidates.length > 1 << 18) this.candidates = new Int32Array(512);
  }
}
