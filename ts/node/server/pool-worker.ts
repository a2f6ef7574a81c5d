/** A work-pool thread (see pool.ts): runs one stateless request or one session DATA job at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import type { Job, JobResult, SessionJob } from './pool.js';
import { runSessionJob } from './session-work.js';
import { errorResult, parseJsonBytes, runRoute, type WorkResult, type WorkSettings } from './work.js';

const settings = workerData as WorkSettings;

parentPort?.on('message', (job: Job | SessionJob) => {
  if ('kind' in job) {
    parentPort?.postMessage(runSessionJob(job, settings));
    return;
  }
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
