/**
 * m2m's routes as a fastify plugin, for mounting in your own fastify app:
 *
 * ```ts
 * import Fastify from 'fastify';
 * import { m2mPlugin } from 'm2m-protocol/fastify';
 * const app = Fastify();
 * await app.register(m2mPlugin, { prefix: '/m2m', security: { mode: 'blocking' } });
 * ```
 *
 * Routes (under `prefix`): `GET /health`, `GET /status`, `POST /v1/compress`,
 * `/v1/compress/auto`, `/v1/decompress`, `/v1/inspect`, `/v1/scan`, the session routes under
 * `/v1/session` and the WebSocket upgrade at `/v1/ws`. Errors inside the
 * plugin's routes have the spec's shape; the plugin leaves your app's own
 * error handler, rate limits and other routes alone; their JSON bodies must
 * be UTF-8 (400 `INVALID_UTF8`), and large ones are handled on worker threads
 * (`offloadBytes`). `/health` reports the session store's state.
 * `app.m2m.manager` is the `SessionManager`, `app.m2m.pool` the worker
 * threads. Needs the `fastify` and `fastify-plugin` peer dependencies.
 */
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type fastifyPlugin from 'fastify-plugin';
import { packageManifest } from '../../core/package-files.js';
import { backendKind, M2MError } from '../../index.js';
import { type SecurityConfig, securityConfigFrom } from '../../security/index.js';
import { requirePeer } from '../peers.js';
import {
  attachSessionWebSocket,
  type DataHandler,
  httpStatusFor,
  MemorySessionStore,
  registerSessionRoutes,
  SessionManager,
  type SessionSecurityPolicy,
  type SessionStore,
} from '../session/index.js';
import { WorkPool } from './pool.js';
import { type RequestStats, requestAlgorithm, requestStats, tagRequest } from './stats.js';
import { WindowCounter } from './window.js';
import {
  errorBody,
  parseJsonBytes,
  type Route,
  runRoute,
  sessionSecurity,
  type Verdict,
  type WorkSettings,
} from './work.js';

export { type RequestStats, requestAlgorithm, requestStats };

const fp = requirePeer<typeof fastifyPlugin>('fastify-plugin', 'the m2m fastify plugin');

/** Options of {@link m2mPlugin}. Every field has a default. */
export interface M2MPluginOptions {
  /** Path prefix of every route (the WebSocket's too). Default: none. */
  prefix?: string;
  /** The scanner's settings (any `[security]` fields; the rest take their defaults). */
  security?: Partial<SecurityConfig>;
  /**
   * Spec §7.6.2 per-session limits: DATA messages per minute per session, new
   * sessions per minute per client address, DATA payload bytes per second per
   * session. (Requests per client address are the app's to limit, as
   * `startServer` does: see limits.ts.)
   */
  rateLimit?: { perSession?: number; newSessionsPerClient?: number; bytesPerSecond?: number };
  /** Idle session lifetime, ms. Default 5 minutes (spec §7.6.1). */
  sessionTimeoutMs?: number;
  /** History kept per direction for sessions with the history extension, bytes; 0 turns it off. Default 24 KiB. */
  sessionHistoryBytes?: number;
  /** Live sessions one client address may hold. Default 100 (spec §7.6.1). */
  maxSessionsPerIp?: number;
  /** Defaults for requests that name no algorithm or encoding. */
  compression?: WorkSettings['compression'];
  /**
   * Stateless request bodies from this size (bytes) are parsed and handled on
   * one of the plugin's worker threads (started on first use, ended when the
   * app closes), so a large one cannot stall the others; so is session DATA
   * (HTTP or WebSocket) whose wire, binary body or reply content reaches it:
   * decoded, scanned and encoded there. `false` handles everything on the
   * event loop. Default 16 KiB.
   */
  offloadBytes?: number | false;
  /** Wall-clock budget of one request on a worker thread, ms (503 `BUDGET_EXCEEDED` after it). Default 30 s. */
  workBudgetMs?: number;
  /** Further fields of the `/health` answer (e.g. the app's rate-limit state). */
  health?: () => Record<string, unknown>;
  /** Where sessions live. Default: in this process's memory. */
  store?: SessionStore;
  /** What `/status` reports as the store. Default `'memory'` (or `'custom'` with a `store`). */
  storeName?: string;
  /** Serve the session protocol over WebSocket at `<prefix>/v1/ws`. Default true. */
  webSocket?: boolean;
  /** What to do with content received in sessions; a returned string is sent back as DATA. Default: nothing. */
  onData?: DataHandler;
  /** Session security (keys in HELLO/ACCEPT, sealed DATA); see `SessionManagerOptions.sessionSecurity`. */
  sessionSecurity?: SessionSecurityPolicy | false;
  /** The frame key of the stateless routes; see `ServerOptions.frameKey`. */
  frameKey?: Uint8Array;
  /** Called with the scanner's verdict on each session DATA it scans (the server's `/metrics` counts them). */
  onVerdict?: (verdict: Verdict) => void;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by m2m's fastify plugin. */
    m2m: { manager: SessionManager; pool: WorkPool | undefined };
  }
}

