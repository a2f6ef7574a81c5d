/**
 * The shape of a configuration setting and how its values are read from the
 * config file, the environment and flags. Every section's table is made of
 * these (`ts/node/config.ts` for server, compression and logging,
 * `ts/security/config.ts` for `[security]`), and the file keys, environment
 * variables, flags and `m2m help config` all come from those tables.
 */
import type { z } from 'zod';

/** How a setting's string forms (environment, flags) and file values are read. */
export type SettingKind =
  | 'int'
  | 'number'
  | 'bool'
  | 'string'
  | 'size'
  | 'duration'
  /** A comma-separated list in the environment; an array in the file. */
  | 'list'
  /** `true`, `false` or `"auto"`. */
  | 'bool-or-auto';

/** One setting: its file key, environment variables, flag, default and what it allows. */
export interface SettingSpec {
  /** Dotted file key, e.g. `server.port`. */
  key: string;
  /** Environment variables, in increasing priority (the last one set wins). */
  env: readonly string[];
  /** Long flag name without dashes, e.g. `port`. */
  flag?: string;
  /** One-letter flag, e.g. `p`. */
  short?: string;
  /** Default, in file units (seconds, bytes). */
  default: unknown;
  /** What is allowed, for messages and docs. */
  allowed: string;
  doc: string;
  kind: SettingKind;
  schema: z.ZodType;
  /** Other file names accepted for this key (e.g. the quickstart's `prefer_token`). */
  aliases?: readonly string[];
}

/**
 * A {@link SettingSpec}, written in one line of a table; `flag` is the long flag name, or the long
 * and the one-letter name.
 */
export function setting(
  key: string,
  kind: SettingKind,
  schema: z.ZodType,
  def: unknown,
  allowed: string,
  doc: string,
  env: readonly string[] = [],
  flag?: string | { long: string; short: string },
  aliases?: readonly string[],
): SettingSpec {
  const long = typeof flag === 'string' ? flag : flag?.long;
  return {
    key,
    kind,
    schema,
    default: def,
    allowed,
    doc,
    env,
    ...(long ? { flag: long } : {}),
    ...(typeof flag === 'object' ? { short: flag.short } : {}),
    ...(aliases ? { aliases } : {}),
  };
}

/** The flag of a setting, as `util.parseArgs` takes it. */
export function flagOption(spec: SettingSpec): { type: 'string' | 'boolean'; short?: string } {
  const type = spec.kind === 'bool' ? 'boolean' : 'string';
  return spec.short ? { type, short: spec.short } : { type };
}

const MiB = 1024 * 1024;

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1_000_000,
  mb: 1_000_000,
  mib: MiB,
  g: 1_000_000_000,
  gb: 1_000_000_000,
  gib: 1024 * MiB,
};

/** `"16MiB"` → 16777216; numbers pass through; anything unparsable is returned as it is. */
export function parseSize(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[(m[2] as string).toLowerCase()] : undefined;
  if (!m || unit === undefined) return value;
  return Math.round(Number(m[1]) * unit);
}

/** `"500ms"` → 0.5, `"5m"` → 300, `"30"` → 30 (seconds); anything unparsable is returned as it is. */
export function parseDuration(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  if (!m) return value;
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's').toLowerCase() as 'ms'] ?? 1;
  return Number(m[1]) * factor;
}

const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i;

function parseBool(raw: string): boolean | string {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return raw;
}

/** A string from the environment or a flag, converted to the setting's type where it parses. */
export function fromString(kind: SettingKind, raw: string | boolean): unknown {
  if (typeof raw === 'boolean') return raw;
  switch (kind) {
    case 'int':
    case 'number':
      return NUMBER.test(raw) ? Number(raw) : raw;
    case 'bool':
      return parseBool(raw);
    case 'bool-or-auto':
      return raw.trim().toLowerCase() === 'auto' ? 'auto' : parseBool(raw);
    case 'list':
      return raw
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
    case 'size':
      return parseSize(raw);
    case 'duration':
      return parseDuration(raw);
    default:
      return raw.trim();
  }
}

/** A value from the file, converted where the file may use a string form (sizes, durations). */
export function fromFile(kind: SettingKind, raw: unknown): unknown {
  if (kind === 'size') return parseSize(raw);
  if (kind === 'duration') return parseDuration(raw);
  return raw;
}

/** A value as an error message shows it. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (value instanceof Date) return value.toISOString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
