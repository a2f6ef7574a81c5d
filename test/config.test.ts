import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { M2MError } from '../ts/core/errors.js';
import { fromString, type SettingSpec } from '../ts/core/settings.js';
import { configHelp } from '../ts/node/cli/help.js';
import { closest, editDistance } from '../ts/node/cli/suggest.js';
import { CONFIG_FLAGS, CONFIG_SETTINGS, loadConfig, parseDuration, parseSize } from '../ts/node/config.js';
import { SECURITY_SETTINGS, type SecurityConfig, securityField } from '../ts/security/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'cli');
const emptyHome = mkdtempSync(join(tmpdir(), 'm2m-config-home-'));

/** An environment with no config file and no M2M_* variables. */
const env = (vars: Record<string, string> = {}) => ({ HOME: emptyHome, ...vars });

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'm2m-config-'));
  const path = join(dir, 'config.toml');
  writeFileSync(path, text);
  return path;
}

function configError(fn: () => unknown): M2MError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(M2MError);
    expect((err as M2MError).code).toBe('INVALID_CONFIG');
    return err as M2MError;
  }
  throw new Error('expected INVALID_CONFIG');
}

describe('loadConfig', () => {
  test('defaults (no file, no variables, no flags)', () => {
    const c = loadConfig({ env: env() });
    expect(c.server).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      workers: 1,
      bodyLimit: 16 * 1024 * 1024,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      sessionTimeoutMs: 300_000,
      maxSessionsPerIp: 100,
      rateLimit: { perClient: 6000, perSession: 1000, newSessionsPerClient: 100, bytesPerSecond: 10_000_000 },
      logLevel: 'info',
      logJson: false,
    });
    expect(c.server.redisUrl).toBeUndefined();
    expect(c.compression).toEqual({
      algorithm: 'auto',
      encoding: 'cl100k_base',
      brotliQuality: 5,
      optimize: 'bytes',
      maxSize: 16 * 1024 * 1024,
      minSize: 100,
      brotliThreshold: 0,
      profile: 'default',
      preferTokenForApi: true,
      mlRouting: false,
    });
    expect(c.logging).toEqual({ level: 'info', json: false });
    expect(c.security).toMatchObject({ enabled: true, mode: 'monitor', threshold: 0.8 });
    expect(c.server.security).toBe(c.security);
    expect(c.meta.configFile).toBeUndefined();
    expect(c.meta.origins['server.port']).toBe('default');
  });

  test('~/.m2m/config.toml is read when it exists', () => {
    const home = mkdtempSync(join(tmpdir(), 'm2m-home-'));
    mkdirSync(join(home, '.m2m'));
    writeFileSync(join(home, '.m2m', 'config.toml'), '[logging]\nlevel = "debug"\n');
    const c = loadConfig({ env: { HOME: home } });
    expect(c.logging.level).toBe('debug');
    expect(c.meta.configFile).toBe(join(home, '.m2m', 'config.toml'));
  });

  test('priority: flags > environment > file > defaults, per key', () => {
    const file = join(FIXTURES, 'config.toml'); // listen 127.0.0.1:4100, dictionary, o200k_base, threshold 0.9
    const fromFile = loadConfig({ configPath: file, env: env() });
    expect(fromFile.server.port).toBe(4100);
    expect(fromFile.compression.algorithm).toBe('dictionary');
    expect(fromFile.security.threshold).toBe(0.9);
    expect(fromFile.meta.origins['compression.algorithm']).toBe('file');

    const fromEnv = loadConfig({
      configPath: file,
      env: env({ M2M_SERVER_PORT: '5000', M2M_COMPRESSION_ALGORITHM: 'brotli', M2M_BLOCK_THRESHOLD: '0.7' }),
    });
    expect(fromEnv.server.port).toBe(5000);
    expect(fromEnv.server.host).toBe('127.0.0.1');
    expect(fromEnv.compression.algorithm).toBe('brotli');
    expect(fromEnv.compression.encoding).toBe('o200k_base'); // still the file's
    expect(fromEnv.security.threshold).toBe(0.7);
    expect(fromEnv.meta.origins['server.port']).toBe('env:M2M_SERVER_PORT');

    const fromFlags = loadConfig({
      configPath: file,
      env: env({ M2M_SERVER_PORT: '5000', M2M_COMPRESSION_ALGORITHM: 'brotli', M2M_BLOCK_THRESHOLD: '0.7' }),
      flags: { port: '6000', algorithm: 'none', threshold: '0.6', blocking: true },
    });
    expect(fromFlags.server.port).toBe(6000);
    expect(fromFlags.compression.algorithm).toBe('none');
    expect(fromFlags.security).toMatchObject({ threshold: 0.6, blocking: true, mode: 'blocking' });
    expect(fromFlags.meta.origins['server.port']).toBe('flag:--port');
  });

  test('raw argv: config flags are picked out, everything else is ignored', () => {
    const c = loadConfig({
      env: env(),
      argv: ['server', '-p', '9000', '-H', '0.0.0.0', '--workers', '4', '--log-json', '--bogus', 'x', '-t', '0.5'],
    });
    expect(c.server).toMatchObject({ port: 9000, host: '0.0.0.0', workers: 4, logJson: true });
    expect(c.security.threshold).toBe(0.5);
  });

  test('config file: --config flag, M2M_CONFIG, and the configPath option, in that order of strength', () => {
    const a = writeConfig('[server]\nport = 1111\n');
    const b = writeConfig('[server]\nport = 2222\n');
    const c = writeConfig('[server]\nport = 3333\n');
    expect(loadConfig({ env: env({ M2M_CONFIG: a }) }).server.port).toBe(1111);
    expect(loadConfig({ env: env({ M2M_CONFIG: a }), flags: { config: b } }).server.port).toBe(2222);
    expect(loadConfig({ env: env({ M2M_CONFIG: a }), flags: { config: b }, configPath: c }).server.port).toBe(3333);
  });

  test('listen = "host:port" sets both; an explicit host/port wins; IPv6 in brackets', () => {
    expect(
      loadConfig({ configPath: writeConfig('[server]\nlisten = "0.0.0.0:8080"\n'), env: env() }).server,
    ).toMatchObject({ host: '0.0.0.0', port: 8080 });
    const both = writeConfig('[server]\nport = 9090\nlisten = "0.0.0.0:8080"\n');
    expect(loadConfig({ configPath: both, env: env() }).server).toMatchObject({ host: '0.0.0.0', port: 9090 });
    expect(loadConfig({ env: env({ M2M_SERVER_LISTEN: '[::1]:7000' }) }).server).toMatchObject({
      host: '::1',
      port: 7000,
    });
    const e = configError(() => loadConfig({ env: env({ M2M_SERVER_LISTEN: 'localhost' }) }));
    expect(e.message).toContain('server.listen = "localhost" (from environment variable M2M_SERVER_LISTEN)');
    expect(e.message).toContain('"host:port"');
  });

  test('sizes and durations: numbers or strings with units', () => {
    const path = writeConfig(
      '[server]\nbody_limit = "1MiB"\ntimeout = "2m"\nkeep_alive_timeout = 2.5\n[compression]\nmax_size = "64KiB"\n',
    );
    const c = loadConfig({ configPath: path, env: env({ M2M_SESSION_TIMEOUT: '500ms' }) });
    expect(c.server.bodyLimit).toBe(1024 * 1024);
    expect(c.server.requestTimeoutMs).toBe(120_000);
    expect(c.server.keepAliveTimeoutMs).toBe(2_500);
    expect(c.server.sessionTimeoutMs).toBe(500);
    expect(c.compression.maxSize).toBe(64 * 1024);
    expect(parseSize('10MB')).toBe(10_000_000);
    expect(parseSize('12 parsecs')).toBe('12 parsecs');
    expect(parseDuration('1h')).toBe(3600);
  });

  test('worker-thread offload: size and budget (the budget follows server.timeout unless set)', () => {
    const defaults = loadConfig({ env: env({}) }).server;
    expect(defaults).toMatchObject({ offloadBytes: 16 * 1024, workBudgetMs: 30_000 });
    const path = writeConfig('[server]\ntimeout = "10s"\noffload_size = "1MiB"\n');
    expect(loadConfig({ configPath: path, env: env({}) }).server).toMatchObject({
      offloadBytes: 1024 * 1024,
      workBudgetMs: 10_000,
    });
    const off = loadConfig({ env: env({ M2M_SERVER_OFFLOAD_SIZE: '0', M2M_SERVER_WORK_BUDGET: '250ms' }) }).server;
    expect(off).toMatchObject({ offloadBytes: false, workBudgetMs: 250 });
    const e = configError(() => loadConfig({ env: env({ M2M_SERVER_WORK_BUDGET: '0' }) }));
    expect(e.message).toContain('server.work_budget');
  });

  test('session history per direction (the history extension): default 24 KiB, from the file or the environment, 0 off', () => {
    expect(loadConfig({ env: env({}) }).server.sessionHistoryBytes).toBe(24 * 1024);
    const path = writeConfig('[server]\nsession_history = "8KiB"\n');
    expect(loadConfig({ configPath: path, env: env({}) }).server.sessionHistoryBytes).toBe(8 * 1024);
    expect(loadConfig({ env: env({ M2M_SESSION_HISTORY: '0' }) }).server.sessionHistoryBytes).toBe(0);
    const e = configError(() => loadConfig({ env: env({ M2M_SESSION_HISTORY: '2MiB' }) }));
    expect(e.message).toContain('server.session_history');
  });

  test('booleans from the environment; the spec keys and the quickstart alias are accepted', () => {
    const path = writeConfig('[compression]\nprefer_token = false\nml_routing = true\nmin_size = 10\n');
    const c = loadConfig({ configPath: path, env: env({ M2M_LOG_JSON: 'yes', M2M_SECURITY_ENABLED: 'false' }) });
    expect(c.logging.json).toBe(true);
    expect(c.security.mode).toBe('disabled');
    expect(c.compression).toMatchObject({ preferTokenForApi: false, mlRouting: true, minSize: 10 });
    expect(c.meta.warnings.join('\n')).toContain('ml_routing');
  });

  test('invalid values: every one reported with key, value, origin and what is allowed', () => {
    const path = writeConfig('[server]\nworkers = 0\n[compression]\nencoding = "p50k_base"\n');
    const e = configError(() =>
      loadConfig({
        configPath: path,
        env: env({ M2M_SERVER_PORT: '70000', M2M_LOG_LEVEL: 'verbose' }),
        flags: { 'brotli-quality': '12' },
      }),
    );
    expect(e.message).toContain('server.port = 70000 (from environment variable M2M_SERVER_PORT)');
    expect(e.message).toContain('an integer from 0 to 65535');
    expect(e.message).toContain(`server.workers = 0 (from config file ${path})`);
    expect(e.message).toContain('compression.encoding = "p50k_base"');
    expect(e.message).toContain('cl100k_base, o200k_base, llama3');
    expect(e.message).toContain('logging.level = "verbose"');
    expect(e.message).toContain('trace, debug, info, warn, error');
    expect(e.message).toContain('compression.brotli_quality = 12 (from flag --brotli-quality)');
    expect(e.message).toContain('an integer from 0 to 11');
  });

  test('wrong types in the file and invalid security values', () => {
    const path = writeConfig('[server]\nport = "eighty"\n[security]\nthreshold = 1.5\n');
    const e = configError(() => loadConfig({ configPath: path, env: env() }));
    expect(e.message).toContain('server.port = "eighty"');
    expect(e.message).toMatch(/threshold.*1\.5.*0\.0 to 1\.0/);
    const flag = configError(() => loadConfig({ env: env(), flags: { threshold: 'high' } }));
    expect(flag.message).toContain('--threshold');
  });

  test('unknown sections and keys, with a suggestion when one is close', () => {
    const e = configError(() => loadConfig({ configPath: join(FIXTURES, 'bad-config.toml'), env: env() }));
    expect(e.message).toContain('unknown config key server.prot');
    expect(e.message).toContain('did you mean server.port?');
    expect(e.message).toContain('unknown config section [compresion]');
    expect(e.message).toContain('did you mean [compression]?');
    expect(e.message).toContain('server.port = 70000'); // reported together with the unknown keys
    const sec = configError(() => loadConfig({ configPath: writeConfig('[security]\ntreshold = 0.5\n'), env: env() }));
    expect(sec.message).toContain('unknown config key security.treshold');
    expect(sec.message).toContain('did you mean security.threshold?');
    const far = configError(() =>
      loadConfig({ configPath: writeConfig('[logging]\ncolour_scheme = 1\n'), env: env() }),
    );
    expect(far.message).toContain('unknown config key logging.colour_scheme');
    expect(far.message).not.toContain('did you mean');
    expect(far.message).toContain('allowed here: level, json');
  });

  test('a value where a table belongs, and a table where a value belongs', () => {
    const e = configError(() =>
      loadConfig({ configPath: writeConfig('server = 3\n[compression.algorithm]\nx = 1\n'), env: env() }),
    );
    expect(e.message).toContain('server = 3');
    expect(e.message).toContain('expected a table');
    expect(e.message).toContain('compression.algorithm');
  });

  test('missing explicit file and invalid TOML', () => {
    const missing = configError(() => loadConfig({ env: env({ M2M_CONFIG: '/nonexistent/m2m.toml' }) }));
    expect(missing.message).toContain('config file not found: /nonexistent/m2m.toml');
    expect(missing.message).toContain('M2M_CONFIG');
    const bad = configError(() => loadConfig({ configPath: writeConfig('[server\nport = 1\n'), env: env() }));
    expect(bad.message).toContain('is not valid TOML');
  });

  test('a misspelt M2M_* variable is a warning with a suggestion, other M2M_* variables are ignored', () => {
    const c = loadConfig({ env: env({ M2M_SERVR_PORT: '1', M2M_BACKEND: 'wasm', M2M_SOMETHING_ELSE: 'x' }) });
    expect(c.server.port).toBe(3000);
    expect(c.meta.warnings).toEqual([
      'environment variable M2M_SERVR_PORT is not an m2m setting (did you mean M2M_SERVER_PORT?)',
    ]);
  });

  test('every setting has a valid default', () => {
    for (const s of CONFIG_SETTINGS) {
      if (s.default !== undefined) expect(s.schema.safeParse(s.default).success, s.key).toBe(true);
    }
  });
});

