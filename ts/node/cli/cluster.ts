/**
 * `m2m server --workers N`: the primary forks N workers that run the same
 * command line and share the listening port (node:cluster); the primary
 * supervises, and relays the per-client request counts between the workers
 * (see server/limits.ts) when there is no Redis to share them. It prints the URL once every worker listens, restarts a worker
 * that dies (at most 5 times a minute), stops everything when one fails to
 * start, and on SIGINT/SIGTERM tells the workers to close and waits for them.
 */
import cluster, { type Worker } from 'node:cluster';
import { RateRelay } from '../server/limits.js';

/** Messages between the primary and its workers. */
export type ClusterMessage = { m2m: 'listening'; url: string } | { m2m: 'shutdown' };

const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS = 5;

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: tells the primary the server listens. */
export function notifyListening(url: string): void {
  process.send?.({ m2m: 'listening', url } satisfies ClusterMessage);
}

/** In a worker: calls `stop` when the primary asks for a shutdown. */
export function onShutdownRequest(stop: () => void): void {
  process.on('message', (msg: unknown) => {
    if ((msg as ClusterMessage | undefined)?.m2m === 'shutdown') stop();
  });
}

/** Runs the primary; resolves with the exit code once every worker is gone. */
export function runPrimary(
  workers: number,
  report: { listening(url: string): void; error(message: string): void },
): Promise<number> {
  return new Promise((resolve) => {
    let started = false;
    let stopping = false;
    let exitCode = 0;
    const listening = new Set<number>();
    const restarts: number[] = [];
    // Per-client request counts shared between the workers (when there is no Redis).
    const relay = new RateRelay();
    const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w?.isConnected() === true);

    const stopAll = (code: number) => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      for (const w of Object.values(cluster.workers ?? {})) {
        // A worker still starting (e.g. the replacement of one that died) would miss the message.
        if (w !== undefined && !listening.has(w.id)) w.process.kill('SIGTERM');
        else if (w?.isConnected()) w.send({ m2m: 'shutdown' } satisfies ClusterMessage);
      }
      if (Object.keys(cluster.workers ?? {}).length === 0) resolve(exitCode);
    };

    const fork = (): Worker => {
      const worker = cluster.fork();
      worker.on('message', (msg: ClusterMessage) => {
        if (relay.receive(worker.id, msg, live())) return;
        if (msg?.m2m !== 'listening') return;
        listening.add(worker.id);
        if (!started && listening.size >= workers) {
          started = true;
          report.listening(msg.url);
        }
      });
      return worker;
    };

    cluster.on('exit', (worker, code, signal) => {
      listening.delete(worker.id);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(exitCode);
        return;
      }
      if (!started) {
        report.error(`a worker failed to start (exit code ${code ?? signal}); stopping the others`);
        stopAll(1);
        return;
      }
      const now = Date.now();
      while (restarts.length > 0 && (restarts[0] as number) < now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length >= MAX_RESTARTS) {
        report.error(`workers keep dying (${MAX_RESTARTS} restarts within a minute); stopping`);
        stopAll(1);
        return;
      }
      restarts.push(now);
      report.error(`worker ${worker.process.pid} died (${signal ?? `exit code ${code}`}); starting another`);
      fork();
    });

    process.once('SIGINT', () => stopAll(0));
    process.once('SIGTERM', () => stopAll(0));
    for (let i = 0; i < workers; i++) fork();
  });
}
