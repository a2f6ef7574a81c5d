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
 * error handler, rate limits and other routes alone. `app.m2m.manager` is the
 * `SessionManager`. Needs the `fastify` and `fastify-plugin` peer
 * dependencies.
 */
import { readFileSync } from 'node:fs';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type fastifyPlugin from 'fastify-plugin';
import { z } from 'zod';
import { backendKind, compressAsync, decompressDetailedAsync, inspect, M2MError } from '../../index.js';
import { type ScanMode, type ScanResult, scan, scanMessages } from '../../security/index.js';
import { requirePeer } from '../peers.js';
import {
  attachSessionWebSocket,
  type DataHandler,
  httpStatusFor,
  MemorySessionStore,
  registerSessionRoutes,
  SessionManager,
  type SessionStore,
} from '../session/index.js';
import { WindowCounter } from './window.js';

const fp = requirePeer<typeof fastifyPlugin>('fastify-plugin', 'the m2m fastify plugin');

/** Options of {@link m2mPlugin}. Every field has a default. */
export interface M2MPluginOptions {
  /** Path prefix of every route (the WebSocket's too). Default: none. */
  prefix?: string;
  security?: { mode?: ScanMode; threshold?: number };
  /**
   * Spec §7.6.2 per-session limits: DATA messages per minute per session, new
   * sessions per minute per client address, DATA payload bytes per second per
   * session. (Requests per client address are the app's to limit, e.g. with
   * `@fastify/rate-limit`, as `startServer` does.)
   */
  rateLimit?: { perSession?: number; newSessionsPerClient?: number; bytesPerSecond?: number };
  /** Idle session lifetime, ms. Default 5 minutes (spec §7.6.1). */
  sessionTimeoutMs?: number;
  /** Live sessions one client address may hold. Default 100 (spec §7.6.1). */
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
  /** Where sessions live. Default: in this process's memory. */
  store?: SessionStore;
  /** What `/status` reports as the store. Default `'memory'` (or `'custom'` with a `store`). */
  storeName?: string;
  /** Serve the session protocol over WebSocket at `<prefix>/v1/ws`. Default true. */
  webSocket?: boolean;
  /** What to do with content received in sessions; a returned string is sent back as DATA. Default: nothing. */
  onData?: DataHandler;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by m2m's fastify plugin. */
    m2m: { manager: SessionManager };
  }
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
/** `/v1/scan`: one of `content` (text or a JSON payload), `messages` (a chat's messages) or `request` (a whole chat request). */
const scanBody = z
  .object({
    content: z.string().optional(),
    messages: z
      .array(z.union([z.string(), z.object({ role: z.string().optional(), content: z.unknown() })]))
      .optional(),
    request: z.record(z.string(), z.unknown()).optional(),
    mode: z.enum(['disabled', 'monitor', 'blocking']).optional(),
    threshold: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((b) => [b.content, b.messages, b.request].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of content, messages and request',
  });

/** The spec's error body, with the status its code maps to. */
export function sendError(reply: FastifyReply, err: M2MError, details?: Record<string, unknown>) {
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
  const securityMode: ScanMode = options.security?.mode ?? 'monitor';
  const threshold = options.security?.threshold ?? 0.8;
  const limits = { perSession: 1000, newSessionsPerClient: 100, bytesPerSecond: 10_000_000, ...options.rateLimit };
  const store = options.store ?? new MemorySessionStore();
  const storeName = options.storeName ?? (options.store ? 'custom' : 'memory');

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
  app.decorate('m2m', { manager });

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

  // The routes in their own context: the error handler applies to them only.
  await app.register(
    async (scope) => {
      scope.setErrorHandler(m2mErrorHandler);
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

      scope.get('/health', async () => ({ status: 'ok' }));
      scope.get('/status', async () => ({
        name: 'm2m',
        version: VERSION,
        backend: backendKind(),
        uptime_s: Math.round(process.uptime()),
        sessions: manager.connectionCount,
        security: { mode: securityMode, threshold },
        store: storeName,
        memory: { rss: process.memoryUsage().rss, heap_used: process.memoryUsage().heapUsed },
      }));
      scope.post('/v1/compress', compressRoute(false));
      scope.post('/v1/compress/auto', compressRoute(true));
      scope.post('/v1/decompress', async (req) => {
        const { wire } = parseBody(decompressBody, req.body);
        const r = await decompressDetailedAsync(wire, { onWarning: (w) => req.log.warn(w) });
        guard(r.text);
        return { content: r.text, algorithm: r.algorithm, ...(r.deprecated ? { deprecated: r.deprecated } : {}) };
      });
      scope.post('/v1/inspect', async (req) => inspect(parseBody(inspectBody, req.body).wire));
      scope.post('/v1/scan', async (req, reply) => {
        const body = parseBody(scanBody, req.body);
        const how = { mode: body.mode ?? securityMode, threshold: body.threshold ?? threshold };
        const result =
          body.messages !== undefined
            ? scanMessages(body.messages, how)
            : scan(body.content ?? JSON.stringify(body.request), {
                ...how,
                json: body.request !== undefined ? true : 'auto',
              });
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