describe('suggestions', () => {
  test('edit distance counts transpositions as one edit', () => {
    expect(editDistance('port', 'prot')).toBe(1);
    expect(editDistance('compress', 'comprss')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  test('closest only suggests plausible typos', () => {
    expect(closest('algoritm', ['algorithm', 'encoding'])).toBe('algorithm');
    expect(closest('x', ['json', 'file'])).toBeUndefined();
    expect(closest('serve', ['server', 'scan'])).toBe('server');
  });
});

describe('the settings tables', () => {
  /** A valid value other than the default, as a string (what the environment or a flag carries). */
  function otherValue(spec: SettingSpec): string | undefined {
    const candidates = ['true', 'false', '0.5', '3', '7', 'blocking', 'disabled', 'a,b', 'tokens', 'llama3', 'brotli'];
    for (const raw of candidates) {
      const parsed = fromString(spec.kind, raw);
      if (JSON.stringify(parsed) !== JSON.stringify(spec.default) && spec.schema.safeParse(parsed).success) return raw;
    }
    return undefined;
  }

  test('every security setting is read from each of its environment variables and its flag', () => {
    for (const spec of SECURITY_SETTINGS) {
      const raw = otherValue(spec);
      expect(raw, spec.key).toBeDefined();
      const field = securityField(spec.key) as keyof SecurityConfig;
      const expected = field === 'mode' ? raw : fromString(spec.kind, raw as string);
      for (const name of spec.env) {
        const config = loadConfig({ env: env({ [name]: raw as string }) });
        expect(config.security[field], `${name}=${raw}`).toEqual(expected);
      }
      if (spec.flag) {
        const argv = spec.kind === 'bool' ? [`--${spec.flag}`] : [`--${spec.flag}`, raw as string];
        const config = loadConfig({ env: env(), argv });
        if (spec.kind !== 'bool' || raw === 'true') expect(config.security[field], argv.join(' ')).toEqual(expected);
      }
    }
  });

  test('every flag of the tables is a config flag, with the short name the table gives', () => {
    for (const spec of [...CONFIG_SETTINGS, ...SECURITY_SETTINGS]) {
      if (!spec.flag) continue;
      expect(CONFIG_FLAGS[spec.flag], spec.key).toEqual(
        spec.short
          ? { type: spec.kind === 'bool' ? 'boolean' : 'string', short: spec.short }
          : { type: spec.kind === 'bool' ? 'boolean' : 'string' },
      );
    }
  });

  test('m2m help config lists every setting with its environment variables, flag and default', () => {
    const lines = configHelp().split('\n');
    for (const spec of [...CONFIG_SETTINGS, ...SECURITY_SETTINGS]) {
      const line = lines.find((l) => l.startsWith(`${spec.key} `));
      expect(line, spec.key).toBeDefined();
      for (const name of spec.env) expect(line).toContain(name);
      if (spec.flag) expect(line).toContain(`--${spec.flag}`);
    }
  });
});
