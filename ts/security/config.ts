/**
 * Scanner configuration: the `[security]` section of the config file, the
 * `M2M_SECURITY_*` environment variables and CLI flags, merged with the
 * priority CLI > environment > file > defaults and validated with zod.
 *
 * `SECURITY_SETTINGS` below lists every setting with its file key, environment
 * variables, flag, default and what it allows (`m2m help config` prints them).
 *
 * `mode` is another way to say `enabled` + `blocking` (disabled = not enabled;
 * monitor = enabled, not blocking; blocking = both). Layers apply in priority
 * order, so `M2M_SECURITY_BLOCKING=false` turns a file's `mode = "blocking"`
 * into monitor mode.
 *
 * Allowlist entries are literal strings; an entry written `/pattern/flags` is
 * a regular expression.
 */
import { z } from 'zod';
import { M2MError } from '../core/errors.js';
import { fromString, type SettingSpec, setting, showValue } from '../core/settings.js';
import { DEFAULT_DECODE_DEPTH, DEFAULT_MODE, DEFAULT_THRESHOLD, SCAN_LIMITS } from './context.js';
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

/** The `SecurityConfig` field of a `security.*` key (`security.trusted_sources` → `trustedSources`). */
export const securityField = (key: string) =>
  key.slice('security.'.length).replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * The `[security]` settings: file key, environment variables (the spec's `M2M_BLOCK_THRESHOLD`
 * before this implementation's name, which wins when both are set), flag, default and what each allows.
 */
export const SECURITY_SETTINGS: readonly SettingSpec[] = [
  setting('security.enabled', 'bool', z.boolean(), true, 'true or false', 'scan at all', ['M2M_SECURITY_ENABLED']),
  setting(
    'security.blocking',
    'bool',
    z.boolean(),
    false,
    'true or false',
    'refuse what the scan flags',
    ['M2M_SECURITY_BLOCKING'],
    'blocking',
  ),
  setting(
    'security.mode',
    'string',
    z.enum(SCAN_MODES),
    DEFAULT_MODE,
    SCAN_MODES.join(', '),
    'enabled + blocking in one word',
    ['M2M_SECURITY_MODE'],
    'mode',
  ),
  setting(
    'security.threshold',
    'number',
    z.number().min(0).max(1),
    DEFAULT_THRESHOLD,
    'a number from 0.0 to 1.0',
    'confidence that makes content unsafe',
    ['M2M_BLOCK_THRESHOLD', 'M2M_SECURITY_THRESHOLD'],
    { long: 'threshold', short: 't' },
  ),
  setting(
    'security.allowlist',
    'list',
    z.array(z.string()),
    [],
    'a list of strings (an entry "/re/flags" is a regular expression)',
    'content never flagged',
    ['M2M_SECURITY_ALLOWLIST'],
  ),
  setting('security.trusted_sources', 'list', z.array(z.string()), [], 'a list of strings', 'sources not scanned', [
    'M2M_SECURITY_TRUSTED_SOURCES',
  ]),
  setting(
    'security.max_decode_depth',
    'int',
    z.number().int().min(0).max(SCAN_LIMITS.maxDecodeDepth),
    DEFAULT_DECODE_DEPTH,
    `an integer from 0 to ${SCAN_LIMITS.maxDecodeDepth}`,
    'layers of encoding decoded',
    ['M2M_SECURITY_MAX_DECODE_DEPTH'],
  ),
  setting(
    'security.json',
    'bool-or-auto',
    z.union([z.boolean(), z.literal('auto')]),
    'auto',
    'true, false or "auto"',
    'scan JSON by its text fields',
    ['M2M_SECURITY_JSON'],
  ),
];

const BY_FIELD = new Map(SECURITY_SETTINGS.map((s) => [securityField(s.key), s]));
const FILE_KEYS = new Map(SECURITY_SETTINGS.map((s) => [s.key.slice('security.'.length), securityField(s.key)]));

const layerSchema = z.strictObject(Object.fromEntries([...BY_FIELD].map(([field, s]) => [field, s.schema]))).partial();

/** Every setting at its default. */
export const SECURITY_DEFAULTS: Readonly<SecurityConfig> = Object.freeze(
  Object.fromEntries([...BY_FIELD].map(([field, s]) => [field, s.default])) as unknown as SecurityConfig,
);

/** One source's security settings, by field, validated. */
type Layer = Partial<Omit<SecurityConfig, 'mode'>> & { mode?: ScanMode };

/** Validates one layer; `name(key)` says where a key came from, for the error message. */
function validate(raw: Record<string, unknown>, name: (key: string) => string): Layer {
  const result = layerSchema.safeParse(raw);
  if (result.success) return result.data as Layer;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `unknown setting ${issue.keys.map((k) => name(k)).join(', ')} (allowed: ${[...BY_FIELD.keys()]
        .map((k) => name(k))
        .join(', ')})`;
    }
    const key = String(issue.path[0] ?? '');
    return `invalid ${name(key)} = ${showValue(raw[key])} (allowed: ${BY_FIELD.get(key)?.allowed ?? '?'})`;
  });
  throw new M2MError('INVALID_CONFIG', `security configuration: ${problems.join('; ')}`);
}

