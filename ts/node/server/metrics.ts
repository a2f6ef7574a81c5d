/**
 * The server's `/metrics`: Prometheus series through prom-client (an optional
 * peer dependency), on a registry of the app's own, so two servers in one
 * process keep their own counts.
 *
 *   m2m_requests_total{status}                       requests answered, by status
 *   m2m_request_duration_seconds{method,route}       latency histogram, by route pattern
 *   m2m_algorithm_requests_total{algorithm}          compress/decompress requests, by algorithm
 *   m2m_bytes_in_total{algorithm}, m2m_bytes_out_total{algorithm}
 *                                                    HTTP body bytes of those requests
 *   m2m_content_bytes_total{algorithm}, m2m_wire_bytes_total{algorithm}
 *                                                    UTF-8 content and wire bytes either side of the codec
 *   m2m_bytes_saved_total{algorithm}                 content − wire bytes, of the requests where positive
 *   m2m_scanner_verdicts_total{verdict,source}       safe / flagged / blocked, from requests or session DATA
 *   m2m_sessions                                     live sessions in the store (NaN while it is unreachable)
 *   m2m_rate_limited_total, m2m_store_up, m2m_websocket_connections,
 *   m2m_event_loop_delay_ms{quantile}, m2m_work_pool_jobs{state}
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import type * as Prom from 'prom-client';
import { requirePeer } from '../peers.js';
import type { RequestStats } from './stats.js';
import type { Verdict } from './work.js';

/** Where the gauges read their values at scrape time. */
export interface MetricsSources {
  storeUp: () => boolean;
  connections: () => number;
  loopDelay: IntervalHistogram;
  poolLoad: () => { running: number; queued: number };
  /** Live sessions; rejects when the store is unreachable. */
  sessions: () => Promise<number>;
}

/** One finished request, as the onResponse hook sees it. */
export interface RequestSample {
  method: string;
  route: string;
  status: number;
  seconds: number;
  bytesIn: number;
  bytesOut: number;
  stats: RequestStats;
}

/** Latency buckets, seconds: 1 ms to 30 s (the default request deadline). */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A server's metrics. Throws `MISSING_DEPENDENCY` when prom-client is not installed. */
export class ServerMetrics {
  readonly #registry: Prom.Registry;
  readonly #requests: Prom.Counter<'status'>;
  readonly #duration: Prom.Histogram<'method' | 'route'>;
  readonly #algorithm: Prom.Counter<'algorithm'>;
  readonly #bytesIn: Prom.Counter<'algorithm'>;
  readonly #bytesOut: Prom.Counter<'algorithm'>;
  readonly #content: Prom.Counter<'algorithm'>;
  readonly #wire: Prom.Counter<'algorithm'>;
  readonly #saved: Prom.Counter<'algorithm'>;
  readonly #verdicts: Prom.Counter<'verdict' | 'source'>;
  readonly #rateLimited: Prom.Counter;

  constructor(sources: MetricsSources) {
    const prom = requirePeer<typeof Prom>('prom-client');
    this.#registry = new prom.Registry();
    const registers = [this.#registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new prom.Counter<L>({ name, help, labelNames, registers });
    this.#requests = counter('m2m_requests_total', 'Requests answered, by HTTP status.', ['status']);
    this.#duration = new prom.Histogram({
      name: 'm2m_request_duration_seconds',
      help: 'Time to answer a request, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: BUCKETS,
      registers,
    });
    this.#algorithm = counter('m2m_algorithm_requests_total', 'Compress and decompress requests, by algorithm.', [
      'algorithm',
    ]);
    this.#bytesIn = counter('m2m_bytes_in_total', 'Request body bytes of compress/decompress requests.', ['algorithm']);
    this.#bytesOut = counter('m2m_bytes_out_total', 'Response body bytes of compress/decompress requests.', [
      'algorithm',
    ]);
    this.#content = counter('m2m_content_bytes_total', 'UTF-8 bytes of the content (compress in, decompress out).', [
      'algorithm',
    ]);
    this.#wire = counter('m2m_wire_bytes_total', 'Bytes of the wire form (compress out, decompress in).', [
      'algorithm',
    ]);
    this.#saved = counter(
      'm2m_bytes_saved_total',
      'Content bytes minus wire bytes, summed over the requests where the wire is smaller.',
      ['algorithm'],
    );
    this.#verdicts = counter('m2m_scanner_verdicts_total', 'Security scanner verdicts, by verdict and source.', [
      'verdict',
      'source',
    ]);
    this.#rateLimited = counter('m2m_rate_limited_total', 'Requests refused by the per-client rate limit.');
    new prom.Gauge({
      name: 'm2m_store_up',
      help: 'Whether the session store is reachable (1) or not (0).',
      registers,
      collect() {
        this.set(sources.storeUp() ? 1 : 0);
      },
    });
    new prom.Gauge({
      name: 'm2m_websocket_connections',
      help: 'Open WebSocket connections.',
      registers,
      collect() {
        this.set(sources.connections());
      },
    });
    new prom.Gauge({
      name: 'm2m_sessions',
      help: 'Live sessions in the session store (NaN while the store is unreachable).',
      registers,
      async collect() {
        this.set(await sources.sessions().catch(() => Number.NaN));
      },
    });
    new prom.Gauge({
      name: 'm2m_event_loop_delay_ms',
      help: 'Event-loop delay, ms: the 99th percentile and the maximum.',
      labelNames: ['quantile'],
      registers,
      collect() {
        this.set({ quantile: '0.99' }, Math.round(sources.loopDelay.percentile(99) / 1e5) / 10);
        this.set({ quantile: '1' }, Math.round(sources.loopDelay.max / 1e5) / 10);
      },
    });
    new prom.Gauge({
      name: 'm2m_work_pool_jobs',
      help: 'Jobs on the worker threads: running and queued.',
      labelNames: ['state'],
      registers,
      collect() {
        const load = sources.poolLoad();
        this.set({ state: 'running' }, load.running);
        this.set({ state: 'queued' }, load.queued);
      },
    });
  }

  /** Counts one finished request. */
  request(sample: RequestSample): void {
    this.#requests.inc({ status: String(sample.status) });
    this.#duration.observe({ method: sample.method, route: sample.route }, sample.seconds);
    const { algorithm, verdict, contentBytes, wireBytes } = sample.stats;
    if (verdict !== undefined) this.verdict(verdict, 'request');
    if (algorithm === undefined) return;
    const labels = { algorithm };
    this.#algorithm.inc(labels);
    this.#bytesIn.inc(labels, sample.bytesIn);
    this.#bytesOut.inc(labels, sample.bytesOut);
    if (contentBytes !== undefined && wireBytes !== undefined) {
      this.#content.inc(labels, contentBytes);
      this.#wire.inc(labels, wireBytes);
      this.#saved.inc(labels, Math.max(0, contentBytes - wireBytes));
    }
  }

  /** Counts one scanner verdict. */
  verdict(verdict: Verdict, source: 'request' | 'session'): void {
    this.#verdicts.inc({ verdict, source });
  }

  /** Counts one rate-limited request. */
  rateLimited(): void {
    this.#rateLimited.inc();
  }

  /** The content type of {@link text}. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** Every series in Prometheus text format. */
  text(): Promise<string> {
    return this.#registry.metrics();
  }
}
