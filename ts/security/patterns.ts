/**
 * Static facts about the rules' regular expressions, used by the scanner to
 * skip work that cannot produce a hit (never to find hits):
 * - the most characters (and spaces) a match can span;
 * - where a match can start: at a word start (`(?<![^ ])`) or at one of a few
 *   literal characters;
 * - whether a match can hold a newline anywhere but as its first character.
 *
 * A small parser for the subset of the RegExp syntax the rules use. Anything
 * it does not know makes the answer the safe one (unbounded, unknown start,
 * may hold a newline), so a rule written with other syntax only loses the
 * shortcut.
 */

type Node =
  | { t: 'alt'; alts: Node[] }
  | { t: 'seq'; items: Node[] }
  | { t: 'look'; behindNot: boolean; body: Node }
  | { t: 'assert' }
  | { t: 'char'; space: boolean; newline: boolean; literal: number; notSpaceOnly: boolean; set?: number[] }
  | { t: 'rep'; node: Node; min: number; max: number };

class Unsupported extends Error {}

const CLASS_ESCAPES: Record<string, { space: boolean; newline: boolean }> = {
  d: { space: false, newline: false },
  w: { space: false, newline: false },
  D: { space: true, newline: true },
  W: { space: true, newline: true },
  s: { space: true, newline: true },
  S: { space: false, newline: false },
};
const CONTROL_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11, '0': 0 };

function parse(src: string, dotAll: boolean): Node {
  let i = 0;
  const literal = (code: number): Node => ({
    t: 'char',
    space: code === 32,
    newline: code === 10,
    literal: code,
    notSpaceOnly: false,
  });

  /** An escape at `i` (after the backslash): a code, or a class escape letter. */
  const readEscape = (): { code: number } | { cls: string } => {
    const d = src[i] as string;
    if (d === undefined) throw new Unsupported('trailing backslash');
    if (d in CLASS_ESCAPES) {
      i++;
      return { cls: d };
    }
    if (d in CONTROL_ESCAPES) {
      i++;
      return { code: CONTROL_ESCAPES[d] as number };
    }
    if (d === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 1, i + 3))) {
      i += 3;
      return { code: Number.parseInt(src.slice(i - 2, i), 16) };
    }
    if (d === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 1, i + 5))) {
      i += 5;
      return { code: Number.parseInt(src.slice(i - 4, i), 16) };
    }
    if (/[A-Za-z0-9]/.test(d)) throw new Unsupported(`escape \\${d}`);
    i++;
    return { code: d.charCodeAt(0) };
  };

  const charClass = (): Node => {
    i++; // [
    const negated = src[i] === '^';
    if (negated) i++;
    let space = false;
    let newline = false;
    let onlySpace = true; // the class is exactly [^ ] when negated
    let count = 0;
    let set: number[] | undefined = []; // its characters, when few and known
    const code = (): number | string => {
      if (src[i] === '\\') {
        i++;
        if (src[i] === 'b') throw new Unsupported('\\b in a class');
        const e = readEscape();
        return 'cls' in e ? e.cls : e.code;
      }
      const c = src.charCodeAt(i);
      i++;
      return c;
    };
    while (i < src.length && src[i] !== ']') {
      const lo = code();
      count++;
      if (typeof lo === 'string') {
        const e = CLASS_ESCAPES[lo] as { space: boolean; newline: boolean };
        space ||= e.space;
        newline ||= e.newline;
        onlySpace = false;
        set = undefined;
        continue;
      }
      let hi = lo;
      if (src[i] === '-' && src[i + 1] !== ']' && i + 1 < src.length) {
        i++;
        const h = code();
        if (typeof h === 'string') throw new Unsupported('class escape in a range');
        hi = h;
      }
      if (set && hi - lo < 64 && set.length < 64) for (let c = lo; c <= hi; c++) set.push(c);
      else set = undefined;
      if (lo <= 32 && hi >= 32) space = true;
      if (lo <= 10 && hi >= 10) newline = true;
      if (lo !== 32 || hi !== 32) onlySpace = false;
    }
    if (src[i] !== ']') throw new Unsupported('unclosed class');
    i++;
    if (!negated) return { t: 'char', space, newline, literal: -1, notSpaceOnly: false, set };
    return {
      t: 'char',
      space: !space,
      newline: !newline,
      literal: -1,
      notSpaceOnly: onlySpace && count === 1,
    };
  };

  const atom = (): Node => {
    const c = src[i] as string;
    if (c === '(') {
      let kind = '';
      for (const k of ['(?:', '(?=', '(?!', '(?<=', '(?<!']) {
        if (src.startsWith(k, i)) kind = k;
      }
      if (kind === '' && src[i + 1] === '?') throw new Unsupported('group kind');
      i += kind === '' ? 1 : kind.length;
      const body = alternation();
      if (src[i] !== ')') throw new Unsupported('unclosed group');
      i++;
      if (kind === '' || kind === '(?:') return body;
      return { t: 'look', behindNot: kind === '(?<!', body };
    }
    if (c === '[') return charClass();
    if (c === '\\') {
      i++;
      if (src[i] === 'b' || src[i] === 'B') {
        i++;
        return { t: 'assert' };
      }
      if (/[1-9k]/.test(src[i] ?? '')) throw new Unsupported('back reference');
      const e = readEscape();
      if ('cls' in e) {
        const x = CLASS_ESCAPES[e.cls] as { space: boolean; newline: boolean };
        return { t: 'char', space: x.space, newline: x.newline, literal: -1, notSpaceOnly: false };
      }
      return literal(e.code);
    }
    if (c === '^' || c === '$') {
      i++;
      return { t: 'assert' };
    }
    if (c === '.') {
      i++;
      return { t: 'char', space: true, newline: dotAll, literal: -1, notSpaceOnly: false };
    }
    if ('*+?{})]|'.includes(c)) throw new Unsupported(`unexpected ${c}`);
    i++;
    return literal(c.charCodeAt(0));
  };

  const sequence = (): Node => {
    const items: Node[] = [];
    while (i < src.length && src[i] !== '|' && src[i] !== ')') {
      let node = atom();
      let min = 1;
      let max = 1;
      const q = src[i];
      if (q === '?' || q === '*' || q === '+') {
        i++;
        min = q === '+' ? 1 : 0;
        max = q === '?' ? 1 : Number.POSITIVE_INFINITY;
      } else if (q === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
        if (!m) throw new Unsupported('brace');
        i += m[0].length;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      }
      if (min !== 1 || max !== 1) {
        if (src[i] === '?') i++; // lazy
        node = { t: 'rep', node, min, max };
      }
      items.push(node);
    }
    return { t: 'seq', items };
  };

  const alternation = (): Node => {
    const alts = [sequence()];
    while (src[i] === '|') {
      i++;
      alts.push(sequence());
    }
    return alts.length === 1 ? (alts[0] as Node) : { t: 'alt', alts };
  };

  const root = alternation();
  if (i !== src.length) throw new Unsupported('trailing input');
  return root;
}

