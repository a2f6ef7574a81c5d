import { Redis } from 'ioredis';
import type { SessionRecord, SessionStore } from '../session/index.js';

/**
 * Sessions in Redis, so several server processes (or hosts) serve the same
 * sessions: any of them can answer a session's next HTTP request. Each record
 * is one JSON string under `<prefix><id>` with Redis's own expiry as the TTL.
 */
export class RedisSessionStore<T = SessionRecord> implements SessionStore<T> {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis | string, options: { prefix?: string } = {}) {
    this.#redis = typeof redis === 'string' ? new Redis(redis, { lazyConnect: false, maxRetriesPerRequest: 2 }) : redis;
    this.#prefix = options.prefix ?? 'm2m:session:';
  }

  async get(id: string): Promise<T | undefined> {
    const json = await this.#redis.get(this.#prefix + id);
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  async set(id: string, value: T, ttlMs: number): Promise<void> {
    await this.#redis.set(this.#prefix + id, JSON.stringify(value), 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#redis.del(this.#prefix + id)) > 0;
  }

  async list(): Promise<string[]> {
    const ids: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) ids.push(key.slice(this.#prefix.length));
    } while (cursor !== '0');
    return ids;
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.#redis.quit();
  }
}
