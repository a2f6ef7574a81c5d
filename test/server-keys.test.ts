// The server's configured keys over real HTTP: protected M2M frames made and
// opened with the frame key (`protect` / `require`), typed refusals without
// one, the settings that name the key files and variables, and pre-shared
// session keys for `m2m server`; the key never shows up in the server's logs.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress, decompress, inspect, type M2MError } from '../ts/index.js';
import { loadConfig, readServerKeys } from '../ts/node/config.js';
import { type RunningServer, startServer } from '../ts/node/server/index.js';
import { M2MClient } from '../ts/node/session/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const CHAT = JSON.stringify({
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Explain how Brotli differs from gzip in terms of compression ratio and speed.' },
  ],
});
const KEY = new Uint8Array(randomBytes(32));
const HEX = Buffer.from(KEY).toString('hex');
const OTHER = new Uint8Array(randomBytes(32));
const dir = mkdtempSync(join(tmpdir(), 'm2m-server-keys-'));
const keyFile = join(dir, 'frame.key');
writeFileSync(keyFile, `${HEX}\n`);

async function post(base: string, path: string, body: unknown) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('a server with a frame key', () => {
  let server: RunningServer;
  let pooled: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, logLevel: false, frameKey: KEY });
    // Every body on a worker thread: the key reaches the pool's threads too.
    pooled = await startServer({ port: 0, logLevel: false, frameKey: KEY, offloadBytes: 1 });
  });
  afterAll(async () => {
    await server.close();
    await pooled.close();
  });

  it('protects with its key and opens with it, with and without require', async () => {
    for (const base of [server.url, pooled.url]) {
      for (const mode of ['hmac', 'aead'] as const) {
        const c = await post(base, '/v1/compress', { content: CHAT, algorithm: 'm2m', protect: mode });
        expect(c.status).toBe(200);
        expect(c.body.algorithm).toBe('m2m');
        expect(inspect(c.body.wire).security).toBe(mode);
        // Made with the configured key: the library opens it with that key.
        expect(decompress(c.body.wire, { security: { mode, key: KEY } })).toBe(CHAT);
        const required = await post(base, '/v1/decompress', { wire: c.body.wire, require: mode });
        expect(required).toMatchObject({ status: 200, body: { content: CHAT, algorithm: 'm2m' } });
        const declared = await post(base, '/v1/decompress', { wire: c.body.wire });
        expect(declared).toMatchObject({ status: 200, body: { content: CHAT } });
      }
    }
  });

  it('refuses a frame made with another key, even without require (never returned unchecked)', async () => {
    for (const base of [server.url, pooled.url]) {
      for (const mode of ['hmac', 'aead'] as const) {
        const wire = compress(CHAT, { algorithm: 'm2m', security: { mode, key: OTHER } }).wire;
        for (const body of [{ wire, require: mode }, { wire }]) {
          const r = await post(base, '/v1/decompress', body);
          expect(r.status).toBe(401);
          expect(r.body.error.code).toBe('AUTHENTICATION_FAILED');
          expect(r.body.content).toBeUndefined();
        }
      }
    }
  });

  it('refuses a stripped or different protection when one is required', async () => {
    const plain = compress(CHAT, { algorithm: 'm2m' }).wire;
    const hmac = compress(CHAT, { algorithm: 'm2m', security: { mode: 'hmac', key: KEY } }).wire;
    for (const [wire, require] of [
      [plain, 'hmac'],
      [plain, 'aead'],
      [hmac, 'aead'],
    ]) {
      const r = await post(server.url, '/v1/decompress', { wire, require });
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('SECURITY_VIOLATION');
    }
    // An unprotected frame without require is simply decoded.
    expect((await post(server.url, '/v1/decompress', { wire: plain })).body.content).toBe(CHAT);
  });

  it('protect is for M2M frames; bad modes are request errors', async () => {
    const brotli = await post(server.url, '/v1/compress', { content: CHAT, algorithm: 'brotli', protect: 'hmac' });
    expect(brotli.status).toBe(400);
    expect(brotli.body.error.code).toBe('INVALID_OPTION');
    const bad = await post(server.url, '/v1/compress', { content: CHAT, algorithm: 'm2m', protect: 'rot13' });
    expect(bad.body.error.code).toBe('INVALID_REQUEST');
    const badRequire = await post(server.url, '/v1/decompress', { wire: 'x', require: 'rot13' });
    expect(badRequire.body.error.code).toBe('INVALID_REQUEST');
  });
});