function fileLayer(section: unknown): Layer {
  if (section === undefined || section === null) return {};
  if (typeof section !== 'object' || Array.isArray(section)) {
    throw new M2MError(
      'INVALID_CONFIG',
      `security configuration: [security] must be a table (got ${showValue(section)})`,
    );
  }
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section as Record<string, unknown>)) raw[FILE_KEYS.get(k) ?? k] = v;
  const fileName = (field: string) => {
    const spec = BY_FIELD.get(field);
    return `[security] ${spec ? spec.key.slice('security.'.length) : field}`;
  };
  return validate(raw, fileName);
}

function envLayer(env: Record<string, string | undefined>): Layer {
  const raw: Record<string, unknown> = {};
  const source: Record<string, string> = {};
  for (const [field, spec] of BY_FIELD) {
    for (const name of spec.env) {
      const v = env[name];
      if (v === undefined || v === '') continue;
      raw[field] = fromString(spec.kind, field === 'mode' ? v.trim().toLowerCase() : v);
      source[field] = name;
    }
  }
  return validate(raw, (field) => source[field] ?? BY_FIELD.get(field)?.env.at(-1) ?? field);
}

function cliLayer(cli: SecurityCliOptions | undefined): Layer {
  if (!cli) return {};
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cli)) if (v !== undefined) raw[k] = v;
  return validate(raw, (field) => {
    const flag = BY_FIELD.get(field)?.flag;
    return flag ? `--${flag}` : `option ${field}`;
  });
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
        `security configuration (${where}): mode = ${showValue(layer.mode)} contradicts enabled/blocking (allowed: set one or make them agree)`,
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
      `security configuration: invalid allowlist entry ${showValue(entry)} (allowed: ${BY_FIELD.get('allowlist')?.allowed}): ${(err as Error).message}`,
    );
  }
}

/**
 * A complete configuration from some of its fields (what a library caller passes a server):
 * defaults for the rest, `mode` derived from `enabled`/`blocking` when only those are given.
 */
export function securityConfigFrom(partial: Partial<SecurityConfig> | undefined): SecurityConfig {
  const given = partial ?? {};
  const mode: ScanMode =
    given.mode ??
    (given.enabled === false ? 'disabled' : given.blocking === true ? 'blocking' : SECURITY_DEFAULTS.mode);
  return {
    ...SECURITY_DEFAULTS,
    ...given,
    mode,
    enabled: mode !== 'disabled',
    blocking: mode === 'blocking',
    allowlist: [...(given.allowlist ?? [])],
    trustedSources: [...(given.trustedSources ?? [])],
  };
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
