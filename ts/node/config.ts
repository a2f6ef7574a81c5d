/**
 * m2m configuration: `~/.m2m/config.toml` (or `--config <path>` / `M2M_CONFIG`),
 * `M2M_*` environment variables and command-line flags, merged with the
 * priority CLI > environment > file > defaults, parsed with smol-toml and
 * validated with zod.
 *
 * Sections and keys follow the protocol's configuration reference where it
 * defines them (`[server] listen, timeout`, `[security] enabled, blocking,
 * threshold`, `[compression] ml_routing, brotli_threshold,
 * prefer_token_for_api, min_size, max_size`, `[logging] level, json` and the
 * environment variables of its table). The other keys are this
 * implementation's; `CONFIG_SETTINGS` below lists every one with its
 * environment variable, flag, default and allowed values (`m2m --help config`
 * prints the same table).
 *
 * The `[security]` section is resolved by `resolveSecurityConfig()` of the
 * security module (it owns those keys, their `M2M_SECURITY_*` variables and
 * defaults); this module reports unknown keys there too.
 *
 * Every problem is reported at once in one `M2MError('INVALID_CONFIG')`, each
 * naming the key, the bad value, where it came from and what is allowed;
 * unknown sections and keys get a "did you mean" when one is close.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ALGORITHMS, type Algorithm } from '../codec/codec.js';
import { ENCODINGS, type Encoding } from '../core/encoding.js';
import { M2MError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { flagOption, fromFile, fromString, type SettingSpec, setting, showValue as show } from '../core/settings.js';
import {
  resolveSecurityConfig,
  SECURITY_DEFAULTS,
  SECURITY_SETTINGS,
  type SecurityCliOptions,
  type SecurityConfig,
  securityField,
} from '../security/index.js';
import { didYouMean } from './cli/suggest.js';
import { type KeySource, readKeyMaterial } from './keys.js';
import { requirePeer } from './peers.js';
import type { ServerOptions } from './server/index.js';

export { parseDuration, parseSize, type SettingSpec } from '../core/settings.js';
export type { SecurityConfig } from '../security/index.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MiB = 1024 * 1024;
/** The protocol's message size limit (spec §7.6.1), also the largest `compression.max_size`. */
export const MAX_MESSAGE_BYTES = LIMITS.maxMessageBytes;

/** Spec §7.6.2 rate limits, plus a per-client request cap (the spec is silent on that one). */
export interface RateLimitConfig {
  /** Requests per minute per client IP, over all its sessions and stateless calls. */
  perClient: number;
  /** Requests per minute per session (spec: 1000). */
  perSession: number;
  /** New sessions per minute per client IP (spec: 100). */
  newSessionsPerClient: number;
  /** Payload bytes per second per session (spec: 10 MB/s). */
  bytesPerSecond: number;
}

/** What `m2m server` passes to `startServer()`. Every field is filled (defaults applied). */
export interface ServerConfig {
  /** Listen address (`server.host`, or the host part of `server.listen`). */
  host: string;
  /** Listen port; 0 picks a free one. */
  port: number;
  /** Worker processes (node:cluster); 1 serves from the main process. */
  workers: number;
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** Stateless request bodies from this size are handled on a worker thread; `false`: never. */
  offloadBytes: number | false;
  /** Wall-clock budget of one request on a worker thread, ms. */
  workBudgetMs: number;
  /** Whole-request deadline, ms (`server.timeout`, seconds in the file). */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this, ms. */
  keepAliveTimeoutMs: number;
  /** Idle session lifetime, ms (spec §7.6.1: 5 minutes). */
  sessionTimeoutMs: number;
  /** Concurrent sessions per client IP (spec §7.6.1: 100). */
  maxSessionsPerIp: number;
  /** History kept per direction for sessions with the history extension, bytes (0: off). */
  sessionHistoryBytes: number;
  rateLimit: RateLimitConfig;
  /** Share sessions and rate-limit counters through Redis; undefined keeps them in memory. */
  redisUrl?: string;
  logLevel: LogLevel;
  logJson: boolean;
  /** The resolved `[security]` section (same object as `Config.security`). */
  security: SecurityConfig;
  /** The `[compression]` defaults for requests that do not choose (same object as `Config.compression`). */
  compression: CompressionConfig;
  /** Where the server's frame key is (`server.frame_key_file` / `server.frame_key_env`); read by {@link readServerKeys}. */
  frameKeySource?: KeySource;
  /** The `[session]` section: a pre-shared org master key (where it is, never the key) and whether keyed sessions are required. */
  session: SessionConfig;
}

