/**
 * Worker threads for the requests too large to handle on the event loop
 * (JSON parsing, the scan and compression or decompression of a large body,
 * T1 decoding above all; a session's large DATA, received or sent), so one
 * large request cannot stall the small ones.
 * Each thread runs one job at a time; jobs wait in a bounded queue
 * (`SERVER_BUSY` beyond it). A job that runs past its budget has its thread
 * terminated (a fresh one replaces it) and answers `BUDGET_EXCEEDED`.
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SessionHistory } from '../../codec/history.js';
import { asM2MError, type ErrorCode, M2MError } from '../../core/errors.js';
import { packagePath } from '../../core/package-files.js';
import type { DecodedData, EncodedData } from '../../protocol/data.js';
import type { CodecJobResult, DecodeJob, EncodeJob } from '../session/manager.js';
import { errorResult, type Route, type Verdict, type WorkSettings, type WorkStats } from './work.js';

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

/** A session DATA job for a pool thread: decode a received payload or encode a reply (see `CodecOffload`). */
export type SessionJob = ({ kind: 'decode' } & DecodeJob) | ({ kind: 'encode' } & EncodeJob);

/** An error as it crosses to and from a thread: its code, message and (for `SECURITY_VIOLATION`) its details. */
export interface ThreadError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** What a pool thread answers for a session job; `verdicts` are the scanner's, for `/metrics`. */
export interface SessionJobReply {
  decoded?: DecodedData;
  encoded?: EncodedData;
  error?: ThreadError;
  history?: SessionHistory;
  verdicts: Verdict[];
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface Pending {
  message: Job | SessionJob;
  transfer: ArrayBuffer[];
  settle: (reply: unknown) => void;
  fail: (err: M2MError) => void;
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
  /** Told the scanner's verdict of every scan a session job ran (the stateless routes report theirs in `JobResult`). */
  onVerdict?: (verdict: Verdict) => void;
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = FROM_SOURCE
  ? new URL('./pool-worker.ts', import.meta.url)
  : pathToFileURL(packagePath('dist/node/server/pool-worker.js'));
// Run from the TypeScript sources (tests), the thread registers tsx before loading the worker.
const BOOTSTRAP = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;

/** The body's memory moves to the thread when it is not shared with other data. */
function movable(bytes: Uint8Array | undefined): ArrayBuffer[] {
  if (bytes === undefined) return [];
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole ? [bytes.buffer as ArrayBuffer] : [];
}

/** An error as a thread sends it. */
export function toThreadError(err: unknown): ThreadError {
  const error = asM2MError(err);
  const out: ThreadError = { code: error.code, message: error.message };
  const cause = error.cause;
  if (error.code === 'SECURITY_VIOLATION' && typeof cause === 'object' && cause !== null)
    out.details = { ...(cause as Record<string, unknown>) };
  return out;
}

/** The error a thread sent, as the `M2MError` it was. */
export function fromThreadError(err: ThreadError): M2MError {
  return new M2MError(err.code, err.message, err.details ? { cause: err.details } : undefined);
}

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
    return this.#submit(job, movable(job.body), (reply) => reply as JobResult, failed);
  }

  /** Decodes a session's received DATA on a thread (what `decodeData` does); never rejects. */
  decode(job: DecodeJob): Promise<CodecJobResult<DecodedData>> {
    return this.#submit(
      { kind: 'decode', ...job },
      movable(job.binary),
      (r) => this.#session(r),
      (error) => ({ error }),
    );
  }

  /** Encodes a session's reply on a thread (what `encodeData` does); never rejects. */
  encode(job: EncodeJob): Promise<CodecJobResult<EncodedData>> {
    return this.#submit(
      { kind: 'encode', ...job },
      [],
      (r) => this.#session(r),
      (error) => ({ error }),
    );
  }

  #session<T>(reply: unknown): CodecJobResult<T> {
    const r = reply as SessionJobReply;
    for (const v of r.verdicts) this.#options.onVerdict?.(v);
    const out: CodecJobResult<T> = {};
    if (r.error !== undefined) out.error = fromThreadError(r.error);
    else out.result = (r.decoded ?? r.encoded) as T;
    if (r.history !== undefined) out.history = r.history;
    return out;
  }

  #submit<T>(
    message: Job | SessionJob,
    transfer: ArrayBuffer[],
    settle: (reply: unknown) => T,
    fail: (err: M2MError) => T,
  ): Promise<T> {
    if (this.#closed) return Promise.resolve(fail(new M2MError('SERVER_BUSY', 'the server is shutting down')));
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.resolve(
        fail(new M2MError('SERVER_BUSY', `${this.#maxQueued} large requests are already waiting; retry later`)),
      );
    }
    return new Promise((resolve) => {
      this.#queue.push({ message, transfer, settle: (r) => resolve(settle(r)), fail: (e) => resolve(fail(e)) });
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

  #start(slot: Slot, { message, transfer, settle, fail }: Pending): void {
    slot.busy = true;
    const { worker } = slot;
    let settled = false;
    const finish = (healthy: boolean, reply: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      slot.busy = false;
      if (!healthy) this.#retire(slot);
      reply();
      this.#dispatch();
    };
    const onMessage = (reply: unknown) => finish(true, () => settle(reply));
    const onError = (err: Error) =>
      finish(false, () => fail(new M2MError('INTERNAL_ERROR', 'a work thread failed', { cause: err })));
    const onExit = () => finish(false, () => fail(new M2MError('INTERNAL_ERROR', 'a work thread exited')));
    const timer = setTimeout(
      () =>
        finish(false, () =>
          fail(
            new M2MError(
              'BUDGET_EXCEEDED',
              `the request took more than its budget of ${this.#options.budgetMs} ms and was stopped`,
            ),
          ),
        ),
      this.#options.budgetMs,
    );
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.postMessage(message, transfer);
  }

  /** Ends the threads; waiting jobs answer `SERVER_BUSY`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.fail(new M2MError('SERVER_BUSY', 'the server is shutting down'));
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }
}
