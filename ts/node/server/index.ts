/**
 * The m2m server: stateless compression endpoints, the session protocol over
 * HTTP and WebSocket, and the playground page, on fastify.
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
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { LIMITS } from '../../core/limits.js';
import { backendKind, compressAsync, decompressDetailedAsync, inspect, M2MError } from '../../index.js';
import { type ScanMode, type ScanResult, scan } from '../../security/index.js';
import {
  attachSessionWebSocket,
  type DataHandler,
  httpStatusFor,
  MemorySessionStore,
  registerSessionRoutes,
  SessionManager,
  type SessionStore,
} from '../session/index.js';
import { RedisSessionStore } from './redis-store.js';
import { WindowCounter } from './window.js';

/** How the server runs. Every field has a default. */
export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Largest request body, bytes (413 above). Default 16 MiB. */
  bodyLimit?: number;
  /** Whole-request deadline against slow clients, ms. Default 30 s. */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this, ms. Default 5 s. */
  keepAliveTimeoutMs?: number;
  security?: { mode?: ScanMode; threshold?: number };
  /**
   * Spec §7.6.2 rate limits: requests per minute per client address, DATA
   * messages per minute per session, new sessions per minute per client
   * address, and DATA payload bytes per second per session (a message that
   * starts within the budget is accepted whole; the next one waits for the
   * next second). Stateless DATA counts against the client address.
   */
  rateLimit?: { perClient?: number; perSession?: number; newSessionsPerClient?: number; bytesPerSecond?: number };
  /** Idle session lifetime, ms. Default 5 minutes (spec §7.6.1). */
  sessionTimeoutMs?: number;
  /** Live sessions one client address may hold; a further HELLO gets REJECT RATE_LIMITED. Default 100 (spec §7.6.1). */
  maxSessionsPerIp?: number;
  /** Defaults for requests that name no algorithm or encoding. */
  compression?: {
    algorithm?: string;
    encoding?: string;
    brotliQuality?: number;
    optimize?: 'bytes' | 'tokens';
    /** `auto` passes smaller content through unchanged. */
    minSize?: number;
    /** `auto` tries Brotli from this size. */
    brotliThreshold?: number;
    /** `reference`: only output the reference implementation decodes. */
    profile?: 'default' | 'reference';
  };
  /** Share sessions and rate-limit counters between processes through Redis. */
  redisUrl?: string;
  /** `false` for no logs; otherwise pino's level. Default 'info'. */
  logLevel?: string | false;
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

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const compressBody = z
  .object({
    content: z.string(),
    // Checked by compress() itself, so an unknown one gets UNSUPPORTED_ALGORITHM / UNKNOWN_TOKENIZER.
    algorithm: z.string().optional(),
    encoding: z.string().optional(),
    optimize: z.enum(['bytes', 'tokens']).optional(),
    brotli_quality: z.number().int().min(0).max(11).optional(),
    count_tokens: z.boolean().optional(),
    profile: z.enum(['default', 'reference']).optional(),
  })
  .strict();
const decompressBody = z.object({ wire: z.string() }).strict();
const inspectBody = decompressBody;
const scanBody = z
  .object({
    content: z.string(),
    mode: z.enum(['disabled', 'monitor', 'blocking']).optional(),
    threshold: z.number().min(0).max(1).optional(),
  })
  .strict();

/** The spec's error body, with the status its code maps to. */
function sendError(reply: FastifyReply, err: M2MError, details?: Record<string, unknown>) {
  const body = { error: { code: err.code, message: err.message, ...(details ? { details } : {}) } };
  return reply.code(httpStatusFor(err.code)).send(body);
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new M2MError('INVALID_REQUEST', `invalid request body: ${where}${issue?.message ?? 'malformed'}`);
  }
  return result.data;
}

