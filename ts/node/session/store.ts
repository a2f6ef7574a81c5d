/**
 * Where a server keeps its sessions. The interface is async and the values
 * are plain JSON data (no timers, sockets or class instances), so a shared
 * store (e.g. Redis) can let several processes serve one session over HTTP.
 */

import type { SessionHistory } from '../../codec/history.js';
import type { SessionParams } from '../../protocol/negotiate.js';
import type { SealState } from '../../protocol/secure.js';
import type { SessionState } from '../../protocol/state.js';
import { type Clock, systemClock } from './clock.js';

/** A server-side session, as stored. Plain JSON data. */
export interface SessionRecord {
  id: string;
  /** ESTABLISHED or CLOSING; a closed session is deleted. */
  state: SessionState;
  transport: 'websocket' | 'http';
  params: SessionParams;
  /** The manager instance that created it. */
  owner: string;
  createdAt: number;
  lastActivity: number;
  /** When the current TTL ends. */
  expiresAt: number;
  messagesReceived: number;
  messagesSent: number;
  bytesReceived: number;
  bytesSent: number;
  /** Set while CLOSING. */
  closeReason?: string;
  peer?: string;
  /** A keyed session's keys, sequence numbers and replay windows (secret: a shared store must be private). */
  seal?: SealState;
  /** With the history extension: what each direction carried (at most `params.history.bytes` each; as private as the content). */
  history?: SessionHistory;
}

/**
 * An async key-value store with expiry. `set` replaces the value and its TTL;
 * an expired entry behaves as deleted. Implementations must store a copy (a
 * caller mutating the object afterwards must not change the stored value).
 */
export interface SessionStore<T = SessionRecord> {
  get(id: string): Promise<T | undefined>;
  set(id: string, value: T, ttlMs: number): Promise<void>;
  /** True if an entry was removed. */
  delete(id: string): Promise<boolean>;
  /** Ids of the live entries. */
  list(): Promise<string[]>;
  /** How many entries are live, without listing them; a store without it is counted by `list()`. */
  count?(): Promise<number>;
  /**
   * For stores shared by several processes: mutual exclusion on one id
   * across all of them. Resolves, once the lock is held, with the function
   * that releases it. A store used by one process needs none (the manager
   * already serialises each session's messages within a process).
   */
  lock?(id: string): Promise<() => Promise<void>>;
  /** Remembers that live entry `id` belongs to client address `peer` (for `maxSessionsPerPeer`). */
  addPeerSession(peer: string, id: string): Promise<void>;
  /**
   * How many of `peer`'s remembered entries are live, counted exactly
   * (forgetting ended ones) at least once the remembered count reaches
   * `limit`; below it a store may return the remembered count.
   */
  countPeerSessions(peer: string, limit: number): Promise<number>;
  /**
   * For stores that can lose their contents (e.g. Redis restarted without
   * persistence): when that last happened, if it has. Asked when a session
   * is missing, so the client hears `SESSION_LOST` instead of `UNKNOWN_SESSION`.
   */
  lostAt?(): Promise<number | undefined>;
  /** For external stores: whether it answers commands right now (shown by `/health`). */
  readonly available?: boolean;
}

/**
 * The default store: a Map of JSON strings in this process. Values go
 * through `JSON.stringify`/`JSON.parse`, as they would with an external
 * store, so anything that is not plain data fails here first. Expired
 * entries are dropped when touched and by a sweep every `sweepEveryMs`
 * (run from `set`, so the store needs no timer of its own).
 */
export class MemorySessionStore<T = SessionRecord> implements SessionStore<T> {
  readonly #entries = new Map<string, { json: string; expiresAt: number }>();
  /** Ids by client address; ids of ended entries are dropped by the sweep. */
  readonly #byPeer = new Map<string, Set<string>>();
  readonly #clock: Clock;
  readonly #sweepEveryMs: number;
  #lastSweep: number;

  constructor(options: { clock?: Clock; sweepEveryMs?: number } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#sweepEveryMs = options.sweepEveryMs ?? 10_000;
    this.#lastSweep = this.#clock.now();
  }

  async get(id: string): Promise<T | undefined> {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return JSON.parse(entry.json) as T;
  }

  async set(id: string, value: T, ttlMs: number): Promise<void> {
    const now = this.#clock.now();
    if (now - this.#lastSweep >= this.#sweepEveryMs) this.#sweep(now);
    this.#entries.set(id, { json: JSON.stringify(value), expiresAt: now + Math.max(0, ttlMs) });
  }

  async delete(id: string): Promise<boolean> {
    const entry = this.#entries.get(id);
    this.#entries.delete(id);
    return entry !== undefined && entry.expiresAt > this.#clock.now();
  }

  async list(): Promise<string[]> {
    this.#sweep(this.#clock.now());
    return [...this.#entries.keys()];
  }

  async count(): Promise<number> {
    return this.size;
  }

  async addPeerSession(peer: string, id: string): Promise<void> {
    this.#byPeer.set(peer, (this.#byPeer.get(peer) ?? new Set<string>()).add(id));
  }

  async countPeerSessions(peer: string): Promise<number> {
    const ids = this.#byPeer.get(peer);
    if (ids === undefined) return 0;
    this.#forgetEnded(peer, ids, this.#clock.now());
    return ids.size;
  }

  /** Live entries (after dropping expired ones). */
  get size(): number {
    this.#sweep(this.#clock.now());
    return this.#entries.size;
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [id, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(id);
    for (const [peer, ids] of this.#byPeer) this.#forgetEnded(peer, ids, now);
  }

  #forgetEnded(peer: string, ids: Set<string>, now: number): void {
    for (const id of ids) if (!((this.#entries.get(id)?.expiresAt ?? 0) > now)) ids.delete(id);
    if (ids.size === 0) this.#byPeer.delete(peer);
  }
}
