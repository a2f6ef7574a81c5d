/**
 * Keep-alive (spec §4.5, §6.4.3) and session inactivity, for one live
 * connection: after `pingIntervalMs` without receiving anything, send PING
 * and wait `pingTimeoutMs`; an unanswered PING is sent again right away (the
 * link is still idle) until `maxMissedPongs` consecutive ones went
 * unanswered, which ends the session. Independently, nothing received for
 * `sessionTimeoutMs` expires the session. Any message received proves the
 * peer alive: it resets both and the count of missed PONGs.
 */
import { type Clock, Timer } from './clock.js';

export interface KeepAliveOptions {
  pingIntervalMs: number;
  pingTimeoutMs: number;
  maxMissedPongs: number;
  sessionTimeoutMs: number;
  /** Send PINGs (false: only the inactivity timeout runs). */
  ping: boolean;
}

export interface KeepAliveHooks {
  sendPing(): void;
  /** `maxMissedPongs` PINGs in a row went unanswered. */
  onDead(): void;
  /** Nothing was received for `sessionTimeoutMs`. */
  onExpired(): void;
}

export class KeepAlive {
  readonly #idle: Timer;
  readonly #pong: Timer;
  readonly #session: Timer;
  #missed = 0;
  #running = false;

  constructor(
    clock: Clock,
    private readonly options: KeepAliveOptions,
    private readonly hooks: KeepAliveHooks,
  ) {
    this.#idle = new Timer(clock, () => this.#sendPing());
    this.#pong = new Timer(clock, () => this.#pongMissed());
    this.#session = new Timer(clock, () => {
      this.stop();
      this.hooks.onExpired();
    });
  }

  /** Consecutive PINGs that went unanswered so far. */
  get missedPongs(): number {
    return this.#missed;
  }

  start(): void {
    this.#running = true;
    this.received();
  }

  /** Call for every message received from the peer. */
  received(): void {
    if (!this.#running) return;
    this.#missed = 0;
    this.#pong.stop();
    if (this.options.ping) this.#idle.start(this.options.pingIntervalMs);
    this.#session.start(this.options.sessionTimeoutMs);
  }

  stop(): void {
    this.#running = false;
    this.#idle.stop();
    this.#pong.stop();
    this.#session.stop();
  }

  #sendPing(): void {
    if (!this.#running) return;
    this.#pong.start(this.options.pingTimeoutMs);
    this.hooks.sendPing();
  }

  #pongMissed(): void {
    if (!this.#running) return;
    this.#missed++;
    if (this.#missed >= this.options.maxMissedPongs) {
      this.stop();
      this.hooks.onDead();
    } else {
      this.#sendPing();
    }
  }
}