/** Maps fastify's own errors (body too large, bad JSON, timeouts) to the spec's codes. */
function toM2MError(err: FastifyError | M2MError | Error): M2MError {
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

/** Starts the server and resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const bodyLimit = options.bodyLimit ?? LIMITS.maxMessageBytes;
  const securityMode: ScanMode = options.security?.mode ?? 'monitor';
  const threshold = options.security?.threshold ?? 0.8;
  const limits = {
    perClient: 6000,
    perSession: 1000,
    newSessionsPerClient: 100,
    bytesPerSecond: 10_000_000,
    ...options.rateLimit,
  };
  const redis = options.redisUrl ? new Redis(options.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  const store: SessionStore = redis ? new RedisSessionStore(redis) : new MemorySessionStore();

  const app = Fastify({
    bodyLimit,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    connectionTimeout: options.requestTimeoutMs ?? 30_000,
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
    onError: (error, info) =>
      app.log.warn({ code: error.code, transport: info.transport, session: info.sessionId }, error.message),
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const error = toM2MError(err);
    if (error.code === 'INTERNAL_ERROR') req.log.error({ err }, 'request failed');
    return sendError(reply, error);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new M2MError('NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`)),
  );

  await app.register(rateLimit, {
    global: true,
    max: limits.perClient,
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

  /** Scans per the server's policy; throws SECURITY_VIOLATION (422) when blocking. */
  const guard = (content: string): ScanResult | undefined => {
    if (securityMode === 'disabled') return undefined;
    const result = scan(content, { mode: securityMode, threshold });
    if (result.blocked) {
      const top = result.threats[0];
      throw Object.assign(new M2MError('SECURITY_VIOLATION', 'content blocked by the security scanner'), {
        details: top ? { threat_type: top.type, confidence: top.confidence, rule: top.rule } : {},
      });
    }
    return result;
  };

  const compressRoute = (auto: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const body = parseBody(compressBody, req.body);
    let security: ScanResult | undefined;
    try {
      security = guard(body.content);
    } catch (err) {
      if (err instanceof M2MError)
        return sendError(reply, err, (err as M2MError & { details?: Record<string, unknown> }).details);
      throw err;
    }
    const defaults = options.compression ?? {};
    const r = await compressAsync(body.content, {
      algorithm: auto ? 'auto' : ((body.algorithm ?? defaults.algorithm) as never),
      encoding: (body.encoding ?? defaults.encoding) as never,
      optimize: body.optimize ?? defaults.optimize,
      brotliQuality: body.brotli_quality ?? defaults.brotliQuality,
      minSize: defaults.minSize,
      brotliThreshold: defaults.brotliThreshold,
      countTokens: body.count_tokens,
      profile: body.profile ?? defaults.profile,
    });
    return {
      wire: r.wire,
      algorithm: r.algorithm,
      original_bytes: r.originalBytes,
      wire_bytes: r.wireBytes,
      ...(r.originalTokens !== undefined ? { original_tokens: r.originalTokens, wire_tokens: r.wireTokens } : {}),
      ...(security ? { security: { safe: security.safe, threats: security.threats.length } } : {}),
    };
  };

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/status', async () => ({
    name: 'm2m',
    version: VERSION,
    backend: backendKind(),
    uptime_s: Math.round(process.uptime()),
    sessions: manager.connectionCount,
    security: { mode: securityMode, threshold },
    store: redis ? 'redis' : 'memory',
    memory: { rss: process.memoryUsage().rss, heap_used: process.memoryUsage().heapUsed },
  }));
  app.post('/v1/compress', compressRoute(false));
  app.post('/v1/compress/auto', compressRoute(true));
  app.post('/v1/decompress', async (req) => {
    const { wire } = parseBody(decompressBody, req.body);
    const r = await decompressDetailedAsync(wire, { onWarning: (w) => req.log.warn(w) });
    return { content: r.text, algorithm: r.algorithm, ...(r.deprecated ? { deprecated: r.deprecated } : {}) };
  });
  app.post('/v1/inspect', async (req) => inspect(parseBody(inspectBody, req.body).wire));
  app.post('/v1/scan', async (req, reply) => {
    const body = parseBody(scanBody, req.body);
    const result = scan(body.content, { mode: body.mode ?? securityMode, threshold: body.threshold ?? threshold });
    if (result.blocked) {
      const top = result.threats[0];
      return sendError(reply, new M2MError('SECURITY_VIOLATION', 'content blocked by the security scanner'), {
        threat_type: top?.type,
        confidence: top?.confidence,
        threats: result.threats,
      });
    }
    return result;
  });

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
        if (redis) await redis.quit();
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