const VERSION = packageManifest().version;

/** A request body large enough to be parsed on a worker thread: its bytes, unparsed. */
class LargeBody {
  constructor(readonly bytes: Uint8Array) {}
}

/** The stats fields of a route's answer. */
function statsOf(r: RequestStats): RequestStats {
  const out: RequestStats = {};
  if (r.algorithm !== undefined) out.algorithm = r.algorithm;
  if (r.verdict !== undefined) out.verdict = r.verdict;
  if (r.contentBytes !== undefined) out.contentBytes = r.contentBytes;
  if (r.wireBytes !== undefined) out.wireBytes = r.wireBytes;
  return out;
}

/** The spec's error body, with the status its code maps to. */
export function sendError(reply: FastifyReply, err: M2MError, details?: Record<string, unknown>) {
  return reply.code(httpStatusFor(err.code)).send(errorBody(err, details));
}

/** Maps fastify's own errors (body too large, bad JSON, timeouts) to the spec's codes. */
export function toM2MError(err: FastifyError | M2MError | Error): M2MError {
  if (err instanceof M2MError) return err;
  const e = err as FastifyError;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new M2MError('CONTENT_TOO_LARGE', 'request body exceeds the size limit');
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new M2MError('INVALID_REQUEST', 'send a JSON body (Content-Type: application/json)');
  if (
    e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    e.name === 'SyntaxError'
  ) {
    return new M2MError('INVALID_JSON', `request body is not valid JSON: ${e.message}`);
  }
  if (e.statusCode === 429) return new M2MError('RATE_LIMITED', e.message);
  if (typeof e.statusCode === 'number' && e.statusCode < 500) return new M2MError('INVALID_REQUEST', e.message);
  return new M2MError('INTERNAL_ERROR', 'internal server error', { cause: err });
}

/** The error handler of m2m's routes: every failure as the spec's error body. */
export function m2mErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const error = toM2MError(err);
  if (error.code === 'INTERNAL_ERROR') req.log.error({ err }, 'request failed');
  return sendError(reply, error);
}