/** Most characters and most spaces (U+0020) a match of `node` can hold. */
function extent(node: Node): { chars: number; spaces: number } {
  switch (node.t) {
    case 'alt': {
      let chars = 0;
      let spaces = 0;
      for (const a of node.alts) {
        const e = extent(a);
        chars = Math.max(chars, e.chars);
        spaces = Math.max(spaces, e.spaces);
      }
      return { chars, spaces };
    }
    case 'seq': {
      let chars = 0;
      let spaces = 0;
      for (const item of node.items) {
        const e = extent(item);
        chars += e.chars;
        spaces += e.spaces;
      }
      return { chars, spaces };
    }
    case 'look':
    case 'assert':
      return { chars: 0, spaces: 0 };
    case 'char':
      return { chars: 1, spaces: node.space ? 1 : 0 };
    case 'rep': {
      const e = extent(node.node);
      const times = (x: number) => (x === 0 ? 0 : x * node.max);
      return { chars: times(e.chars), spaces: times(e.spaces) };
    }
  }
}

/**
 * Where a match can start: at a word start (when `wordStart`) with one of the characters
 * `wordFirst` (any when null), or anywhere with one of the characters `first`.
 */
export interface StartSet {
  wordStart: boolean;
  wordFirst: Set<number> | null;
  first: Set<number>;
}

