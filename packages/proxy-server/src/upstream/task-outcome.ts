import { parseRetryAfterMs } from 'proxy-client/wire';
import { taskError } from '../engine/task-error.js';
import type { TaskOutcome } from '../engine/task-record.js';
import { storedBodyOf } from './result-body.js';
import type { UpstreamOutcome } from './upstream-call.js';

/**
 * 2xx completes the task; any other answer fails it with the answer kept (and the wait its
 * Retry-After asks for, as of `now`); no answer fails it.
 */
export function taskOutcomeOf(outcome: UpstreamOutcome, now: number): TaskOutcome {
  if (!outcome.ok) return { status: 'failed', result: null, error: outcome.error };
  const { body, encoding } = storedBodyOf(outcome.body, outcome.contentType);
  const result = {
    statusCode: outcome.statusCode,
    headers: outcome.headers,
    bodyBytes: outcome.body.length,
    body,
    encoding,
  };
  if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
    return { status: 'completed', result, error: null };
  }
  return {
    status: 'failed',
    result,
    error: taskError('upstream_status', `status ${outcome.statusCode}`),
    retryAfterMs: retryAfterMsOf(outcome.headers['retry-after'], now),
  };
}

/** The longest Retry-After taken as it is: a target asking for more is asking for a day off. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * `Retry-After` in ms, at most a day; null when absent or unreadable (a fraction, a sign, a date
 * in another form), so the backoff applies.
 */
export function retryAfterMsOf(header: string | string[] | undefined, now: number): number | null {
  const ms = parseRetryAfterMs(Array.isArray(header) ? header[0] : header, now);
  return ms === undefined ? null : Math.min(MAX_RETRY_AFTER_MS, ms);
}