/** The `[session]` section. */
export interface SessionConfig {
  /** Where the org master key is; undefined: no pre-shared key. */
  preSharedKeySource?: KeySource;
  org?: string;
  agent: string;
  /** Refuse sessions that offer no security. */
  require: boolean;
}

export interface CompressionConfig {
  /** Default algorithm of `m2m compress` and of server requests that name none. */
  algorithm: Algorithm | 'auto';
  /** Tokenizer for TokenNative and token counts. */
  encoding: Encoding;
  brotliQuality: number;
  /** What `auto` minimises. */
  optimize: 'bytes' | 'tokens';
  /** Largest content accepted, bytes (at most the protocol's 16 MiB). */
  maxSize: number;
  /** `auto` passes smaller content through unchanged. */
  minSize: number;
  /** `auto` tries Brotli from this size. */
  brotliThreshold: number;
  /** `reference`: only output the reference implementation decodes. */
  profile: 'default' | 'reference';
  preferTokenForApi: boolean;
  /** Always false in effect: there is no ML router in this implementation. */
  mlRouting: boolean;
}

export interface LoggingConfig {
  level: LogLevel;
  json: boolean;
}

/** Where a setting's value came from. */
export type Origin = 'default' | 'file' | `env:${string}` | `flag:--${string}`;

/** What `m2m gateway` adds to the server (the `[gateway]` table). */
export interface GatewayConfig {
  /** The upstream API's base URL; undefined when none is configured. */
  upstream?: string;
  /** Name of the environment variable holding the upstream's API key (the key itself is never in the config). */
  apiKeyEnv: string;
  /** Wait for the upstream's response headers, ms. */
  timeoutMs: number;
  /** The upstream is another m2m gateway. */
  upstreamM2M: boolean;
  /** Name and use the trained dictionaries both ends have (`X-M2M-Dictionaries`). */
  dictionaries: boolean;
  /** SSE events against their stream's earlier events, up to this many bytes (`X-M2M-History`); 0 off. */
  streamHistoryBytes: number;
}

export interface Config {
  server: ServerConfig;
  gateway: GatewayConfig;
  security: SecurityConfig;
  compression: CompressionConfig;
  logging: LoggingConfig;
  meta: {
    /** The config file that was read, if any. */
    configFile?: string;
    /** Origin of each non-security setting, by dotted key (`server.port` → `env:M2M_SERVER_PORT`). */
    origins: Record<string, Origin>;
    /** Non-fatal remarks (a likely misspelt `M2M_*` variable, a key that has no effect). */
    warnings: string[];
  };
}

/** Config values given as command-line flags, by long flag name (as `util.parseArgs` returns them). */
export type ConfigFlags = Record<string, string | boolean | undefined>;

export interface LoadConfigOptions {
  /** Raw command-line arguments; the config flags among them are applied (others are ignored). */
  argv?: readonly string[];
  /** Already-parsed flags (the CLI's); merged over those found in `argv`. */
  flags?: ConfigFlags;
  /** Environment (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Config file; overrides `--config` and `M2M_CONFIG`. A given path must exist. */
  configPath?: string;
}

const sizeHelp = 'bytes: an integer or a string like "512KiB", "16MiB", "10MB"';
const secondsHelp = 'seconds: a number or a string like "500ms", "30s", "5m"';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const AGENT_ID = /^[A-Za-z0-9_-]{1,128}$/;
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const secs = (min: number, max: number) => z.number().gt(min).max(max);

/**
 * Every setting outside `[security]`. `server.listen` ("host:port", the
 * spec's form) sets `server.host` and `server.port` at its layer; an explicit
 * `host`/`port` of the same or a higher layer wins.
 */