describe('a server without a frame key', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, logLevel: false });
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses protect, require and protected frames with FRAME_KEY_UNAVAILABLE, never falling back', async () => {
    const base = server.url;
    for (const mode of ['hmac', 'aead'] as const) {
      const c = await post(base, '/v1/compress', { content: CHAT, algorithm: 'm2m', protect: mode });
      expect(c.status).toBe(422);
      expect(c.body.error.code).toBe('FRAME_KEY_UNAVAILABLE');
      expect(c.body.wire).toBeUndefined();
      const wire = compress(CHAT, { algorithm: 'm2m', security: { mode, key: KEY } }).wire;
      for (const body of [{ wire, require: mode }, { wire }]) {
        const d = await post(base, '/v1/decompress', body);
        expect(d.status).toBe(422);
        expect(d.body.error.code).toBe('FRAME_KEY_UNAVAILABLE');
        expect(d.body.content).toBeUndefined();
      }
    }
    // Unprotected frames and everything else still work.
    const plain = await post(base, '/v1/compress', { content: CHAT, algorithm: 'm2m' });
    expect(plain.status).toBe(200);
    expect((await post(base, '/v1/decompress', { wire: plain.body.wire, require: 'none' })).body.content).toBe(CHAT);
  });
});

describe('key settings', () => {
  const env = { HOME: dir };

  it('server.frame_key_file / _env from the file, the environment and flags, read with readKeyMaterial', () => {
    const configFile = join(dir, 'config.toml');
    writeFileSync(configFile, `[server]\nframe_key_file = ${JSON.stringify(keyFile)}\n`);
    const fromFile = loadConfig({ configPath: configFile, env });
    expect(fromFile.server.frameKeySource).toEqual({ file: keyFile });
    expect(fromFile.meta.origins['server.frame_key_file']).toBe('file');
    expect(readServerKeys(fromFile.server).frameKey).toEqual(KEY);

    const fromEnv = loadConfig({ env: { ...env, M2M_FRAME_KEY_ENV: 'MY_FRAME_KEY', MY_FRAME_KEY: HEX } });
    expect(fromEnv.server.frameKeySource).toEqual({ env: 'MY_FRAME_KEY' });
    process.env.M2M_TEST_FRAME_KEY = HEX;
    try {
      const flagged = loadConfig({ env, argv: ['--frame-key-env', 'M2M_TEST_FRAME_KEY'] });
      expect(flagged.meta.origins['server.frame_key_env']).toBe('flag:--frame-key-env');
      expect(readServerKeys(flagged.server).frameKey).toEqual(KEY);
    } finally {
      delete process.env.M2M_TEST_FRAME_KEY;
    }
    const flaggedFile = loadConfig({ env, flags: { 'frame-key-file': keyFile } });
    expect(readServerKeys(flaggedFile.server).frameKey).toEqual(KEY);
    // No key configured: nothing read, nothing passed.
    expect(readServerKeys(loadConfig({ env }).server)).toEqual({});
  });

  it('a missing key file is INVALID_KEY naming the file; both sources at once is INVALID_CONFIG', () => {
    const missing = loadConfig({ env, flags: { 'frame-key-file': join(dir, 'nope.key') } });
    expect(() => readServerKeys(missing.server)).toThrowError(expect.objectContaining({ code: 'INVALID_KEY' }));
    const both = () => loadConfig({ env, flags: { 'frame-key-file': keyFile, 'frame-key-env': 'X' } });
    expect(both).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    const noOrg = () => loadConfig({ env, flags: { 'session-key-file': keyFile } });
    expect(noOrg).toThrowError(/session\.org/);
  });

  it('[session] fills sessionSecurity.preShared; require alone requires keyed sessions', () => {
    const c = loadConfig({ env: { ...env, M2M_SESSION_KEY_FILE: keyFile, M2M_SESSION_ORG: 'acme' } });
    expect(readServerKeys(c.server).sessionSecurity).toEqual({
      require: true,
      preShared: { master: KEY, org: 'acme', agent: 'm2m-server' },
    });
    const required = loadConfig({ env, flags: { 'require-session-security': true } });
    expect(readServerKeys(required.server).sessionSecurity).toEqual({ require: true });
  });
});

