/**
 * The m2m server: stateless compression endpoints, the session protocol over
 * HTTP and WebSocket, and the playground page, on fastify.
 *
 *   GET  /health                 liveness, and the session store's state (never rate limited)
 *   GET  /metrics                counters in Prometheus text format (never rate limited)
 *   GET  /status                 version, backend, sessions, memory
 *   POST /v1/compress            { content, algorithm?, encoding?, ... } → wire
 *   POST /v1/compress/auto       { content, optimize?, encoding? } → wire
 *   POST /v1/decompress          { wire } → content
 *   POST /v1/inspect             { wire } → an #M2M|1| frame's header (no key, no decompression)
 *   POST /v1/scan                { content, mode?, threshold? } → findings
 *   POST /v1/session, GET|DELETE /v1/session/:id, POST /v1/session/:id/message
 *   GET  /v1/ws                  WebSocket upgrade (session protocol)
 *   GET  /                       playground (when built)
 *
 * Errors have the spec's shape `{ "error": { "code", "message", "details"? } }`.
 */

import { existsSync, readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { Redis, type RedisOptions } from 'ioredis';
import { httpStatusFor } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { backendKind, M2MError } from '../../index.js';
import { type ScanMode, scan } from '../../security/index.js';
import {
  attachSessionWebSocket,
  type DataHandler,
  MemorySessionStore,
  registerSessionRoutes,
  SessionManager,
  type SessionStore,
} from '../session/index.js';
import { ClientLimiter } from './limits.js';
import { loggerOptions } from './log.js';
import { WorkPool } from './pool.js';
import { RedisSessionStore } from './redis-store.js';
import { WindowCounter } from './window.js';
import { errorBody, parseJsonBytes, type Route, runRoute, type WorkSettings } from './work.js';

/** How the server runs. Every field has a default. */
export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Largest request body, bytes (413 above). Default 16 MiB. */
  bodyLimit?: number;
  /**
   * Deadline for receiving a whole request (headers and body) against slow
   * clients, ms: 408 `REQUEST_TIMEOUT` within {@link DEADLINE_CHECK_MS} of it. Default 30 s.
   */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this, ms. Default 5 s. */
  keepAliveTimeoutMs?: number;
  security?: { mode?: ScanMode; threshold?: number };
  /**
   * Spec §7.6.2 rate limits: requests per minute per client address (shared
   * by all workers and processes: see limits.ts), DATA messages per minute
   * per session, new sessions per minute per client address, and DATA
   * payload bytes per second per session (a message that starts within the
   * budget is accepted whole; the next one waits for the next second).
   * Stateless DATA counts against the client address. `/health` and
   * `/metrics` are not limited.
   */
  rateLimit?: { perClient?: number; perSession?: number; newSessionsPerClient?: number; bytesPerSecond?: number };
  /** Idle session lifetime, ms. Default 5 minutes (spec §7.6.1). */
  sessionTimeoutMs?: number;
  /** Live sessions one client address may hold; a further HELLO gets REJECT RATE_LIMITED. Default 100 (spec §7.6.1). */
  maxSessionsPerIp?: number;
  /** Defaults for requests that name no algorithm or encoding. */
  compression?: WorkSettings['compression'];
  /**
   * Share sessions and rate-limit counters between processes through Redis.
   * While Redis is unreachable the stateless endpoints and `/health` work as
   * ever, rate limits count in memory, and the session routes answer 503
   * `STORE_UNAVAILABLE`; all of it recovers when Redis is back.
   */
  redisUrl?: string;
  /** `false` for no logs; otherwise pino's level. Default 'info'. */
  logLevel?: string | false;
  /** Log lines as JSON (one object a line) instead of text. Default false. */
  logJson?: boolean;
  /** Request bodies from this size (bytes) are parsed and handled on a worker thread. Default 16 KiB. */
  offloadBytes?: number;
  /** Wall-clock budget of one request on a worker thread, ms (503 `BUDGET_EXCEEDED` after it). Default: `requestTimeoutMs`. */
  workBudgetMs?: number;
  /** Directory of the built playground, served at `/`. Default build/playground when present. */
  playgroundDir?: string;
  /** What to do with content received in sessions; a returned string is sent back as DATA. Default: nothing. */
  onData?: DataHandler;
}

