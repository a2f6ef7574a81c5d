/**
 * The HTTP transport of the server, as fastify routes, for clients that
 * cannot hold a socket. Under `prefix` (default `/v1`, the prefix the spec's
 * documents give the server's endpoints):
 *
 * | Route                          | Body      | Reply                                   |
 * |--------------------------------|-----------|-----------------------------------------|
 * | `POST   /session`              | HELLO     | ACCEPT, or REJECT (429 RATE_LIMITED, 503 SERVER_BUSY, else 200) |
 * | `GET    /session/:id`          | —         | the session's parameters and counters   |
 * | `DELETE /session/:id`          | —         | CLOSE acknowledgement (`?reason=` optional) |
 * | `POST   /session/:id/message`  | DATA, PING, CLOSE | DATA (or 204 when the handler sends nothing), PONG, CLOSE |
 *
 * Bodies are read as text (any content type) with the message size limit
 * checked before anything is parsed. Errors are `{ "error": { "code", "message" } }`
 * with 400 (malformed), 404 (no such session), 410 (`SESSION_LOST`: the store
 * lost it in a restart), 409 (wrong state), 413 (too large), 422 (security),
 * 429 (rate limited), 503 (busy, or `STORE_UNAVAILABLE`), 500 (bug).
 *
 * Every request on a session (`GET`, `DELETE`, `POST .../message`) must come
 * from its owner: for a keyed session the `m2m-session-proof` header (an HMAC
 * with the session's proof key over method, path, body and a fresh number;
 * `M2MClient` adds it), for a keyless one the client address that opened it.
 * Otherwise 403 `NOT_SESSION_OWNER`: the session id alone is not a credential.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
// Node-only module: make sure the Node entry (native/wasm backend loader) is installed.
import '../../index.js';
import { httpStatusFor, M2MError } from '../../core/errors.js';
import {
  CLOSE_REASONS,
  type CloseReason,
  createMessage,
  type Message,
  serializeMessage,
} from '../../protocol/messages.js';
import { PROOF_HEADER } from '../../protocol/secure.js';
import type { RequestAuth, SessionManager } from './manager.js';

/** What a request shows of its sender (see `RequestAuth`). */
function authOf(req: FastifyRequest, body = ''): RequestAuth {
  const proof = req.headers[PROOF_HEADER];
  return {
    method: req.method,
    path: req.url.split('?')[0] as string,
    body,
    peer: req.ip,
    ...(typeof proof === 'string' ? { proof } : {}),
  };
}

/** Options of {@link registerSessionRoutes}. */
export interface SessionRoutesOptions {
  /** Path prefix of the routes. Default `/v1`. */
  prefix?: string;
}

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

function errorBody(err: M2MError): ErrorBody {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  const cause = err.cause;
  if (err.code === 'SECURITY_VIOLATION' && typeof cause === 'object' && cause !== null) {
    body.error.details = { ...(cause as Record<string, unknown>) };
  }
  return body;
}

function sendMessage(reply: FastifyReply, message: Message, status = 200) {
  return reply.code(status).type('application/json; charset=utf-8').send(serializeMessage(message));
}

function toM2M(err: unknown): M2MError {
  if (err instanceof M2MError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e?.statusCode === 413) {
    return new M2MError('MESSAGE_TOO_LARGE', 'request body exceeds the message size limit');
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new M2MError('INVALID_MESSAGE', String(e.message ?? 'invalid request'));
  }
  return new M2MError('INTERNAL_ERROR', 'internal error', { cause: err });
}

/** Adds the session routes to `app` (in their own encapsulated scope). */
export function registerSessionRoutes(
  app: FastifyInstance,
  manager: SessionManager,
  options: SessionRoutesOptions = {},
): void {
  const prefix = options.prefix ?? '/v1';
  app.register(
    async (scope) => {
      // Bodies are protocol text: keep them as strings so size is checked before any JSON parsing.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        '*',
        { parseAs: 'buffer', bodyLimit: manager.limits.maxMessageBytes },
        (_req, body: Buffer, done) =>
          // Bytes that are not UTF-8 are refused, never repaired into U+FFFD.
          isUtf8(body)
            ? done(null, body.toString('utf8'))
            : done(new M2MError('INVALID_UTF8', 'request body is not valid UTF-8'), undefined),
      );
      scope.setErrorHandler((err, req, reply) => {
        const error = toM2M(err);
        if (error.code === 'INTERNAL_ERROR') manager._report(err, { transport: 'http', peer: req.ip });
        return reply.code(httpStatusFor(error.code)).send(errorBody(error));
      });

      scope.post('/session', async (req, reply) => {
        const result = await manager.handleHello(req.body ?? '', { transport: 'http', peer: req.ip });
        if (result.type === 'REJECT') {
          const status =
            result.payload.code === 'RATE_LIMITED' ? 429 : result.payload.code === 'SERVER_BUSY' ? 503 : 200;
          return sendMessage(reply, result, status);
        }
        return sendMessage(reply, result);
      });

      scope.get<{ Params: { id: string } }>('/session/:id', async (req, reply) => {
        await manager.authorizeRequest(req.params.id, authOf(req));
        const info = await manager.getSession(req.params.id);
        if (info === undefined) throw await manager.missing(req.params.id);
        return reply.code(200).send(info);
      });

      scope.delete<{ Params: { id: string }; Querystring: { reason?: string } }>('/session/:id', async (req, reply) => {
        const id = req.params.id;
        const asked = req.query?.reason;
        const reason: CloseReason = (CLOSE_REASONS as readonly string[]).includes(asked ?? '')
          ? (asked as CloseReason)
          : 'NORMAL';
        await manager.authorizeRequest(id, authOf(req));
        const info = await manager.getSession(id);
        if (info === undefined) throw await manager.missing(id);
        if (info.transport === 'http') {
          const close = createMessage('CLOSE', id, { reason }, manager.clock.now());
          const replies = await manager.handleMessage(id, close, { transport: 'http', peer: req.ip });
          const ack = replies[0];
          if (ack) return sendMessage(reply, ack);
        } else {
          await manager.closeSession(id, reason);
        }
        return sendMessage(reply, createMessage('CLOSE', id, { reason }, manager.clock.now()));
      });

      scope.post<{ Params: { id: string } }>('/session/:id/message', async (req, reply) => {
        const body = typeof req.body === 'string' ? req.body : '';
        const replies = await manager.handleMessage(
          req.params.id,
          body,
          { transport: 'http', peer: req.ip },
          authOf(req, body),
        );
        const first = replies[0];
        if (first === undefined) return reply.code(204).send();
        return sendMessage(reply, first);
      });
    },
    { prefix },
  );
}
