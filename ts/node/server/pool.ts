/**
 * Worker threads for the requests too large to handle on the event loop
 * (JSON parsing, the scan and compression or decompression of a large body,
 * T1 decoding above all), so one large request cannot stall the small ones.
 * Each thread runs one job at a time; jobs wait in a bounded queue
 * (`SERVER_BUSY` beyond it). A job that runs past its budget has its thread
 * terminated (a fresh one replaces it) and answers `BUDGET_EXCEEDED`.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { M2MError } from '../../core/errors.js';
import { errorResult, type Route, type WorkSettings, type WorkStats } from './work.js';

/** A job: a route and its raw body bytes. */
export interface Job {
  route: Route;
  body: Uint8Array;
}

/** What a pool thread answers: the status, the reply already serialised, and what the log line shows. */
export interface JobResult extends WorkStats {
  status: number;
  json: string;
  algorithm?: string;
  warnings?: string[];
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface Pending {
  job: Job;
  resolve: (result: JobResult) => void;
}

/** Options of {@link WorkPool}. */
export interface WorkPoolOptions {
  settings: WorkSettings;
  /** Threads. Default: the cores but one, at least 1, at most 4. */
  size?: number;
  /** Wall-clock budget of one job, ms. */
  budgetMs: number;
  /** Jobs that may wait for a thread. Default 64. */
  maxQueued?: number;
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './pool-worker.ts' : './pool-worker.js', import.meta.url);
// Run from the TypeScript sources (tests), the thread registers tsx before loading the worker.
const BOOTSTRAP = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;

function failed(err: M2MError): JobResult {
  const r = errorResult(err);
  return { status: r.status, json: JSON.stringify(r.body) };
}

/** A pool of worker threads started on first use. */
export class WorkPool {
  readonly #options: WorkPoolOptions;
  readonly #size: number;
  readonly #maxQueued: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #closed = false;

  constructor(options: WorkPoolOptions) {
    this.#options = options;
    this.#size = options.size ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.#maxQueued = options.maxQueued ?? 64;
  }

  /** Jobs running and waiting. */
  get load(): { running: number; queued: number; threads: number } {
    return {
      running: this.#slots.filter((s) => s.busy).length,
      queued: this.#queue.length,
      threads: this.#slots.length,
    };
  }

  /** Runs a job; never rejects (errors come back as error results). */
  run(job: Job): Promise<JobResult> {
    if (this.#closed) return Promise.resolve(failed(new M2MError('SERVER_BUSY', 'the server is shutting down')));
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.resolve(
        failed(new M2MError('SERVER_BUSY', `${this.#maxQueued} large requests are already waiting; retry later`)),
      );
    }
    return new Promise((resolve) => {
      this.#queue.push({ job, resolve });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => !s.busy);
      if (slot === undefined) {
        if (this.#slots.length >= this.#size) return;
        slot = this.#spawn();
      }
      this.#start(slot, this.#queue.shift() as Pending);
    }
  }

  #spawn(): Slot {
    const workerData = this.#options.settings;
    const worker = FROM_SOURCE
      ? new Worker(BOOTSTRAP, { eval: true, workerData })
      : new Worker(WORKER_URL, { workerData });
    worker.unref();
    const slot: Slot = { worker, busy: false };
    this.#slots.push(slot);
    return slot;
  }

  #retire(slot: Slot): void {
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
    void slot.worker.terminate();
  }

  #start(slot: Slot, { job, resolve }: Pending): void {
    slot.busy = true;
    const { worker } = slot;
    let settled = false;
    const finish = (result: JobResult, healthy: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      slot.busy = false;
      if (!healthy) this.#retire(slot);
      resolve(result);
      this.#dispatch();
    };
    const onMessage = (result: JobResult) => finish(result, true);
    const onError = (err: Error) =>
      finish(failed(new M2MError('INTERNAL_ERROR', 'a work thread failed', { cause: err })), false);
    const onExit = () => finish(failed(new M2MError('INTERNAL_ERROR', 'a work thread exited')), false);
    const timer = setTimeout(
      () =>
        finish(
          failed(
            new M2MError(
              'BUDGET_EXCEEDED',
              `the request took more than its budget of ${this.#options.budgetMs} ms and was stopped`,
            ),
          ),
          false,
        ),
      this.#options.budgetMs,
    );
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    const { body } = job;
    // The body's memory moves to the thread when it is not shared with other data.
    const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    worker.postMessage(job, whole ? [body.buffer as ArrayBuffer] : []);
  }

  /** Ends the threads; waiting jobs answer `SERVER_BUSY`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const p of this.#queue.splice(0))
      p.resolve(failed(new M2MError('SERVER_BUSY', 'the server is shutting down')));
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }
}