/** A running server. */
export interface RunningServer {
  url: string;
  app: FastifyInstance;
  manager: SessionManager;
  /** Stops accepting, closes sessions and connections, then resolves. */
  close(): Promise<void>;
}

/** How often Node checks the request deadlines (its default, 30 s, let slow clients stay up to twice the deadline). */
export const DEADLINE_CHECK_MS = 250;

/**
 * Redis fails fast instead of queueing: no offline queue, one retry, a
 * command timeout, and reconnection every second at most, so a Redis outage
 * costs a request at most a second and the server notices the recovery.
 */
const REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  connectTimeout: 2_000,
  commandTimeout: 1_000,
  retryStrategy: (times) => Math.min(100 * times, 1_000),
};

/** Routes that are never rate limited (monitoring must see an overloaded server). */
const UNLIMITED = new Set(['/health', '/metrics']);

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** A request body large enough to be parsed on a worker thread: its bytes, unparsed. */
class LargeBody {
  constructor(readonly bytes: Uint8Array) {}
}

/** The algorithm a request used, for its log line. */
const ALGORITHM = Symbol('m2m.algorithm');
type Tagged = FastifyRequest & { [ALGORITHM]?: string };

/** The spec's error body, with the status its code maps to. */
function sendError(reply: FastifyReply, err: M2MError) {
  return reply.code(httpStatusFor(err.code)).send(errorBody(err));
}

/** Maps fastify's own errors (body too large, bad JSON, timeouts) to the spec's codes. */
function toM2MError(err: FastifyError | M2MError | Error): M2MError {
  if (err instanceof M2MError) return err;
  const e = err as FastifyError;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new M2MError('CONTENT_TOO_LARGE', 'request body exceeds the size limit');
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new M2MError('INVALID_REQUEST', 'send a JSON body (Content-Type: application/json)');
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.name === 'SyntaxError') {
    return new M2MError('INVALID_JSON', `request body is not valid JSON: ${e.message}`);
  }
  if (e.statusCode === 429) return new M2MError('RATE_LIMITED', e.message);
  if (typeof e.statusCode === 'number' && e.statusCode < 500) return new M2MError('INVALID_REQUEST', e.message);
  return new M2MError('INTERNAL_ERROR', 'internal server error', { cause: err });
}

