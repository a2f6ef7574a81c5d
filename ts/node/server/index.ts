/**
 * The m2m server (`m2m server`, or `startServer()` here): HTTP and WebSocket
 * on fastify, see app.ts for the routes. Needs the optional peer
 * dependencies fastify, fastify-plugin, @fastify/static, ws (and ioredis with
 * `redisUrl`); `startServer` says which are missing.
 * To mount m2m's routes in your own fastify app, use `m2m-protocol/fastify`.
 */
import type { FastifyInstance } from 'fastify';
import type { SecurityConfig } from '../../security/index.js';
import type { GatewayOptions } from '../gateway/plugin.js';
import { assertPeers, type OptionalPeer } from '../peers.js';
import type { DataHandler, SessionManager } from '../session/index.js';
import type { M2MPluginOptions } from './plugin.js';

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
  /** The scanner's settings (any `[security]` fields; the rest take their defaults). */
  security?: Partial<SecurityConfig>;
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
  /** History kept per direction for sessions with the history extension, bytes; 0 turns it off. Default 24 KiB. */
  sessionHistoryBytes?: number;
  /** Defaults for requests that name no algorithm or encoding. */
  compression?: M2MPluginOptions['compression'];
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
  /** Request bodies from this size (bytes) are parsed and handled on a worker thread; `false`: never. Default 16 KiB. */
  offloadBytes?: number | false;
  /** Wall-clock budget of one request on a worker thread, ms (503 `BUDGET_EXCEEDED` after it). Default: `requestTimeoutMs`. */
  workBudgetMs?: number;
  /** Directory of the built playground, served at `/`. Default build/playground when present. */
  playgroundDir?: string;
  /**
   * What to do with content received in sessions; a returned string is sent back as DATA. Default:
   * nothing (the content is decoded, checked and dropped), or with `gateway` the upstream's answer.
   */
  onData?: DataHandler;
  /**
   * The key the stateless routes protect (`/v1/compress` with `protect: "hmac"|"aead"`) and open
   * (`/v1/decompress`) M2M frames with: 16 bytes or more for HMAC, 32 for AEAD. Read it with
   * `readKeyMaterial` (a file or an environment variable), never from a flag. Without it, protected
   * frames are refused with `FRAME_KEY_UNAVAILABLE`.
   */
  frameKey?: Uint8Array;
  /** Session security (keys in HELLO/ACCEPT, sealed DATA, pre-shared org keys); see `SessionManagerOptions.sessionSecurity`. */
  sessionSecurity?: M2MPluginOptions['sessionSecurity'];
  /** Also serve the OpenAI-compatible gateway (`/v1/*` forwarded to `gateway.upstream`); see m2m-protocol/gateway. */
  gateway?: GatewayOptions;
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

/** The peers `startServer(options)` loads. */
export function serverPeers(options: ServerOptions = {}): OptionalPeer[] {
  const peers: OptionalPeer[] = ['fastify', 'fastify-plugin', '@fastify/static', 'ws'];
  if (options.redisUrl) peers.push('ioredis');
  return peers;
}

/**
 * Starts the server and resolves once it listens.
 *
 * @throws M2MError `MISSING_DEPENDENCY` when a peer dependency it needs is not installed.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  assertPeers(serverPeers(options), 'the m2m server');
  const { startServerApp } = await import('./app.js');
  return startServerApp(options);
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
