/**
 * Scanner configuration: the `[security]` section of the config file, the
 * `M2M_SECURITY_*` environment variables and CLI flags, merged with the
 * priority CLI > environment > file > defaults and validated with zod.
 *
 * | setting          | file key (`[security]`) | environment variable                                  | CLI (`cli` object) |
 * |------------------|-------------------------|-------------------------------------------------------|--------------------|
 * | enabled          | `enabled`               | `M2M_SECURITY_ENABLED`                                | `enabled`          |
 * | blocking         | `blocking`              | `M2M_SECURITY_BLOCKING`                               | `blocking`         |
 * | mode             | `mode`                  | `M2M_SECURITY_MODE`                                   | `mode`             |
 * | threshold        | `threshold`             | `M2M_SECURITY_THRESHOLD` (or the spec's `M2M_BLOCK_THRESHOLD`) | `threshold` |
 * | allowlist        | `allowlist`             | `M2M_SECURITY_ALLOWLIST` (comma-separated)            | `allowlist`        |
 * | trusted sources  | `trusted_sources`       | `M2M_SECURITY_TRUSTED_SOURCES` (comma-separated)      | `trustedSources`   |
 * | decode depth     | `max_decode_depth`      | `M2M_SECURITY_MAX_DECODE_DEPTH`                       | `maxDecodeDepth`   |
 * | JSON fields      | `json`                  | `M2M_SECURITY_JSON` (`true`, `false`, `auto`)         | `json`             |
 *
 * `mode` is another way to say `enabled` + `blocking` (disabled = not enabled;
 * monitor = enabled, not blocking; blocking = both). Layers apply in priority
 * order, so `M2M_SECURITY_BLOCKING=false` turns a file's `mode = "blocking"`
 * into monitor mode. Defaults: enabled, monitor mode (not blocking),
 * threshold 0.8, decode depth 2, JSON `auto`.
 *
 * Allowlist entries are literal strings; an entry written `/pattern/flags` is
 * a regular expression.
 */
import { z } from 'zod';
import { M2MError } from '../core/errors.js';
import { SCAN_MODES, type ScanMode, type ScanOptions } from './types.js';

export interface SecurityConfig {
  enabled: boolean;
  blocking: boolean;
  /** Derived from `enabled` and `blocking`. */
  mode: ScanMode;
  threshold: number;
  allowlist: string[];
  trustedSources: string[];
  maxDecodeDepth: number;
  json: boolean | 'auto';
}

/** Settings a CLI may pass (camelCase keys, already typed). */
export type SecurityCliOptions = Partial<Omit<SecurityConfig, 'mode'>> & { mode?: ScanMode };

export const SECURITY_DEFAULTS: Readonly<SecurityConfig> = Object.freeze({
  enabled: true,
  blocking: false,
  mode: 'monitor',
  threshold: 0.8,
  allowlist: [],
  trustedSources: [],
  maxDecodeDepth: 2,
  json: 'auto',
});

/** What each setting accepts, for error messages. */
const ALLOWED: Record<string, string> = {
  enabled: 'true or false',
  blocking: 'true or false',
  mode: SCAN_MODES.join(', '),
  threshold: 'a number from 0.0 to 1.0',
  allowlist: 'a list of strings (an entry "/re/flags" is a regular expression)',
  trustedSources: 'a list of strings',
  maxDecodeDepth: 'an integer from 0 to 8',
  json: 'true, false or "auto"',
};

const layerSchema = z
  .strictObject({
    enabled: z.boolean(),
    blocking: z.boolean(),
    mode: z.enum(SCAN_MODES),
    threshold: z.number().min(0).max(1),
    allowlist: z.array(z.string()),
    trustedSources: z.array(z.string()),
    maxDecodeDepth: z.number().int().min(0).max(8),
    json: z.union([z.boolean(), z.literal('auto')]),
  })
  .partial();
type Layer = z.infer<typeof layerSchema>;

const FILE_KEYS: Record<string, keyof Layer> = {
  enabled: 'enabled',
  blocking: 'blocking',
  mode: 'mode',
  threshold: 'threshold',
  allowlist: 'allowlist',
  trusted_sources: 'trustedSources',
  max_decode_depth: 'maxDecodeDepth',
  json: 'json',
};

const ENV_KEYS: [string, keyof Layer][] = [
  ['M2M_SECURITY_ENABLED', 'enabled'],
  ['M2M_SECURITY_BLOCKING', 'blocking'],
  ['M2M_SECURITY_MODE', 'mode'],
  ['M2M_BLOCK_THRESHOLD', 'threshold'],
  ['M2M_SECURITY_THRESHOLD', 'threshold'], // after the spec's name: wins when both are set
  ['M2M_SECURITY_ALLOWLIST', 'allowlist'],
  ['M2M_SECURITY_TRUSTED_SOURCES', 'trustedSources'],
  ['M2M_SECURITY_MAX_DECODE_DEPTH', 'maxDecodeDepth'],
  ['M2M_SECURITY_JSON', 'json'],
];

const CLI_FLAGS: Record<keyof Layer, string> = {
  enabled: '--security-enabled',
  blocking: '--blocking',
  mode: '--security-mode',
  threshold: '--threshold',
  allowlist: '--allowlist',
  trustedSources: '--trusted-sources',
  maxDecodeDepth: '--max-decode-depth',
  json: '--json-fields',
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Validates one layer; `name(key)` says where a key came from, for the error message. */
function validate(raw: Record<string, unknown>, name: (key: string) => string): Layer {
  const result = layerSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `unknown setting ${issue.keys.map((k) => name(k)).join(', ')} (allowed: ${Object.keys(ALLOWED)
        .map((k) => name(k))
        .join(', ')})`;
    }
    const key = String(issue.path[0] ?? '');
    return `invalid ${name(key)} = ${describe(raw[key])} (allowed: ${ALLOWED[key] ?? '?'})`;
  });
  throw new M2MError('INVALID_CONFIG', `security configuration: ${problems.join('; ')}`);
}

