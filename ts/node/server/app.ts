/**
 * The m2m server: m2m's fastify plugin (plugin.ts) on its own fastify app, with
 * a per-client rate limit shared across workers (limits.ts), optional Redis
 * sessions that degrade instead of failing, one log line per request
 * (log.ts), `/metrics`, deadlines that hold, and the playground page.
 *
 *   GET  /health                 liveness, and the session store's state (never rate limited)
 *   GET  /metrics                Prometheus metrics via prom-client (never rate limited; see metrics.ts)
 *   GET  /status                 version, backend, sessions, memory
 *   POST /v1/compress            { content, algorithm?, encoding?, ... } → wire
 *   POST /v1/compress/auto       { content, optimize?, encoding? } → wire
 *   POST /v1/decompress          { wire } → content
 *   POST /v1/inspect             { wire } → an #M2M|1| frame's header (no key, no decompression)
 *   POST /v1/scan                { content | messages | request, mode?, threshold? } → findings
 *   POST /v1/session, GET|DELETE /v1/session/:id, POST /v1/session/:id/message
 *   GET  /v1/ws                  WebSocket upgrade (session protocol)
 *   GET  /                       playground (when built)
 *
 * Errors have the spec's shape `{ "error": { "code", "message", "details"? } }`.
 */
import { existsSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { Redis, type RedisOptions } from 'ioredis';
import { LIMITS } from '../../core/limits.js';
import { packagePath } from '../../core/package-files.js';
import { ENCODINGS, M2MError } from '../../index.js';
import { gatewayDataHandler, m2mGatewayPlugin, upstreamHealth } from '../gateway/plugin.js';
import type { SessionStore } from '../session/index.js';
import { DEADLINE_CHECK_MS, type RunningServer, type ServerOptions } from './index.js';
import { ClientLimiter } from './limits.js';
import { loggerOptions } from './log.js';
import { ServerMetrics } from './metrics.js';
import { m2mErrorHandler, m2mPlugin, requestStats, sendError } from './plugin.js';
import { RedisSessionStore } from './redis-store.js';
import { errorBody } from './work.js';

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

/** Starts the server and resolves once it listens. */
export async function startServerApp(options: ServerOptions = {}): Promise<RunningServer> {
  const bodyLimit = options.bodyLimit ?? LIMITS.maxMessageBytes;
  const perClient = options.rateLimit?.perClient ?? 6000;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const redis = options.redisUrl ? new Redis(options.redisUrl, REDIS_OPTIONS) : undefined;
  const store: SessionStore | undefined = redis ? new RedisSessionStore(redis) : undefined;

  const clientError = function (this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket) {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, error] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, new M2MError('REQUEST_TIMEOUT', `the request was not received within ${timeoutMs} ms`)]
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [
              431,
              new M2MError(
                'HEADERS_TOO_LARGE',
                `the request headers exceed the size limit (${LIMITS.maxHeaderBytes / 1024} KiB)`,
              ),
            ]
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
    // A gateway waits on its upstream (an LLM may think for minutes): no socket inactivity limit there.
    connectionTimeout: options.gateway ? 0 : timeoutMs,
    http: {
      headersTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      connectionsCheckingInterval: DEADLINE_CHECK_MS,
      maxHeaderSize: LIMITS.maxHeaderBytes,
    },
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

  const limiter = new ClientLimiter({
    max: perClient,
    windowMs: 60_000,
    redis,
    onModeChange: (mode) => app.log.warn({ rate_limit: mode }, 'rate limit counts moved'),
  });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  // Without prom-client (an optional peer) the server still runs; /metrics answers MISSING_DEPENDENCY.
  let metrics: ServerMetrics | undefined;
  let metricsError: M2MError | undefined;
  try {
    metrics = new ServerMetrics({
      storeUp: () => redis === undefined || (storeUp && redis.status === 'ready'),
      connections: () => app.m2m.manager.connectionCount,
      loopDelay,
      poolLoad: () => app.m2m.pool?.load ?? { running: 0, queued: 0 },
      sessions: () => app.m2m.manager.countSessions(),
    });
  } catch (err) {
    if (!(err instanceof M2MError)) throw err;
    metricsError = err;
  }

  app.setErrorHandler(m2mErrorHandler);
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new M2MError('NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`)),
  );

  const tooMany = (reply: FastifyReply) => {
    metrics?.rateLimited();
    const retry = limiter.retryAfterSeconds();
    reply
      .code(429)
      .header('retry-after', String(retry))
      .send(
        errorBody(
          new M2MError(
            'RATE_LIMITED',
            `rate limit exceeded: ${perClient} requests per minute per client address; retry after ${retry} s`,
          ),
        ),
      );
  };
  app.addHook('onRequest', (req, reply, done) => {
    const q = req.url.indexOf('?');
    if (UNLIMITED.has(q < 0 ? req.url : req.url.slice(0, q))) return done();
    const n = limiter.hit(req.ip);
    if (typeof n === 'number') {
      if (n > perClient) return tooMany(reply);
      return done();
    }
    n.then(
      (count) => (count > perClient ? tooMany(reply) : done()),
      () => done(),
    );
  });

  app.addHook('onResponse', (req, reply, done) => {
    const status = reply.statusCode;
    const stats = requestStats(req);
    const algorithm = stats.algorithm;
    // One line per request; never bodies, keys or session ids (the route pattern, not the URL;
    // the path too where the route is a wildcard, such as the gateway's pass-through, which no
    // session route is).
    const route = req.routeOptions.url ?? 'unmatched';
    const bytesIn = Number(req.headers['content-length'] ?? 0);
    const bytesOut = Number(reply.getHeader('content-length') ?? 0);
    metrics?.request({
      method: req.method,
      route,
      status,
      seconds: reply.elapsedTime / 1000,
      bytesIn: Number.isFinite(bytesIn) ? bytesIn : 0,
      bytesOut: Number.isFinite(bytesOut) ? bytesOut : 0,
      stats,
    });
    req.log.info(
      {
        method: req.method,
        route,
        ...(route.endsWith('*') ? { path: req.url.split('?')[0] } : {}),
        status,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        bytes_in: bytesIn,
        bytes_out: bytesOut,
        ...(algorithm ? { algorithm } : {}),
      },
      'request',
    );
    done();
  });

  const upstream = options.gateway ? upstreamHealth(options.gateway) : undefined;
  await app.register(m2mPlugin, {
    security: options.security,
    rateLimit: options.rateLimit,
    sessionTimeoutMs: options.sessionTimeoutMs,
    maxSessionsPerIp: options.maxSessionsPerIp,
    ...(options.sessionHistoryBytes === undefined ? {} : { sessionHistoryBytes: options.sessionHistoryBytes }),
    compression: options.compression,
    ...(store ? { store, storeName: 'redis' } : {}),
    ...(options.offloadBytes !== undefined ? { offloadBytes: options.offloadBytes } : {}),
    workBudgetMs: options.workBudgetMs ?? timeoutMs,
    health: () => ({ rate_limit: limiter.mode, ...(upstream ? { upstream: upstream() } : {}) }),
    onData: options.onData ?? (options.gateway ? gatewayDataHandler(options.gateway) : undefined),
    ...(options.sessionSecurity === undefined ? {} : { sessionSecurity: options.sessionSecurity }),
    ...(options.frameKey === undefined ? {} : { frameKey: options.frameKey }),
    onVerdict: (verdict) => metrics?.verdict(verdict, 'session'),
  });
  if (options.gateway) {
    await app.register(m2mGatewayPlugin, { security: options.security, ...options.gateway });
  }

  app.get('/metrics', async (_req, reply) => {
    if (metrics === undefined) return sendError(reply, metricsError as M2MError);
    return reply.type(metrics.contentType).send(await metrics.text());
  });

  const playground = options.playgroundDir ?? packagePath('build/playground/');
  if (existsSync(playground)) {
    await app.register(fastifyStatic, { root: playground, prefix: '/', index: 'index.html', wildcard: false });
    // The package ships the playground without its copies of the wasm module and the rank files: they are
    // served from the package's own build/wasm-web/ and build/ranks/.
    const build = (dir: string) => packagePath(`build/${dir}/`);
    if (!existsSync(join(playground, 'm2m_wasm_bg.wasm'))) {
      app.get('/m2m_wasm_bg.wasm', (_req, reply) => reply.sendFile('m2m_wasm_bg.wasm', build('wasm-web')));
    }
    if (!existsSync(join(playground, 'ranks'))) {
      for (const encoding of ENCODINGS) {
        app.get(`/ranks/${encoding}.bpe`, (_req, reply) => reply.sendFile(`${encoding}.bpe`, build('ranks')));
      }
    }
  } else {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/plain')
        .send('m2m server. The playground is not built (this install has no build/playground/).\n'),
    );
  }

  await app.ready();
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 3000 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    app,
    manager: app.m2m.manager,
    close: () => {
      closing ??= (async () => {
        await app.close();
        limiter.close();
        loopDelay.disable();
        if (redis) await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}
