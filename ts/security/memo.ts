/**
 * The scanner's memory of recent texts: the threats a whole text (a request
 * field, a message) produced, kept so that the same text scanned again with
 * the same options — a chat's history and tool definitions, sent again with
 * every request — costs a lookup instead of a scan.
 *
 * A result is kept only when it cannot depend on anything but the text, its
 * role and the options in the key: no allowlist, no decode budget spent (a
 * text whose scan decoded nothing gives the same result for any budget), and
 * the same backend (the classifier runs in it). Results are copied in and out,
 * so callers may change what they get. Bounded by the characters of the texts
 * it holds; emptied when full.
 */
import { backend } from '../core/backend.js';
import type { Context } from './context.js';
import type { Threat } from './types.js';

/** Longest text kept (UTF-16 code units); longer ones are cheap to scan relative to their size anyway. */
const MAX_TEXT = 1 << 16;
/** Characters of text held in all, before everything is let go. */
const MAX_CHARS = 1 << 22;

let enabled = true;
let owner: unknown;
let chars = 0;
/** Per options key (model, decode depth, disabled rules, role): text → threats. */
const tables = new Map<string, Map<string, readonly Threat[]>>();

const copy = (t: Threat): Threat => ({ ...t, evidence: { ...t.evidence } });

/** The table for `ctx` and `role`, or null when results under them must not be kept. */
function table(ctx: Context, role: string | undefined, text: string, create: boolean) {
  if (!enabled || ctx.allowlist.length > 0 || text.length > MAX_TEXT) return null;
  const b = ctx.model ? backend() : null;
  if (b !== null && b !== owner) {
    tables.clear();
    chars = 0;
    owner = b;
  }
  const key = `${ctx.model ? 1 : 0}|${ctx.maxDecodeDepth}|${role ?? ''}|${ctx.disabled.join('\u0000')}`;
  let t = tables.get(key);
  if (!t && create) {
    t = new Map();
    tables.set(key, t);
  }
  return t ?? null;
}

/**
 * The threats of `text` (role `role`) from `scanText`, or from memory when the same text was
 * scanned with the same options before.
 */
export function remembered(text: string, ctx: Context, role: string | undefined, scanText: () => Threat[]): Threat[] {
  const known = table(ctx, role, text, false)?.get(text);
  if (known) return known.map(copy);
  const before = ctx.budget.remaining;
  const threats = scanText();
  if (ctx.budget.remaining === before && before > 0) {
    if (chars + text.length > MAX_CHARS) {
      tables.clear();
      chars = 0;
    }
    const t = table(ctx, role, text, true);
    if (t) {
      t.set(text, threats.map(copy));
      chars += text.length;
    }
  }
  return threats;
}

/** Forgets every result; with `on` false, also stops keeping them (benchmarks and tests of the scan itself). */
export function resetScanMemo(on = true): void {
  tables.clear();
  chars = 0;
  enabled = on;
}