function parseBool(s: string): boolean | string {
  const v = s.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return s;
}

function parseEnvValue(key: keyof Layer, s: string): unknown {
  switch (key) {
    case 'enabled':
    case 'blocking':
      return parseBool(s);
    case 'threshold':
    case 'maxDecodeDepth':
      return /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i.test(s) ? Number(s) : s;
    case 'allowlist':
    case 'trustedSources':
      return s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
    case 'json': {
      if (s.trim().toLowerCase() === 'auto') return 'auto';
      return parseBool(s);
    }
    default:
      return s.trim().toLowerCase();
  }
}

function fileLayer(section: unknown): Layer {
  if (section === undefined || section === null) return {};
  if (typeof section !== 'object' || Array.isArray(section)) {
    throw new M2MError(
      'INVALID_CONFIG',
      `security configuration: [security] must be a table (got ${describe(section)})`,
    );
  }
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section as Record<string, unknown>)) raw[FILE_KEYS[k] ?? k] = v;
  const fileName = (key: string) => {
    const fileKey = Object.entries(FILE_KEYS).find(([, v]) => v === key)?.[0] ?? key;
    return `[security] ${fileKey}`;
  };
  return validate(raw, fileName);
}

function envLayer(env: Record<string, string | undefined>): Layer {
  const raw: Record<string, unknown> = {};
  const source: Record<string, string> = {};
  for (const [name, key] of ENV_KEYS) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    raw[key] = parseEnvValue(key, v);
    source[key] = name;
  }
  return validate(raw, (key) => source[key] ?? ENV_KEYS.find(([, k]) => k === key)?.[0] ?? key);
}

function cliLayer(cli: SecurityCliOptions | undefined): Layer {
  if (!cli) return {};
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cli)) if (v !== undefined) raw[k] = v;
  return validate(raw, (key) => CLI_FLAGS[key as keyof Layer] ?? key);
}

/** Applies one layer on top of the settings so far. */
function apply(into: SecurityConfig, layer: Layer, where: string): void {
  if (layer.mode !== undefined) {
    const conflict =
      (layer.enabled !== undefined && layer.enabled !== (layer.mode !== 'disabled')) ||
      (layer.blocking !== undefined && layer.mode !== 'disabled' && layer.blocking !== (layer.mode === 'blocking'));
    if (conflict) {
      throw new M2MError(
        'INVALID_CONFIG',
        `security configuration (${where}): mode = ${describe(layer.mode)} contradicts enabled/blocking (allowed: set one or make them agree)`,
      );
    }
    into.enabled = layer.mode !== 'disabled';
    if (layer.mode !== 'disabled') into.blocking = layer.mode === 'blocking';
  }
  if (layer.enabled !== undefined) into.enabled = layer.enabled;
  if (layer.blocking !== undefined) into.blocking = layer.blocking;
  if (layer.threshold !== undefined) into.threshold = layer.threshold;
  if (layer.allowlist !== undefined) into.allowlist = [...layer.allowlist];
  if (layer.trustedSources !== undefined) into.trustedSources = [...layer.trustedSources];
  if (layer.maxDecodeDepth !== undefined) into.maxDecodeDepth = layer.maxDecodeDepth;
  if (layer.json !== undefined) into.json = layer.json;
}

/**
 * Merges the configuration sources. `fileSection` is the already-parsed
 * `[security]` table (or undefined), `env` defaults to `process.env` when
 * available, `cli` holds flags given on the command line.
 *
 * @throws M2MError `INVALID_CONFIG` naming the setting, where it came from and what it accepts.
 */
export function resolveSecurityConfig(
  fileSection?: unknown,
  env?: Record<string, string | undefined>,
  cli?: SecurityCliOptions,
): SecurityConfig {
  const environment =
    env ?? (typeof process !== 'undefined' && process.env ? (process.env as Record<string, string | undefined>) : {});
  const config: SecurityConfig = { ...SECURITY_DEFAULTS, allowlist: [], trustedSources: [] };
  apply(config, fileLayer(fileSection), 'config file');
  apply(config, envLayer(environment), 'environment');
  apply(config, cliLayer(cli), 'command line');
  config.mode = !config.enabled ? 'disabled' : config.blocking ? 'blocking' : 'monitor';
  for (const entry of config.allowlist) allowlistEntry(entry); // invalid regular expressions fail now
  return config;
}

function allowlistEntry(entry: string): string | RegExp {
  const m = /^\/(.+)\/([dgimsuvy]*)$/s.exec(entry);
  if (!m) return entry;
  try {
    return new RegExp(m[1] as string, m[2]);
  } catch (err) {
    throw new M2MError(
      'INVALID_CONFIG',
      `security configuration: invalid allowlist entry ${describe(entry)} (allowed: ${ALLOWED.allowlist}): ${(err as Error).message}`,
    );
  }
}

/** Scan options for a resolved configuration (plus the caller's `source`, if any). */
export function scanOptionsFrom(config: SecurityConfig, source?: string): ScanOptions {
  return {
    mode: config.mode,
    threshold: config.threshold,
    allowlist: config.allowlist.map(allowlistEntry),
    trustedSources: config.trustedSources,
    source,
    maxDecodeDepth: config.maxDecodeDepth,
    json: config.json,
  };
}
