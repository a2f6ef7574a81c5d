/** What m2m's routes record about a request, for its log line and `/metrics` (no peer dependency). */
import type { FastifyRequest } from 'fastify';
import type { WorkStats } from './work.js';

/** What an m2m route did for a request, for its log line and `/metrics`. */
export interface RequestStats extends WorkStats {
  algorithm?: string;
}
const STATS = Symbol('m2m.stats');
type Tagged = FastifyRequest & { [STATS]?: RequestStats };

/** Records what a route did for `req` (see {@link requestStats}). */
export function tagRequest(req: FastifyRequest, stats: RequestStats): void {
  const tagged = req as Tagged;
  tagged[STATS] = { ...tagged[STATS], ...stats };
}

/** What the m2m routes recorded for `req`: algorithm, scanner verdict, content and wire bytes. */
export function requestStats(req: FastifyRequest): RequestStats {
  return (req as Tagged)[STATS] ?? {};
}

/** The algorithm an m2m route used for `req` (compress and decompress), for the request's log line. */
export function requestAlgorithm(req: FastifyRequest): string | undefined {
  return requestStats(req).algorithm;
}
