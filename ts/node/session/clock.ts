/**
 * Time and timers behind one small interface, so sessions can run on a fake
 * clock in tests (the default reads the globals at call time, which is what
 * vitest's fake timers replace).
 */

/** An opaque timer handle, as returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** Wall-clock time in milliseconds and one-shot timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock: `Date.now()` and the global `setTimeout`. Node timers are
 * unref'd so a session alone never keeps a process alive.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = globalThis.setTimeout(fn, ms) as unknown as { unref?: () => void };
    if (typeof handle === 'object' && handle !== null && typeof handle.unref === 'function') handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]);
  },
};

/** A restartable one-shot timer on a {@link Clock}. */
export class Timer {
  #handle: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly fn: () => void,
  ) {}

  /** (Re)starts the timer: `fn` runs after `ms` unless restarted or stopped first. */
  start(ms: number): void {
    this.stop();
    this.#handle = this.clock.setTimeout(() => {
      this.#handle = undefined;
      this.fn();
    }, ms);
  }

  stop(): void {
    if (this.#handle !== undefined) {
      this.clock.clearTimeout(this.#handle);
      this.#handle = undefined;
    }
  }

  get running(): boolean {
    return this.#handle !== undefined;
  }
}