const plugin: FastifyPluginAsync<M2MPluginOptions> = async (app: FastifyInstance, options: M2MPluginOptions) => {
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const security = securityConfigFrom(options.security);
  const limits = { perSession: 1000, newSessionsPerClient: 100, bytesPerSecond: 10_000_000, ...options.rateLimit };
  const store: SessionStore = options.store ?? new MemorySessionStore();
  const storeName = options.storeName ?? (options.store ? 'custom' : 'memory');

  const sessionWindow = new WindowCounter(60_000);
  const byteWindow = new WindowCounter(1_000);
  /** DATA within both per-session budgets; stateless DATA is counted per client address. */
  const dataAllowed = (sessionId: string, peer: string | undefined, bytes: number): boolean => {
    const key = sessionId === '' ? `peer:${peer ?? ''}` : sessionId;
    if (sessionWindow.hit(`message:${key}`) > limits.perSession) return false;
    return byteWindow.hit(key, bytes) - bytes < limits.bytesPerSecond;
  };
  const settings: WorkSettings = {
    security,
    compression: { ...options.compression },
    ...(options.frameKey === undefined ? {} : { frameKey: options.frameKey }),
  };
  const offloadBytes = options.offloadBytes ?? 16 * 1024;
  const onVerdict = options.onVerdict;
  // The threads run the plugin's routes with the plugin's settings, so the plugin owns them.
  const pool =
    offloadBytes === false
      ? undefined
      : new WorkPool({ settings, budgetMs: options.workBudgetMs ?? 30_000, ...(onVerdict ? { onVerdict } : {}) });
  const sessionScan = sessionSecurity(security, onVerdict);
  const manager = new SessionManager({
    store,
    ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
    maxSessionsPerPeer: options.maxSessionsPerIp ?? 100,
    ...(options.sessionHistoryBytes === undefined ? {} : { historyBytes: options.sessionHistoryBytes }),
    send: { minSize: options.compression?.minSize, brotliThreshold: options.compression?.brotliThreshold },
    rateLimiter: ({ kind, peer, sessionId, bytes }) =>
      kind === 'hello'
        ? sessionWindow.hit(`hello:${peer ?? ''}`) <= limits.newSessionsPerClient
        : dataAllowed(sessionId ?? '', peer, bytes ?? 0),
    ...(sessionScan.scanner ? { scanner: sessionScan.scanner } : {}),
    securityBlocking: sessionScan.blocking,
    onData: options.onData,
    // Never the session id: logs carry no credentials.
    onError: (error, info) => app.log.warn({ code: error.code, transport: info.transport }, error.message),
    ...(options.sessionSecurity === undefined ? {} : { sessionSecurity: options.sessionSecurity }),
    // Large session DATA is decoded and encoded on the threads too.
    ...(pool && offloadBytes !== false
      ? { offload: { minBytes: offloadBytes, decode: (job) => pool.decode(job), encode: (job) => pool.encode(job) } }
      : {}),
  });

  if (pool) app.addHook('onClose', async () => pool.close());
  app.decorate('m2m', { manager, pool });

  // The routes in their own context: the error handler and the JSON parser apply to them only.
  await app.register(
    async (scope) => {
      scope.setErrorHandler(m2mErrorHandler);
      // JSON bodies as bytes: checked as UTF-8 (never silently repaired), and large ones parsed on a worker thread.
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
        if (pool !== undefined && offloadBytes !== false && body.length >= offloadBytes)
          return done(null, new LargeBody(body));
        try {
          done(null, parseJsonBytes(body));
        } catch (err) {
          done(err as Error, undefined);
        }
      });

      const stateless = (route: Route) => async (req: FastifyRequest, reply: FastifyReply) => {
        if (req.body instanceof LargeBody && pool !== undefined) {
          const r = await pool.run({ route, body: req.body.bytes });
          for (const w of r.warnings ?? []) req.log.warn(w);
          tagRequest(req, statsOf(r));
          return reply.code(r.status).type('application/json; charset=utf-8').send(r.json);
        }
        const r = runRoute(route, req.body, settings);
        for (const w of r.warnings ?? []) req.log.warn(w);
        if (r.cause !== undefined) req.log.error({ err: r.cause }, 'request failed');
        tagRequest(req, statsOf(r));
        return reply.code(r.status).send(r.body);
      };

      scope.get('/health', async () => {
        const up = store.available !== false;
        return {
          status: up ? 'ok' : 'degraded',
          store: { type: storeName, state: up ? 'up' : 'down' },
          ...options.health?.(),
        };
      });
      scope.get('/status', async () => ({
        name: 'm2m',
        version: VERSION,
        backend: backendKind(),
        uptime_s: Math.round(process.uptime()),
        pid: process.pid,
        sessions: manager.connectionCount,
        security: { mode: security.mode, threshold: security.threshold },
        store: storeName,
        memory: { rss: process.memoryUsage().rss, heap_used: process.memoryUsage().heapUsed },
      }));
      scope.post('/v1/compress', stateless('compress'));
      scope.post('/v1/compress/auto', stateless('compress/auto'));
      scope.post('/v1/decompress', stateless('decompress'));
      scope.post('/v1/inspect', stateless('inspect'));
      scope.post('/v1/scan', stateless('scan'));
      registerSessionRoutes(scope, manager);
    },
    { prefix },
  );

  if (options.webSocket !== false) {
    const ws = attachSessionWebSocket(app.server, manager, { path: `${prefix}/v1/ws` });
    app.addHook('preClose', async () => {
      await ws.close();
    });
  }
};

/** m2m's routes as a fastify plugin (see the module comment). */
export const m2mPlugin = fp(plugin, { fastify: '5.x', name: 'm2m-protocol' });