/** Starts the server and resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const bodyLimit = options.bodyLimit ?? LIMITS.maxMessageBytes;
  const securityMode: ScanMode = options.security?.mode ?? 'monitor';
  const threshold = options.security?.threshold ?? 0.8;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const offloadBytes = options.offloadBytes ?? 16 * 1024;
  const limits = {
    perClient: 6000,
    perSession: 1000,
    newSessionsPerClient: 100,
    bytesPerSecond: 10_000_000,
    ...options.rateLimit,
  };
  const redis = options.redisUrl ? new Redis(options.redisUrl, REDIS_OPTIONS) : undefined;
  const store: SessionStore = redis ? new RedisSessionStore(redis) : new MemorySessionStore();
  const settings: WorkSettings = { securityMode, threshold, compression: { ...options.compression } };
  const pool = new WorkPool({ settings, budgetMs: options.workBudgetMs ?? timeoutMs });

  const clientError = function (this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket) {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, error] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, new M2MError('REQUEST_TIMEOUT', `the request was not received within ${timeoutMs} ms`)]
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, new M2MError('HEADERS_TOO_LARGE', 'the request headers exceed the size limit (16 KiB)')]
          : [400, new M2MError('INVALID_REQUEST', `malformed HTTP request (${err.code ?? 'parse error'})`)];
    const body = JSON.stringify(errorBody(error));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    // Drop what the client still sends before closing: closing with unread data resets the
    // connection, and the client would never read the answer.
    socket.removeAllListeners('data');
    socket.on('data', () => {});
    socket.end();
    setTimeout(() => socket.destroy(), 2_000).unref();
  };

  const app = Fastify({
    bodyLimit,
    requestTimeout: timeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    connectionTimeout: timeoutMs,
    http: { headersTimeout: timeoutMs, requestTimeout: timeoutMs, connectionsCheckingInterval: DEADLINE_CHECK_MS },
    clientErrorHandler: clientError,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // fastify's two lines per request are replaced by one (the onResponse hook).
    logController: new LogController({ disableRequestLogging: true }),
    logger: loggerOptions(options.logLevel, options.logJson ?? false),
  });

  let storeUp = redis === undefined;
  if (redis) {
    redis.on('ready', () => {
      if (!storeUp) app.log.info({ store: 'redis' }, 'session store reachable');
      storeUp = true;
    });
    const down = (err?: Error) => {
      if (storeUp) app.log.warn({ store: 'redis', reason: err?.message }, 'session store unreachable');
      storeUp = false;
    };
    redis.on('error', down);
    redis.on('close', () => down());
    // Start degraded rather than not at all when Redis is down.
    await new Promise<void>((resolve) => {
      if (redis.status === 'ready') return resolve();
      const timer = setTimeout(resolve, REDIS_OPTIONS.connectTimeout);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  const sessionWindow = new WindowCounter(60_000);
  const byteWindow = new WindowCounter(1_000);
  /** DATA within both per-session budgets; stateless DATA is counted per client address. */
  const dataAllowed = (sessionId: string, peer: string | undefined, bytes: number): boolean => {
    const key = sessionId === '' ? `peer:${peer ?? ''}` : sessionId;
    if (sessionWindow.hit(`message:${key}`) > limits.perSession) return false;
    return byteWindow.hit(key, bytes) - bytes < limits.bytesPerSecond;
  };
  const manager = new SessionManager({
    store,
    ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
    maxSessionsPerPeer: options.maxSessionsPerIp ?? 100,
    send: { minSize: options.compression?.minSize, brotliThreshold: options.compression?.brotliThreshold },
    rateLimiter: ({ kind, peer, sessionId, bytes }) =>
      kind === 'hello'
        ? sessionWindow.hit(`hello:${peer ?? ''}`) <= limits.newSessionsPerClient
        : dataAllowed(sessionId ?? '', peer, bytes ?? 0),
    scanner:
      securityMode === 'disabled'
        ? undefined
        : (content) => {
            const r = scan(content, { mode: securityMode, threshold });
            return { safe: r.safe, blocked: r.blocked, threats: r.threats.map((t) => ({ ...t })) };
          },
    securityBlocking: securityMode === 'blocking',
    onData: options.onData,
    // Never the session id: logs carry no credentials.
    onError: (error, info) => app.log.warn({ code: error.code, transport: info.transport }, error.message),
  });

  const limiter = new ClientLimiter({
    max: limits.perClient,
    windowMs: 60_000,
    redis,
    onModeChange: (mode) => app.log.warn({ rate_limit: mode }, 'rate limit counts moved'),
  });
  const counts = { requests: new Map<number, number>(), rateLimited: 0 };
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const error = toM2MError(err);
    if (error.code === 'INTERNAL_ERROR') req.log.error({ err }, 'request failed');
    return sendError(reply, error);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new M2MError('NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`)),
  );

  const tooMany = (reply: FastifyReply) => {
    counts.rateLimited++;
    reply
      .code(429)
      .header('retry-after', String(limiter.retryAfterSeconds()))
      .send(
        errorBody(
          new M2MError(
            'RATE_LIMITED',
            `rate limit exceeded: ${limits.perClient} requests per minute per client address; retry after ${limiter.retryAfterSeconds()} s`,
          ),
        ),
      );
  };
  app.addHook('onRequest', (req, reply, done) => {
    const q = req.url.indexOf('?');
    if (UNLIMITED.has(q < 0 ? req.url : req.url.slice(0, q))) return done();
    const n = limiter.hit(req.ip);
    if (typeof n === 'number') {
      if (n > limits.perClient) return tooMany(reply);
      return done();
    }
    n.then(
      (count) => (count > limits.perClient ? tooMany(reply) : done()),
      () => done(),
    );
  });

  app.addHook('onResponse', (req, reply, done) => {
    const status = reply.statusCode;
    counts.requests.set(status, (counts.requests.get(status) ?? 0) + 1);
    const algorithm = (req as Tagged)[ALGORITHM];
    // One line per request; never bodies, keys or session ids (the route pattern, not the URL).
    req.log.info(
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        bytes_in: Number(req.headers['content-length'] ?? 0),
        bytes_out: Number(reply.getHeader('content-length') ?? 0),
        ...(algorithm ? { algorithm } : {}),
      },
      'request',
    );
    done();
  });

  // JSON bodies as bytes: checked as UTF-8 (never silently repaired), and large ones parsed on a worker thread.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    if (body.length >= offloadBytes) return done(null, new LargeBody(body));
    try {
      done(null, parseJsonBytes(body));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  const stateless = (route: Route) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.body instanceof LargeBody) {
      const r = await pool.run({ route, body: req.body.bytes });
      for (const w of r.warnings ?? []) req.log.warn(w);
      if (r.algorithm) (req as Tagged)[ALGORITHM] = r.algorithm;
      return reply.code(r.status).type('application/json; charset=utf-8').send(r.json);
    }
    const r = runRoute(route, req.body, settings);
    for (const w of r.warnings ?? []) req.log.warn(w);
    if (r.cause !== undefined) req.log.error({ err: r.cause }, 'request failed');
    if (r.algorithm) (req as Tagged)[ALGORITHM] = r.algorithm;
    return reply.code(r.status).send(r.body);
  };

  app.get('/health', async () => {
    const up = redis === undefined || (storeUp && redis.status === 'ready');
    return {
      status: up ? 'ok' : 'degraded',
      store: { type: redis ? 'redis' : 'memory', state: up ? 'up' : 'down' },
      rate_limit: limiter.mode,
    };
  });
  app.get('/metrics', async (_req, reply) => {
    const lines = [
      '# TYPE m2m_requests_total counter',
      ...[...counts.requests].map(([status, n]) => `m2m_requests_total{status="${status}"} ${n}`),
      '# TYPE m2m_rate_limited_total counter',
      `m2m_rate_limited_total ${counts.rateLimited}`,
      '# TYPE m2m_store_up gauge',
      `m2m_store_up ${redis === undefined || redis.status === 'ready' ? 1 : 0}`,
      '# TYPE m2m_websocket_connections gauge',
      `m2m_websocket_connections ${manager.connectionCount}`,
      '# TYPE m2m_event_loop_delay_ms gauge',
      `m2m_event_loop_delay_ms{quantile="0.99"} ${(loopDelay.percentile(99) / 1e6).toFixed(1)}`,
      `m2m_event_loop_delay_ms{quantile="1"} ${(loopDelay.max / 1e6).toFixed(1)}`,
      '# TYPE m2m_work_pool_jobs gauge',
      `m2m_work_pool_jobs{state="running"} ${pool.load.running}`,
      `m2m_work_pool_jobs{state="queued"} ${pool.load.queued}`,
    ];
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
  app.get('/status', async () => ({
    name: 'm2m',
    version: VERSION,
    backend: backendKind(),
    uptime_s: Math.round(process.uptime()),
    pid: process.pid,
    sessions: manager.connectionCount,
    security: { mode: securityMode, threshold },
    store: redis ? 'redis' : 'memory',
    memory: { rss: process.memoryUsage().rss, heap_used: process.memoryUsage().heapUsed },
  }));
  app.post('/v1/compress', stateless('compress'));
  app.post('/v1/compress/auto', stateless('compress/auto'));
  app.post('/v1/decompress', stateless('decompress'));
  app.post('/v1/inspect', stateless('inspect'));
  app.post('/v1/scan', stateless('scan'));

  registerSessionRoutes(app, manager);

  const playground = options.playgroundDir ?? fileURLToPath(new URL('../../../build/playground/', import.meta.url));
  if (existsSync(playground)) {
    await app.register(fastifyStatic, { root: playground, prefix: '/', index: 'index.html', wildcard: false });
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send('m2m server. The playground is not built (run the set-up command).\n'),
    );
  }

  await app.ready();
  const ws = attachSessionWebSocket(app.server, manager);
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 3000 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    app,
    manager,
    close: () => {
      closing ??= (async () => {
        await ws.close();
        await app.close();
        limiter.close();
        loopDelay.disable();
        await pool.close();
        if (redis) await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}

/** Closes the server on SIGTERM/SIGINT (graceful: in-flight requests finish). */
export function closeOnSignals(server: RunningServer): void {
  const stop = (signal: string) => {
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