/** Whether a match can start at offset `p` of the (skeleton) text `t`, by `start`. */
export function canStartAt(start: StartSet, t: string, p: number): boolean {
  const c = t.charCodeAt(p);
  const atWord = start.wordStart && (p === 0 || t.charCodeAt(p - 1) === 32);
  return (atWord && (start.wordFirst === null || start.wordFirst.has(c))) || start.first.has(c);
}

const union = (a: Set<number> | null, b: Set<number> | null) => (a && b ? new Set([...a, ...b]) : null);

/** The characters a match of the nodes in `list` (in sequence) can begin with; null when unknown or any. */
function firstChars(list: Node[]): Set<number> | null {
  const head = list[0];
  if (!head) return null; // the match may end here
  const rest = list.slice(1);
  switch (head.t) {
    case 'char':
      if (head.literal >= 0) return new Set([head.literal]);
      return head.set ? new Set(head.set) : null;
    case 'assert':
    case 'look':
      return firstChars(rest);
    case 'seq':
      return firstChars([...head.items, ...rest]);
    case 'alt': {
      let out: Set<number> | null = new Set();
      for (const a of head.alts) out = union(out, firstChars([a, ...rest]));
      return out;
    }
    case 'rep': {
      const inner = firstChars([head.node, ...rest]);
      return head.min >= 1 ? inner : union(inner, firstChars(rest));
    }
  }
}

function startOf(node: Node): StartSet | null {
  if (node.t === 'alt') {
    const out: StartSet = { wordStart: false, wordFirst: new Set(), first: new Set() };
    for (const a of node.alts) {
      const s = startOf(a);
      if (!s) return null;
      if (s.wordStart) {
        out.wordStart = true;
        out.wordFirst = union(out.wordFirst, s.wordFirst);
      }
      for (const c of s.first) out.first.add(c);
    }
    return out;
  }
  if (node.t === 'seq') {
    const head = node.items[0];
    if (!head) return null;
    if (head.t === 'look' && head.behindNot && head.body.t === 'seq' && head.body.items.length === 1) {
      const only = head.body.items[0] as Node;
      if (!(only.t === 'char' && only.notSpaceOnly)) return null;
      return { wordStart: true, wordFirst: firstChars(node.items.slice(1)), first: new Set() };
    }
    return startOf(head);
  }
  if (node.t === 'char' && node.literal >= 0)
    return { wordStart: false, wordFirst: null, first: new Set([node.literal]) };
  return null;
}

/** Whether a match can hold a newline at any place but its first character. */
function newlineInside(node: Node, onlyFirst: boolean): boolean {
  switch (node.t) {
    case 'alt':
      return node.alts.some((a) => newlineInside(a, onlyFirst));
    case 'seq': {
      let first = onlyFirst;
      for (const item of node.items) {
        if (newlineInside(item, first)) return true;
        if (extent(item).chars > 0) first = false;
      }
      return false;
    }
    case 'look':
    case 'assert':
      return false;
    case 'char':
      return node.newline && !onlyFirst;
    case 'rep':
      return newlineInside(node.node, onlyFirst && node.max <= 1);
  }
}

/** What the scanner may rely on about one rule's pattern. */
export interface PatternFacts {
  /** Most UTF-16 units a match spans (Infinity when unbounded or unknown). */
  maxChars: number;
  /** Most spaces a match holds (Infinity when unbounded or unknown). */
  maxSpaces: number;
  /** Where matches start, or null when unknown. */
  start: StartSet | null;
  /** A match can hold a newline after its first character (true when unknown). */
  newlineInside: boolean;
}

const UNKNOWN: PatternFacts = {
  maxChars: Number.POSITIVE_INFINITY,
  maxSpaces: Number.POSITIVE_INFINITY,
  start: null,
  newlineInside: true,
};

/** The facts about a RegExp (its flags matter only for `.`: with `s` it matches a newline). */
export function patternFacts(re: RegExp): PatternFacts {
  let root: Node;
  try {
    root = parse(re.source, re.flags.includes('s'));
  } catch (e) {
    if (e instanceof Unsupported) return UNKNOWN;
    throw e;
  }
  const e = extent(root);
  return {
    maxChars: e.chars,
    maxSpaces: e.spaces,
    start: re.flags.includes('i') ? null : startOf(root),
    newlineInside: newlineInside(root, true),
  };
}