export const CONFIG_SETTINGS: readonly SettingSpec[] = [
  setting(
    'server.listen',
    'string',
    z.string(),
    '127.0.0.1:3000',
    '"host:port", e.g. "127.0.0.1:3000" or "[::1]:3000"',
    'listen address (sets host and port)',
    ['M2M_SERVER_LISTEN'],
    'listen',
  ),
  setting(
    'server.host',
    'string',
    z.string().regex(/^[^\s]+$/),
    '127.0.0.1',
    'a host name or IP address (0.0.0.0 listens on all interfaces)',
    'listen address',
    ['M2M_SERVER_HOST'],
    { long: 'host', short: 'H' },
  ),
  setting(
    'server.port',
    'int',
    int(0, 65535),
    3000,
    'an integer from 0 to 65535 (0 picks a free port)',
    'listen port',
    ['M2M_SERVER_PORT'],
    { long: 'port', short: 'p' },
  ),
  setting(
    'server.workers',
    'int',
    int(1, 256),
    1,
    'an integer from 1 to 256',
    'worker processes (node:cluster); 1 serves from the main process',
    ['M2M_SERVER_WORKERS'],
    'workers',
  ),
  setting(
    'server.timeout',
    'duration',
    secs(0, 3600),
    30,
    `more than 0 and at most 3600 ${secondsHelp}`,
    'request timeout',
    ['M2M_TIMEOUT', 'M2M_SERVER_TIMEOUT'],
    'timeout',
  ),
  setting(
    'server.keep_alive_timeout',
    'duration',
    secs(0, 3600),
    5,
    `more than 0 and at most 3600 ${secondsHelp}`,
    'idle keep-alive connections are closed after this',
    ['M2M_SERVER_KEEP_ALIVE_TIMEOUT'],
  ),
  setting(
    'server.session_timeout',
    'duration',
    secs(0, 86400),
    300,
    `more than 0 and at most 86400 ${secondsHelp}`,
    'idle sessions expire after this (spec §7.6.1)',
    ['M2M_SESSION_TIMEOUT'],
  ),
  setting(
    'server.max_sessions_per_ip',
    'int',
    int(1, 1_000_000),
    100,
    'an integer from 1 to 1000000',
    'concurrent sessions per client IP (spec §7.6.1)',
    ['M2M_MAX_SESSIONS_PER_IP'],
  ),
  setting(
    'server.session_history',
    'size',
    int(0, MiB),
    24 * 1024,
    `from 0 to 1 MiB, ${sizeHelp}; 0 turns it off`,
    'history kept per direction for sessions that remember (the history extension); a session keeps two',
    ['M2M_SESSION_HISTORY'],
  ),
  setting(
    'server.body_limit',
    'size',
    int(1, 64 * MiB),
    16 * MiB,
    `from 1 byte to 64 MiB, ${sizeHelp}`,
    'largest request body',
    ['M2M_SERVER_BODY_LIMIT'],
    'body-limit',
  ),
  setting(
    'server.offload_size',
    'size',
    int(0, 64 * MiB),
    16 * 1024,
    `0 (never) or up to 64 MiB, ${sizeHelp}`,
    'stateless request bodies, and session DATA and replies, from this size are handled on a worker thread (0: all on the event loop)',
    ['M2M_SERVER_OFFLOAD_SIZE'],
  ),
  setting(
    'server.work_budget',
    'duration',
    secs(0, 3600),
    undefined,
    `more than 0 and at most 3600 ${secondsHelp} (unset: server.timeout)`,
    'wall-clock budget of one request on a worker thread (503 BUDGET_EXCEEDED after it)',
    ['M2M_SERVER_WORK_BUDGET'],
  ),
  setting(
    'server.redis_url',
    'string',
    z.string().regex(/^rediss?:\/\/\S*$/),
    undefined,
    'a redis:// or rediss:// URL',
    'share sessions and rate-limit counters through Redis (unset: in memory)',
    ['M2M_REDIS_URL'],
    'redis-url',
  ),
  setting(
    'server.rate_limit.per_client',
    'int',
    int(1, 100_000_000),
    6000,
    'an integer from 1 to 100000000 (requests per minute)',
    'requests per minute per client IP',
    ['M2M_RATE_LIMIT_PER_CLIENT'],
  ),
  setting(
    'server.rate_limit.per_session',
    'int',
    int(1, 100_000_000),
    1000,
    'an integer from 1 to 100000000 (requests per minute)',
    'requests per minute per session (spec §7.6.2)',
    ['M2M_RATE_LIMIT_PER_SESSION'],
  ),
  setting(
    'server.rate_limit.new_sessions_per_client',
    'int',
    int(1, 100_000_000),
    100,
    'an integer from 1 to 100000000 (sessions per minute)',
    'new sessions per minute per client IP (spec §7.6.2)',
    ['M2M_RATE_LIMIT_NEW_SESSIONS'],
  ),
  setting(
    'server.rate_limit.bytes_per_second',
    'size',
    int(1, Number.MAX_SAFE_INTEGER),
    10_000_000,
    `at least 1, ${sizeHelp}`,
    'payload bytes per second per session (spec §7.6.2)',
    ['M2M_RATE_LIMIT_BYTES_PER_SECOND'],
  ),
  setting(
    'server.frame_key_file',
    'string',
    z.string().min(1),
    undefined,
    'a file path',
    'file holding the hex frame key the server protects (/v1/compress protect) and opens (/v1/decompress) M2M frames with',
    ['M2M_FRAME_KEY_FILE'],
    'frame-key-file',
  ),
  setting(
    'server.frame_key_env',
    'string',
    z.string().regex(ENV_NAME),
    undefined,
    'an environment variable name',
    'the environment variable holding the hex frame key (instead of server.frame_key_file)',
    ['M2M_FRAME_KEY_ENV'],
    'frame-key-env',
  ),
  setting(
    'session.pre_shared_key_file',
    'string',
    z.string().min(1),
    undefined,
    'a file path',
    'file holding the hex org master key (32 bytes or more) of pre-shared session keys; needs session.org',
    ['M2M_SESSION_KEY_FILE'],
    'session-key-file',
  ),
  setting(
    'session.pre_shared_key_env',
    'string',
    z.string().regex(ENV_NAME),
    undefined,
    'an environment variable name',
    'the environment variable holding the hex org master key (instead of session.pre_shared_key_file)',
    ['M2M_SESSION_KEY_ENV'],
    'session-key-env',
  ),
  setting(
    'session.org',
    'string',
    z.string().regex(AGENT_ID),
    undefined,
    '1 to 128 of A-Z a-z 0-9 _ -',
    'the org id of the pre-shared master key',
    ['M2M_SESSION_ORG'],
  ),
  setting(
    'session.agent',
    'string',
    z.string().regex(AGENT_ID),
    'm2m-server',
    '1 to 128 of A-Z a-z 0-9 _ -',
    "the server's agent id under the pre-shared master key",
    ['M2M_SESSION_AGENT'],
  ),
  setting(
    'session.require',
    'bool',
    z.boolean(),
    false,
    'true or false',
    'refuse sessions that do not offer session security (always true with a pre-shared key)',
    ['M2M_SESSION_REQUIRE'],
    'require-session-security',
  ),
  setting(
    'gateway.upstream',
    'string',
    z.string().regex(/^https?:\/\/\S+$/),
    undefined,
    'an http:// or https:// URL including the API\'s /v1, e.g. "https://api.openai.com/v1"',
    'the API `m2m gateway` forwards to',
    ['M2M_GATEWAY_UPSTREAM'],
    'upstream',
  ),
  setting(
    'gateway.api_key_env',
    'string',
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
    'OPENAI_API_KEY',
    'an environment variable name',
    "the environment variable holding the upstream's API key (unset or empty: the client's Authorization is forwarded)",
    ['M2M_GATEWAY_API_KEY_ENV'],
    'api-key-env',
  ),
  setting(
    'gateway.timeout',
    'duration',
    secs(0, 86400),
    600,
    `more than 0 and at most 86400 ${secondsHelp}`,
    "how long the gateway waits for the upstream's response headers (then 504)",
    ['M2M_GATEWAY_TIMEOUT'],
    'upstream-timeout',
  ),
  setting(
    'gateway.upstream_m2m',
    'bool',
    z.boolean(),
    false,
    'true or false',
    'the upstream is another m2m gateway: compress requests to it, ask for compressed responses',
    ['M2M_GATEWAY_UPSTREAM_M2M'],
    'upstream-m2m',
  ),
  setting(
    'gateway.dictionaries',
    'bool',
    z.boolean(),
    true,
    'true or false',
    "name this install's trained dictionaries (X-M2M-Dictionaries) and compress with those the other end names too",
    ['M2M_GATEWAY_DICTIONARIES'],
  ),
  setting(
    'gateway.stream_history',
    'size',
    int(0, MiB),
    24 * 1024,
    `from 0 to 1 MiB, ${sizeHelp}; 0 turns it off`,
    "compress SSE events against their stream's earlier events, up to this much (X-M2M-History; the smaller of both ends')",
    ['M2M_GATEWAY_STREAM_HISTORY'],
  ),
  setting(
    'compression.algorithm',
    'string',
    z.enum(['auto', ...ALGORITHMS] as [string, ...string[]]),
    'auto',
    ['auto', ...ALGORITHMS].join(', '),
    'default algorithm',
    ['M2M_COMPRESSION_ALGORITHM'],
    { long: 'algorithm', short: 'a' },
  ),
  setting(
    'compression.encoding',
    'string',
    z.enum(ENCODINGS as unknown as [string, ...string[]]),
    'cl100k_base',
    ENCODINGS.join(', '),
    'tokenizer for TokenNative and token counts',
    ['M2M_ENCODING'],
    { long: 'encoding', short: 'e' },
  ),
  setting(
    'compression.brotli_quality',
    'int',
    int(0, 11),
    5,
    'an integer from 0 to 11',
    'Brotli quality',
    ['M2M_BROTLI_QUALITY'],
    'brotli-quality',
  ),
  setting(
    'compression.optimize',
    'string',
    z.enum(['bytes', 'tokens']),
    'bytes',
    'bytes, tokens',
    'what auto minimises',
    ['M2M_OPTIMIZE'],
    'optimize',
  ),
  setting(
    'compression.profile',
    'string',
    z.enum(['default', 'reference']),
    'default',
    'default, reference',
    'reference: only output the reference implementation (m2m-protocol 0.4) decodes',
    ['M2M_PROFILE'],
    'profile',
  ),
  setting(
    'compression.max_size',
    'size',
    int(1, MAX_MESSAGE_BYTES),
    MAX_MESSAGE_BYTES,
    `from 1 byte to 16 MiB (16777216), ${sizeHelp}`,
    'largest content accepted (per record for .jsonl input)',
    ['M2M_MAX_SIZE'],
    'max-size',
  ),
  setting(
    'compression.min_size',
    'size',
    int(0, MAX_MESSAGE_BYTES),
    100,
    `from 0 to 16 MiB, ${sizeHelp}`,
    'auto passes content smaller than this through as it is',
    ['M2M_MIN_SIZE'],
  ),
  setting(
    'compression.brotli_threshold',
    'size',
    int(0, MAX_MESSAGE_BYTES),
    0,
    `from 0 to 16 MiB, ${sizeHelp}`,
    "auto tries Brotli from this size (default 0, every size: measured on real traffic, bench/traffic.ts; the spec's §5.2 suggests 1 KiB)",
    ['M2M_BROTLI_THRESHOLD'],
  ),
  setting(
    'compression.prefer_token_for_api',
    'bool',
    z.boolean(),
    true,
    'true or false',
    'spec key, accepted; auto picks T1 only when it is lossless and smallest',
    [],
    undefined,
    ['prefer_token'],
  ),
  setting(
    'compression.ml_routing',
    'bool',
    z.boolean(),
    false,
    'true or false',
    'spec key, accepted; there is no ML router (true only warns)',
  ),
  setting(
    'logging.level',
    'string',
    z.enum(LOG_LEVELS),
    'info',
    LOG_LEVELS.join(', '),
    'log level',
    ['M2M_LOG_LEVEL'],
    'log-level',
  ),
  setting('logging.json', 'bool', z.boolean(), false, 'true or false', 'JSON log lines', ['M2M_LOG_JSON'], 'log-json'),
];

