/**
 * Fixed-window counters for the session rate limits of spec §7.6.2 (new
 * sessions per client address, messages and payload bytes per session), per
 * process. Memory is bounded: windows that ended are dropped as new ones start.
 */
export class WindowCounter {
  readonly #windowMs: number;
  readonly #now: () => number;
  #counts = new Map<string, number>();
  #windowStart: number;

  constructor(windowMs: number, now: () => number = Date.now) {
    this.#windowMs = windowMs;
    this.#now = now;
    this.#windowStart = now();
  }

  /** Adds `amount` (default one event) to `key` and returns its total in the current window. */
  hit(key: string, amount = 1): number {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#counts = new Map();
      this.#windowStart = now;
    }
    const n = (this.#counts.get(key) ?? 0) + amount;
    this.#counts.set(key, n);
    return n;
  }
}
