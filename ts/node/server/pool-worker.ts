/** A work-pool thread (see pool.ts): parses, checks and runs one stateless request at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import type { Job, JobResult } from './pool.js';
import { errorResult, parseJsonBytes, runRoute, type WorkResult, type WorkSettings } from './work.js';

const settings = workerData as WorkSettings;

parentPort?.on('message', (job: Job) => {
  let result: WorkResult;
  try {
    result = runRoute(job.route, parseJsonBytes(job.body), settings);
  } catch (err) {
    result = errorResult(err);
  }
  const out: JobResult = { status: result.status, json: JSON.stringify(result.body) };
  if (result.algorithm !== undefined) out.algorithm = result.algorithm;
  if (result.warnings !== undefined) out.warnings = result.warnings;
  if (result.verdict !== undefined) out.verdict = result.verdict;
  if (result.contentBytes !== undefined) out.contentBytes = result.contentBytes;
  if (result.wireBytes !== undefined) out.wireBytes = result.wireBytes;
  parentPort?.postMessage(out);
});