const BY_KEY = new Map(CONFIG_SETTINGS.map((s) => [s.key, s]));

/** The `[security]` keys (owned by the security module), snake_case as in the file. */
const SECURITY_KEYS = SECURITY_SETTINGS.map((s) => s.key.slice('security.'.length));

/** Tables of the file and the keys each may hold (`*` = a sub-table). */
const TABLES: Record<string, string[]> = {
  server: [],
  'server.rate_limit': [],
  session: [],
  gateway: [],
  security: SECURITY_KEYS,
  compression: [],
  logging: [],
};
for (const s of CONFIG_SETTINGS) {
  const table = s.key.slice(0, s.key.lastIndexOf('.'));
  const name = s.key.slice(s.key.lastIndexOf('.') + 1);
  TABLES[table]?.push(name, ...(s.aliases ?? []));
}
const SUBTABLES: Record<string, string[]> = {
  '': ['server', 'session', 'gateway', 'security', 'compression', 'logging'],
  server: ['rate_limit'],
};

/**
 * Flags that carry configuration, as `util.parseArgs` options, from the settings tables. The CLI
 * accepts the subset that makes sense for each command.
 */
export const CONFIG_FLAGS: Readonly<Record<string, { type: 'string' | 'boolean'; short?: string }>> = Object.freeze({
  config: { type: 'string' },
  ...Object.fromEntries(
    [...CONFIG_SETTINGS, ...SECURITY_SETTINGS].flatMap((spec) => (spec.flag ? [[spec.flag, flagOption(spec)]] : [])),
  ),
});

