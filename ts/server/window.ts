/**
 * Fixed-window counters for the session rate limits of spec §7.6.2 (new
 * sessions per client address, messages per session), per process. Memory is
 * bounded: windows that ended are dropped as new ones start.
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

  /** Counts one event for `key` and returns how many it had in the current window. */
  hit(key: string): number {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#counts = new Map();
      this.#windowStart = now;
    }
    const n = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, n);
    return n;
  }
}
