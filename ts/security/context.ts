/** What every stage of a scan shares: its bounds, its resolved options, and the rule switch. */
import { LIMITS } from '../core/limits.js';
import type { DecodeBudget } from './decode.js';
import type { ScanMode } from './types.js';

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
  /** Content longer than the protocol's message limit is scanned only up to it (in UTF-16 code units). */
  maxScanChars: LIMITS.maxMessageBytes,
  /** Deepest `maxDecodeDepth` accepted. */
  maxDecodeDepth: 8,
  /** Distance (in source characters) within which hits support each other. */
  supportWindow: 600,
});

/** The mode of a scan whose options name none. */
export const DEFAULT_MODE: ScanMode = 'monitor';
/** Confidence at which a finding makes content unsafe, unless the options say otherwise. */
export const DEFAULT_THRESHOLD = 0.8;
/** How many layers of encoding (base64 in hex in ...) are decoded, unless the options say otherwise. */
export const DEFAULT_DECODE_DEPTH = 2;

/** The options of one scan, resolved. */
export interface Context {
  threshold: number;
  /** Whether the classifier scores each text (the second layer). */
  model: boolean;
  maxDecodeDepth: number;
  allowlist: ReadonlyArray<string | RegExp>;
  disabled: readonly string[];
  budget: DecodeBudget;
}

/** Where a scanned text sits: its JSON field and the role of its message. */
export interface Unit {
  field?: string;
  role?: string;
}

/** Whether rule `id` is disabled (by its id or by a prefix ending in `.`). */
export function ruleOff(ctx: Context, id: string): boolean {
  for (const d of ctx.disabled) if (id === d || (d.endsWith('.') && id.startsWith(d))) return true;
  return false;
}
