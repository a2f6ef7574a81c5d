import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { M2MError } from '../../core/errors.js';
import type { SessionRecord, SessionStore } from '../session/index.js';

/** Deletes the lock only if it still holds this holder's token. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** How long a client address's set of session ids outlives its newest session's HELLO. */
const PEER_INDEX_TTL_MS = 24 * 60 * 60 * 1000;

/** What a store command that fails (Redis down, unreachable or too slow) throws. */
function unavailable(err: unknown): M2MError {
  if (err instanceof M2MError) return err;
  return new M2MError('STORE_UNAVAILABLE', 'the session store (Redis) is unreachable; retry later', { cause: err });
}

/** Runs a store command; any failure of Redis becomes `STORE_UNAVAILABLE`. */
async function run<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (err) {
    throw unavailable(err);
  }
}

/**
 * Sessions in Redis, so several server processes (or hosts) serve the same
 * sessions: any of them can answer a session's next HTTP request. Each record
 * is one JSON string under `<prefix><id>` with Redis's own expiry as the TTL.
 * The ids of each client address's sessions are a set under
 * `<peerPrefix><address>`, so the per-address limit counts every process.
 * Every id is also in a sorted set under `expiryKey`, scored by when it
 * expires (this process's clock), so the live sessions are counted without
 * listing them.
 *
 * Every command that fails because Redis is down throws `STORE_UNAVAILABLE`
 * (the server answers 503). A marker key `<prefix>epoch` without expiry tells
 * a restart that lost the data (no persistence) from a reconnect: when it has
 * gone, {@link RedisSessionStore.lostAt} says when, so a session that vanished
 * with it is reported as `SESSION_LOST` rather than unknown.
 */
export class RedisSessionStore<T = SessionRecord> implements SessionStore<T> {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #lockPrefix: string;
  readonly #peerPrefix: string;
  readonly #lockTtlMs: number;
  readonly #lockWaitMs: number;
  readonly #epochKey: string;
  readonly #expiryKey: string;
  #epoch: string | undefined;
  #lostAt: number | undefined;

  /**
   * `lockTtlMs`: a held lock expires after this (a crashed holder cannot
   * block a session for longer); `lockWaitMs`: how long to wait for one
   * before failing with `SERVER_BUSY`.
   */
  constructor(
    redis: Redis | string,
    options: {
      prefix?: string;
      lockPrefix?: string;
      peerPrefix?: string;
      expiryKey?: string;
      lockTtlMs?: number;
      lockWaitMs?: number;
    } = {},
  ) {
    this.#redis = typeof redis === 'string' ? new Redis(redis, { lazyConnect: false, maxRetriesPerRequest: 2 }) : redis;
    this.#prefix = options.prefix ?? 'm2m:session:';
    this.#lockPrefix = options.lockPrefix ?? 'm2m:session-lock:';
    this.#peerPrefix = options.peerPrefix ?? 'm2m:session-peer:';
    this.#lockTtlMs = options.lockTtlMs ?? 10_000;
    this.#lockWaitMs = options.lockWaitMs ?? 5_000;
    this.#epochKey = `${this.#prefix}epoch`;
    this.#expiryKey = options.expiryKey ?? 'm2m:session-expiry';
    this.#redis.on('ready', () => void this.#checkEpoch());
    if (this.#redis.status === 'ready') void this.#checkEpoch();
  }

  /** Whether Redis answers commands right now. */
  get available(): boolean {
    return this.#redis.status === 'ready';
  }

  /** When this store last found Redis emptied by a restart (sessions lost), if it has; checks again first. */
  async lostAt(): Promise<number | undefined> {
    await this.#checkEpoch();
    return this.#lostAt;
  }

  async #checkEpoch(): Promise<void> {
    try {
      await this.#redis.set(this.#epochKey, randomBytes(12).toString('base64'), 'NX');
      const epoch = (await this.#redis.get(this.#epochKey)) ?? undefined;
      if (this.#epoch !== undefined && epoch !== this.#epoch) this.#lostAt = Date.now();
      this.#epoch = epoch;
    } catch {
      // Checked again on the next reconnect.
    }
  }

  /**
   * A lock per session id shared by every process on this Redis (`SET NX PX`
   * with a random token, released only by its holder), so each session's
   * messages are processed one at a time whichever process receives them.
   */
  async lock(id: string): Promise<() => Promise<void>> {
    const key = this.#lockPrefix + id;
    const token = randomBytes(12).toString('base64');
    const deadline = Date.now() + this.#lockWaitMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 25)) {
      if ((await run(() => this.#redis.set(key, token, 'PX', this.#lockTtlMs, 'NX'))) === 'OK') break;
      if (Date.now() >= deadline) {
        throw new M2MError('SERVER_BUSY', 'the session is busy in another server process; retry later');
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    return async () => {
      // A release that fails leaves the lock to expire after lockTtlMs.
      await this.#redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    };
  }

  async get(id: string): Promise<T | undefined> {
    const json = await run(() => this.#redis.get(this.#prefix + id));
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  async set(id: string, value: T, ttlMs: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const now = Date.now();
    await run(() =>
      this.#redis
        .multi()
        .set(this.#prefix + id, JSON.stringify(value), 'PX', ttl)
        .zadd(this.#expiryKey, now + ttl, id)
        .zremrangebyscore(this.#expiryKey, '-inf', now)
        .exec(),
    );
  }

  async delete(id: string): Promise<boolean> {
    const replies = await run(() =>
      this.#redis
        .multi()
        .del(this.#prefix + id)
        .zrem(this.#expiryKey, id)
        .exec(),
    );
    return Number(replies?.[0]?.[1] ?? 0) > 0;
  }

  /** Live sessions, from the expiry index (one round trip, whatever their number). */
  async count(): Promise<number> {
    const replies = await run(() =>
      this.#redis.multi().zremrangebyscore(this.#expiryKey, '-inf', Date.now()).zcard(this.#expiryKey).exec(),
    );
    return Number(replies?.[1]?.[1] ?? 0);
  }

  async list(): Promise<string[]> {
    return run(() => this.#list());
  }

  async #list(): Promise<string[]> {
    const ids: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) if (key !== this.#epochKey) ids.push(key.slice(this.#prefix.length));
    } while (cursor !== '0');
    return ids;
  }

  async addPeerSession(peer: string, id: string): Promise<void> {
    const key = this.#peerPrefix + peer;
    await run(() => this.#redis.multi().sadd(key, id).pexpire(key, PEER_INDEX_TTL_MS).exec());
  }

  async countPeerSessions(peer: string, limit: number): Promise<number> {
    return run(() => this.#countPeerSessions(peer, limit));
  }

  async #countPeerSessions(peer: string, limit: number): Promise<number> {
    const key = this.#peerPrefix + peer;
    const remembered = await this.#redis.scard(key);
    if (remembered < limit) return remembered;
    const ids = await this.#redis.smembers(key);
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.exists(this.#prefix + id);
    const exists = (await pipeline.exec()) ?? [];
    const ended = ids.filter((_, i) => exists[i]?.[1] !== 1);
    if (ended.length > 0) await this.#redis.srem(key, ...ended);
    return ids.length - ended.length;
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.#redis.quit();
  }
}