// ---------------------------------------------------------------- parsing values

function describeOrigin(origin: Origin, file: string | undefined): string {
  if (origin === 'file') return `config file ${file ?? ''}`.trim();
  if (origin.startsWith('env:')) return `environment variable ${origin.slice(4)}`;
  if (origin.startsWith('flag:')) return `flag ${origin.slice(5)}`;
  return 'default';
}

/** `"[::1]:3000"` → ['::1', '3000']; undefined when there is no port part. */
function splitListen(listen: string): [string, string] | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:\s]+):(\d+)$/.exec(listen);
  return m ? [m[1] as string, m[2] as string] : undefined;
}

// ---------------------------------------------------------------- loading

interface Layered {
  value: unknown;
  origin: Origin;
}

/** Parses `argv` loosely for the config flags (unknown flags and positionals are ignored). */
function flagsFromArgv(argv: readonly string[]): ConfigFlags {
  const { tokens } = parseArgs({
    args: [...argv],
    options: CONFIG_FLAGS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const out: ConfigFlags = {};
  for (const token of tokens ?? []) {
    const spec = token.kind === 'option' ? CONFIG_FLAGS[token.name] : undefined;
    if (token.kind !== 'option' || !spec) continue;
    out[token.name] = spec.type === 'boolean' ? true : token.value;
  }
  return out;
}

/** The config file to read: explicit option, `--config`, `M2M_CONFIG`, then `~/.m2m/config.toml` if it exists. */
export function configFilePath(
  options: { configPath?: string; flag?: string; env?: Record<string, string | undefined> } = {},
): { path: string; explicit: boolean; origin: string } {
  const env = options.env ?? process.env;
  if (options.configPath) return { path: resolve(options.configPath), explicit: true, origin: 'the configPath option' };
  if (options.flag) return { path: resolve(options.flag), explicit: true, origin: 'flag --config' };
  if (env.M2M_CONFIG)
    return { path: resolve(env.M2M_CONFIG), explicit: true, origin: 'environment variable M2M_CONFIG' };
  const home = env.HOME || env.USERPROFILE || homedir();
  return { path: join(home, '.m2m', 'config.toml'), explicit: false, origin: 'default location' };
}

function readFile(path: string, explicit: boolean, origin: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) {
    if (!explicit) return undefined;
    throw new M2MError(
      'INVALID_CONFIG',
      `config file not found: ${path} (given by ${origin}); create it or point --config / M2M_CONFIG at an existing file`,
    );
  }
  if (statSync(path).isDirectory()) {
    throw new M2MError('INVALID_CONFIG', `config file ${path} is a directory; give the path of a .toml file`);
  }
  const text = readFileSync(path, 'utf8');
  const { parse } = requirePeer<typeof import('smol-toml')>('smol-toml', `reading the config file ${path}`);
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new M2MError('INVALID_CONFIG', `config file ${path} is not valid TOML: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/**
 * Flattens the file into dotted keys, reporting unknown sections and keys
 * (with a suggestion) and tables where a value is expected or vice versa.
 */
function flattenFile(doc: Record<string, unknown>, file: string, issues: string[]): Map<string, unknown> {
  const flat = new Map<string, unknown>();
  const walk = (table: Record<string, unknown>, prefix: string) => {
    const subtables = SUBTABLES[prefix] ?? [];
    const keys = prefix === '' ? [] : (TABLES[prefix] ?? []);
    for (const [name, value] of Object.entries(table)) {
      const dotted = prefix ? `${prefix}.${name}` : name;
      if (subtables.includes(name)) {
        if (!isTable(value)) {
          issues.push(`${dotted} = ${show(value)} in ${file}: expected a table ([${dotted}])`);
          continue;
        }
        if (dotted === 'security') {
          for (const [k, v] of Object.entries(value)) {
            if (!SECURITY_KEYS.includes(k)) {
              issues.push(
                `unknown config key security.${k} in ${file}${didYouMean(k, SECURITY_KEYS, (s) => `security.${s}`)}; the [security] keys are ${SECURITY_KEYS.join(', ')}`,
              );
            } else flat.set(`security.${k}`, v);
          }
          continue;
        }
        walk(value, dotted);
      } else if (keys.includes(name)) {
        if (isTable(value)) issues.push(`${dotted} in ${file} is a table; expected a value`);
        else flat.set(dotted, value);
      } else {
        const candidates = [...keys, ...subtables];
        const what = prefix === '' ? `section [${name}]` : `key ${dotted}`;
        const hint = didYouMean(name, candidates, (s) => (prefix === '' ? `[${s}]` : `${prefix}.${s}`));
        const allowed = prefix === '' ? subtables.map((s) => `[${s}]`).join(', ') : candidates.join(', ');
        issues.push(`unknown config ${what} in ${file}${hint}; allowed here: ${allowed}`);
      }
    }
  };
  walk(doc, '');
  return flat;
}

const ALL_ENV = new Set([
  ...CONFIG_SETTINGS.flatMap((s) => s.env),
  ...SECURITY_SETTINGS.flatMap((s) => s.env),
  'M2M_CONFIG',
  'M2M_BACKEND',
]);

/** Every environment variable `loadConfig` reads. */
export const CONFIG_ENV_VARS: readonly string[] = [...ALL_ENV].filter((v) => v !== 'M2M_BACKEND');

/**
 * Loads the configuration. Priority: flags > environment > file > defaults.
 *
 * @throws M2MError `INVALID_CONFIG` listing every invalid value (key, value,
 *   origin and what is allowed) and every unknown key of the file.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const flags: ConfigFlags = { ...flagsFromArgv(options.argv ?? []), ...stripUndefined(options.flags ?? {}) };
  const issues: string[] = [];
  const warnings: string[] = [];

  const { path, explicit, origin } = configFilePath({
    configPath: options.configPath,
    flag: typeof flags.config === 'string' ? flags.config : undefined,
    env,
  });
  const doc = readFile(path, explicit, origin);
  const configFile = doc ? path : undefined;
  const flat = doc ? flattenFile(doc, path, issues) : new Map<string, unknown>();

  // Layers, lowest priority first. `listen` expands into host and port within its layer.
  const values = new Map<string, Layered>();
  for (const s of CONFIG_SETTINGS)
    if (s.default !== undefined) values.set(s.key, { value: s.default, origin: 'default' });

  const put = (spec: SettingSpec, raw: unknown, origin: Origin) => {
    if (spec.key === 'server.listen') {
      const where = describeOrigin(origin, configFile);
      const parts = typeof raw === 'string' ? splitListen(raw.trim()) : undefined;
      if (!parts) {
        issues.push(`server.listen = ${show(raw)} (from ${where}) is invalid: expected ${spec.allowed}`);
        return;
      }
      values.set('server.listen', { value: raw, origin });
      values.set('server.host', { value: parts[0], origin });
      values.set('server.port', { value: Number(parts[1]), origin });
      return;
    }
    values.set(spec.key, { value: raw, origin });
  };

  // File: listen first, so that host/port of the file win over it.
  const fileSpecs = [...CONFIG_SETTINGS].sort(
    (a, b) => Number(b.key === 'server.listen') - Number(a.key === 'server.listen'),
  );
  for (const s of fileSpecs) {
    const table = s.key.slice(0, s.key.lastIndexOf('.'));
    for (const name of [s.key, ...(s.aliases ?? []).map((a) => `${table}.${a}`)]) {
      if (flat.has(name)) put(s, fromFile(s.kind, flat.get(name)), 'file');
    }
  }
  for (const s of fileSpecs) {
    for (const name of s.env) {
      const v = env[name];
      if (v !== undefined && v !== '') put(s, fromString(s.kind, v), `env:${name}`);
    }
  }
  for (const s of fileSpecs) {
    if (!s.flag) continue;
    const v = flags[s.flag];
    if (v !== undefined) put(s, fromString(s.kind, v), `flag:--${s.flag}`);
  }

  // Validate each value with its schema.
  const out: Record<string, unknown> = {};
  const origins: Record<string, Origin> = {};
  for (const [key, { value, origin: from }] of values) {
    const spec = BY_KEY.get(key);
    if (!spec) continue;
    origins[key] = from;
    const result = spec.schema.safeParse(value);
    if (result.success) out[key] = result.data;
    else {
      issues.push(
        `${key} = ${show(value)} (from ${describeOrigin(from, configFile)}) is invalid: expected ${spec.allowed}`,
      );
    }
  }

  // Security: the security module merges its own layers and validates them.
  let security: SecurityConfig = { ...SECURITY_DEFAULTS, allowlist: [], trustedSources: [] };
  try {
    const section =
      doc && isTable(doc.security)
        ? Object.fromEntries(Object.entries(doc.security).filter(([k]) => SECURITY_KEYS.includes(k)))
        : undefined;
    security = resolveSecurityConfig(section, env, securityFlags(flags));
  } catch (err) {
    if (!(err instanceof M2MError)) throw err;
    issues.push(err.message.replace(/\[security\] /g, 'security.'));
  }

  const keySource = (file: string, env: string): KeySource | undefined => {
    const f = out[file] as string | undefined;
    const e = out[env] as string | undefined;
    if (f !== undefined && e !== undefined) {
      issues.push(`${file} and ${env} are both set: give the key's file or its environment variable, not both`);
      return undefined;
    }
    return f !== undefined ? { file: f } : e !== undefined ? { env: e } : undefined;
  };
  const frameKeySource = keySource('server.frame_key_file', 'server.frame_key_env');
  const preSharedKeySource = keySource('session.pre_shared_key_file', 'session.pre_shared_key_env');
  if (preSharedKeySource !== undefined && out['session.org'] === undefined) {
    issues.push('a pre-shared session key (session.pre_shared_key_file / _env) needs session.org');
  }

  if (issues.length > 0) {
    const list = issues.length === 1 ? issues[0] : `\n  - ${issues.join('\n  - ')}`;
    throw new M2MError('INVALID_CONFIG', `invalid configuration: ${list}`);
  }

  for (const name of Object.keys(env)) {
    if (!name.startsWith('M2M_') || ALL_ENV.has(name)) continue;
    const hint = didYouMean(name, ALL_ENV);
    if (hint) warnings.push(`environment variable ${name} is not an m2m setting${hint}`);
  }
  if (out['compression.ml_routing'] === true) {
    warnings.push('compression.ml_routing = true has no effect: this implementation has no ML router');
  }

  const get = <T>(key: string) => out[key] as T;
  const compression: CompressionConfig = {
    algorithm: get('compression.algorithm'),
    encoding: get('compression.encoding'),
    brotliQuality: get('compression.brotli_quality'),
    optimize: get('compression.optimize'),
    maxSize: get('compression.max_size'),
    minSize: get('compression.min_size'),
    brotliThreshold: get('compression.brotli_threshold'),
    profile: get('compression.profile'),
    preferTokenForApi: get('compression.prefer_token_for_api'),
    mlRouting: get('compression.ml_routing'),
  };
  const logging: LoggingConfig = { level: get('logging.level'), json: get('logging.json') };
  const redisUrl = get<string | undefined>('server.redis_url');
  const server: ServerConfig = {
    host: get('server.host'),
    port: get('server.port'),
    workers: get('server.workers'),
    bodyLimit: get('server.body_limit'),
    requestTimeoutMs: Math.round(get<number>('server.timeout') * 1000),
    offloadBytes: get<number>('server.offload_size') === 0 ? false : get<number>('server.offload_size'),
    workBudgetMs: Math.round((get<number | undefined>('server.work_budget') ?? get<number>('server.timeout')) * 1000),
    keepAliveTimeoutMs: Math.round(get<number>('server.keep_alive_timeout') * 1000),
    sessionTimeoutMs: Math.round(get<number>('server.session_timeout') * 1000),
    maxSessionsPerIp: get('server.max_sessions_per_ip'),
    sessionHistoryBytes: get('server.session_history'),
    rateLimit: {
      perClient: get('server.rate_limit.per_client'),
      perSession: get('server.rate_limit.per_session'),
      newSessionsPerClient: get('server.rate_limit.new_sessions_per_client'),
      bytesPerSecond: get('server.rate_limit.bytes_per_second'),
    },
    ...(redisUrl !== undefined ? { redisUrl } : {}),
    logLevel: logging.level,
    logJson: logging.json,
    security,
    compression,
    ...(frameKeySource ? { frameKeySource } : {}),
    session: {
      ...(preSharedKeySource ? { preSharedKeySource } : {}),
      ...(out['session.org'] !== undefined ? { org: get<string>('session.org') } : {}),
      agent: get('session.agent'),
      require: get('session.require'),
    },
  };
  const upstream = get<string | undefined>('gateway.upstream');
  const gateway: GatewayConfig = {
    ...(upstream !== undefined ? { upstream } : {}),
    apiKeyEnv: get('gateway.api_key_env'),
    timeoutMs: Math.round(get<number>('gateway.timeout') * 1000),
    upstreamM2M: get('gateway.upstream_m2m'),
    dictionaries: get('gateway.dictionaries'),
    streamHistoryBytes: get('gateway.stream_history'),
  };
  return {
    server,
    gateway,
    security,
    compression,
    logging,
    meta: { ...(configFile ? { configFile } : {}), origins, warnings },
  };
}

