/**
 * The per-client request limit (requests per minute per client address) and
 * where its counts live:
 *
 * - one process: a fixed window in memory;
 * - `--workers N` without Redis: each worker counts locally and reports its
 *   counts to the primary every {@link SYNC_EVERY_MS}; the primary sends each
 *   worker the other workers' totals, so a client's requests count against
 *   one limit whichever worker serves them (a burst can overshoot by what the
 *   other workers served within one sync interval);
 * - with Redis: one counter per client and window in Redis (`INCR`), shared
 *   by every process. While Redis is unreachable (a failed or slow command)
 *   the limiter falls back to the local count for {@link REDIS_RETRY_MS}, then
 *   tries Redis again, so it recovers by itself.
 */
import cluster from 'node:cluster';
import type { Redis } from 'ioredis';

/** How often workers and the primary exchange counts. */
export const SYNC_EVERY_MS = 50;
/** After a Redis failure, how long the limiter counts locally before trying Redis again. */
export const REDIS_RETRY_MS = 1_000;
/** A limiter Redis command slower than this counts as a failure (the request goes on, counted locally). */
export const REDIS_LIMIT_TIMEOUT_MS = 100;

/** Where counts are kept right now. */
export type LimiterMode = 'memory' | 'cluster' | 'redis' | 'memory (Redis unreachable)';

type RateMessage =
  | { m2m: 'rate'; window: number; counts: Record<string, number> }
  | { m2m: 'rate-others'; window: number; counts: Record<string, number> };

/** Requests per window per key, over one of the stores above. */
export class ClientLimiter {
  readonly max: number;
  readonly windowMs: number;
  readonly #redis: Redis | undefined;
  readonly #prefix: string;
  #window = -1;
  #local = new Map<string, number>();
  /** Cluster: counts not yet reported, and the other workers' totals. */
  #unreported = new Map<string, number>();
  #others = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #onMessage: ((msg: unknown) => void) | undefined;
  #redisDownUntil = 0;
  readonly #onModeChange: (mode: LimiterMode) => void;
  #mode: LimiterMode;

  constructor(options: {
    max: number;
    windowMs: number;
    redis?: Redis;
    prefix?: string;
    /** Share counts with the other cluster workers (ignored outside a worker, or with Redis). */
    cluster?: boolean;
    onModeChange?: (mode: LimiterMode) => void;
  }) {
    this.max = options.max;
    this.windowMs = options.windowMs;
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? 'm2m:rate:';
    this.#onModeChange = options.onModeChange ?? (() => {});
    const shareByIpc = !this.#redis && (options.cluster ?? true) && cluster.isWorker && process.send !== undefined;
    this.#mode = this.#redis ? 'redis' : shareByIpc ? 'cluster' : 'memory';
    if (shareByIpc) {
      this.#onMessage = (msg) => this.#receive(msg as RateMessage);
      process.on('message', this.#onMessage);
      this.#timer = setInterval(() => this.#report(), SYNC_EVERY_MS);
      this.#timer.unref();
    }
  }

  get mode(): LimiterMode {
    return this.#mode;
  }

  /** Counts one request of `key`; returns its count in the current window (a promise with Redis). */
  hit(key: string): number | Promise<number> {
    const window = Math.floor(Date.now() / this.windowMs);
    if (window !== this.#window) {
      this.#window = window;
      this.#local = new Map();
      this.#others = new Map();
      this.#unreported = new Map();
    }
    const local = (this.#local.get(key) ?? 0) + 1;
    this.#local.set(key, local);
    if (this.#mode === 'cluster') {
      this.#unreported.set(key, (this.#unreported.get(key) ?? 0) + 1);
      return local + (this.#others.get(key) ?? 0);
    }
    const redis = this.#redis;
    if (redis === undefined) return local;
    if (Date.now() < this.#redisDownUntil || redis.status !== 'ready') {
      this.#redisFailed();
      return local;
    }
    return this.#redisHit(redis, key, window, local);
  }

  /** Seconds until the current window ends (for `Retry-After`). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(((this.#window + 1) * this.windowMs - Date.now()) / 1000));
  }

  async #redisHit(redis: Redis, key: string, window: number, local: number): Promise<number> {
    const redisKey = `${this.#prefix}${window}:${key}`;
    let timer: NodeJS.Timeout | undefined;
    try {
      const counted = redis.multi().incr(redisKey).pexpire(redisKey, this.windowMs).exec();
      const late = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), REDIS_LIMIT_TIMEOUT_MS);
      });
      const result = await Promise.race([counted, late]);
      const n = result?.[0]?.[1];
      if (typeof n !== 'number') throw new Error('no answer from Redis');
      this.#setMode('redis');
      return n;
    } catch {
      this.#redisFailed();
      return local;
    } finally {
      clearTimeout(timer);
    }
  }

  #redisFailed(): void {
    if (Date.now() >= this.#redisDownUntil) this.#redisDownUntil = Date.now() + REDIS_RETRY_MS;
    this.#setMode('memory (Redis unreachable)');
  }

  #setMode(mode: LimiterMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    this.#onModeChange(mode);
  }

  #report(): void {
    if (this.#unreported.size === 0) return;
    const counts = Object.fromEntries(this.#unreported);
    this.#unreported = new Map();
    process.send?.({ m2m: 'rate', window: this.#window, counts } satisfies RateMessage);
  }

  #receive(msg: RateMessage | undefined): void {
    if (msg?.m2m !== 'rate-others' || msg.window !== this.#window) return;
    for (const [key, n] of Object.entries(msg.counts)) this.#others.set(key, n);
  }

  /** Stops the cluster exchange. */
  close(): void {
    clearInterval(this.#timer);
    if (this.#onMessage) process.off('message', this.#onMessage);
  }
}

/**
 * The primary's half of the cluster exchange: sums what each worker reports
 * and sends every worker the others' totals for the keys that changed.
 */
export class RateRelay {
  #window = -1;
  /** key → worker id → count in the window. */
  #counts = new Map<string, Map<number, number>>();

  /** Feeds a worker's message; returns false if it was not a rate report. */
  receive(from: number, msg: unknown, workers: Iterable<{ id: number; send(msg: RateMessage): unknown }>): boolean {
    const report = msg as RateMessage | undefined;
    if (report?.m2m !== 'rate') return false;
    if (report.window > this.#window) {
      this.#window = report.window;
      this.#counts = new Map();
    }
    if (report.window < this.#window) return true;
    for (const [key, n] of Object.entries(report.counts)) {
      const byWorker = this.#counts.get(key) ?? new Map<number, number>();
      byWorker.set(from, (byWorker.get(from) ?? 0) + n);
      this.#counts.set(key, byWorker);
    }
    for (const worker of workers) {
      const counts: Record<string, number> = {};
      for (const key of Object.keys(report.counts)) {
        let others = 0;
        for (const [id, n] of this.#counts.get(key) ?? []) if (id !== worker.id) others += n;
        counts[key] = others;
      }
      try {
        worker.send({ m2m: 'rate-others', window: this.#window, counts });
      } catch {
        // A worker that is exiting misses one update.
      }
    }
    return true;
  }
}
