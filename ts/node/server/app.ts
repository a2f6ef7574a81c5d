/**
 * The m2m server: m2m's fastify plugin (plugin.ts) on its own fastify app, with
 * a per-client rate limit, optional Redis sessions and the playground page.
 *
 *   GET  /health                 liveness
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
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { LIMITS } from '../../core/limits.js';
import { ENCODINGS, M2MError } from '../../index.js';
import { gatewayDataHandler, m2mGatewayPlugin } from '../gateway/plugin.js';
import type { SessionStore } from '../session/index.js';
import type { RunningServer, ServerOptions } from './index.js';
import { m2mErrorHandler, m2mPlugin, sendError } from './plugin.js';
import { RedisSessionStore } from './redis-store.js';

/** Starts the server and resolves once it listens. */
export async function startServerApp(options: ServerOptions = {}): Promise<RunningServer> {
  const bodyLimit = options.bodyLimit ?? LIMITS.maxMessageBytes;
  const perClient = options.rateLimit?.perClient ?? 6000;
  const redis = options.redisUrl ? new Redis(options.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  const store: SessionStore | undefined = redis ? new RedisSessionStore(redis) : undefined;

  const app = Fastify({
    bodyLimit,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    // A gateway waits on its upstream (an LLM may think for minutes): no socket inactivity limit there.
    connectionTimeout: options.gateway ? 0 : (options.requestTimeoutMs ?? 30_000),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    logger:
      options.logLevel === false
        ? false
        : {
            level: options.logLevel ?? 'info',
            // Logs carry method, URL, status and timing only: never bodies, and never credentials.
            redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
          },
  });

  app.setErrorHandler(m2mErrorHandler);
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new M2MError('NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`)),
  );

  await app.register(rateLimit, {
    global: true,
    max: perClient,
    timeWindow: '1 minute',
    ...(redis ? { redis } : {}),
    keyGenerator: (req: FastifyRequest) => req.ip,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      error: {
        code: 'RATE_LIMITED',
        message: `rate limit exceeded: ${ctx.max} requests per ${ctx.after} per client; retry later`,
      },
    }),
  });

  await app.register(m2mPlugin, {
    security: options.security,
    rateLimit: options.rateLimit,
    sessionTimeoutMs: options.sessionTimeoutMs,
    maxSessionsPerIp: options.maxSessionsPerIp,
    compression: options.compression,
    ...(store ? { store, storeName: 'redis' } : {}),
    onData: options.onData ?? (options.gateway ? gatewayDataHandler(options.gateway) : undefined),
  });
  if (options.gateway) {
    await app.register(m2mGatewayPlugin, { security: options.security, ...options.gateway });
  }

  const playground = options.playgroundDir ?? fileURLToPath(new URL('../../../build/playground/', import.meta.url));
  if (existsSync(playground)) {
    await app.register(fastifyStatic, { root: playground, prefix: '/', index: 'index.html', wildcard: false });
    // The package ships the playground without its copies of the wasm module and the rank files: they are
    // served from the package's own build/wasm-web/ and build/ranks/.
    const build = (dir: string) => fileURLToPath(new URL(`../../../build/${dir}/`, import.meta.url));
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
        if (redis) await redis.quit();
      })();
      return closing;
    },
  };
}