describe('m2m server with key files', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGTERM');
  });

  function serve(args: string[], extraEnv: Record<string, string> = {}) {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('M2M_') || k === 'M2M_BACKEND') env[k] = v;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'ts/node/cli.ts', 'server', '--port', '0', '--log-level', 'trace', ...args],
      { cwd: ROOT, env: { ...env, HOME: dir, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
    const url = new Promise<string>((resolveUrl, reject) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.once('line', (line) => resolveUrl(/http:\/\/\S+/.exec(line)?.[0] ?? line));
      child.once('exit', (code) => reject(new Error(`m2m server exited with ${code}: ${output}`)));
    });
    const stop = () =>
      new Promise<string>((done) => {
        child.once('close', () => done(output));
        child.kill('SIGTERM');
      });
    return { url, stop };
  }

  it('--frame-key-file: protected round trip, wrong key refused, the key in no log line', async () => {
    const s = serve(['--frame-key-file', keyFile]);
    const base = await s.url;
    const c = await post(base, '/v1/compress', { content: CHAT, algorithm: 'm2m', protect: 'aead' });
    expect(c.status).toBe(200);
    expect(decompress(c.body.wire, { security: { mode: 'aead', key: KEY } })).toBe(CHAT);
    expect((await post(base, '/v1/decompress', { wire: c.body.wire, require: 'aead' })).body.content).toBe(CHAT);
    const wrong = compress(CHAT, { algorithm: 'm2m', security: { mode: 'hmac', key: OTHER } }).wire;
    const refused = await post(base, '/v1/decompress', { wire: wrong });
    expect(refused.body.error.code).toBe('AUTHENTICATION_FAILED');
    expect(JSON.stringify(refused.body).toLowerCase()).not.toContain(HEX);
    const output = await s.stop();
    expect(output).toContain('route=/v1/decompress status=401'); // the requests were logged...
    expect(output.toLowerCase()).not.toContain(HEX); // ...and no line holds the key, as hex or base64
    expect(output).not.toContain(Buffer.from(KEY).toString('base64'));
  }, 60_000);

  it('a pre-shared session key from --session-key-env pins sessions', async () => {
    const s = serve(['--session-key-env', 'ORG_MASTER'], { ORG_MASTER: HEX, M2M_SESSION_ORG: 'acme' });
    const base = await s.url;
    const pinned = new M2MClient({
      url: `${base}/v1`,
      transport: 'http',
      keepAlive: false,
      sessionSecurity: { preShared: { master: KEY, org: 'acme', agent: 'worker-1' } },
    });
    await pinned.connect();
    await pinned.close();
    const keyless = new M2MClient({ url: `${base}/v1`, transport: 'http', keepAlive: false });
    const code = await keyless.connect().then(
      () => 'connected',
      (e: M2MError) => e.code,
    );
    expect(code).toBe('SECURITY_POLICY');
    const output = await s.stop();
    expect(output.toLowerCase()).not.toContain(HEX);
  }, 60_000);
});