/**
 * The server's keys, read from where `server` says they are (a file or an
 * environment variable, as hex): the frame key and the pre-shared session
 * policy, as `startServer` takes them. Errors name the file or variable,
 * never the key.
 *
 * @throws M2MError `INVALID_KEY` for a missing file or variable or text that is not hex.
 */
export function readServerKeys(server: ServerConfig): Pick<ServerOptions, 'frameKey' | 'sessionSecurity'> {
  const out: Pick<ServerOptions, 'frameKey' | 'sessionSecurity'> = {};
  if (server.frameKeySource) out.frameKey = readKeyMaterial(server.frameKeySource);
  const { preSharedKeySource, org, agent, require } = server.session;
  if (preSharedKeySource && org !== undefined) {
    out.sessionSecurity = { require: true, preShared: { master: readKeyMaterial(preSharedKeySource), org, agent } };
  } else if (require) out.sessionSecurity = { require: true };
  return out;
}

function stripUndefined(flags: ConfigFlags): ConfigFlags {
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
}

/** The security flags, typed for `resolveSecurityConfig()` (bad values are left for it to report). */
function securityFlags(flags: ConfigFlags): SecurityCliOptions | undefined {
  const cli: Record<string, unknown> = {};
  for (const spec of SECURITY_SETTINGS) {
    const v = spec.flag === undefined ? undefined : flags[spec.flag];
    if (v === undefined) continue;
    cli[securityField(spec.key)] = fromString(spec.kind, v);
  }
  return Object.keys(cli).length > 0 ? (cli as SecurityCliOptions) : undefined;
}
