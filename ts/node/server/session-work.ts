/**
 * What a work-pool thread does with a session's large DATA: `decodeData` or
 * `encodeData` with the server's scanner, on a copy of the session's history,
 * which it gives back (also after an error, as the main thread would keep it).
 */
import { decodeData, encodeData } from '../../protocol/data.js';
import type { SessionJob, SessionJobReply } from './pool.js';
import { toThreadError } from './pool.js';
import { sessionSecurity, type Verdict, type WorkSettings } from './work.js';

/** Runs one session job; never throws (the error is in the reply). */
export function runSessionJob(job: SessionJob, settings: WorkSettings): SessionJobReply {
  const verdicts: Verdict[] = [];
  const security = sessionSecurity(settings.security, (v) => verdicts.push(v));
  const context = job.history ? { history: job.history } : undefined;
  const reply: SessionJobReply = { verdicts };
  try {
    if (job.kind === 'decode') reply.decoded = decodeData(job.payload, job.params, security, job.binary, context);
    else reply.encoded = encodeData(job.content, job.params, security, job.send, context);
  } catch (err) {
    reply.error = toThreadError(err);
  }
  if (job.history) reply.history = job.history;
  return reply;
}
