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

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/**
 * The three HTTP-date forms of RFC 9110 5.6.7, all GMT: IMF-fixdate, RFC 850 and asctime.
 * `Date.parse` alone would read "2.5" or "-5" as dates in 2001 (a retry at once instead of the
 * backoff), and asctime, which names no zone, in the server's own.
 */
const HTTP_DATE = [
  new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`),
  new RegExp(`^${DAY}[a-z]*, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`),
  new RegExp(`^${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4}$`),
];

/**
 * `Retry-After` in ms: delay-seconds or an HTTP date (RFC 9110); null when absent or unreadable
 * (a fraction, a sign, a date in another form), so the backoff applies.
 */
export function retryAfterMsOf(header: string | string[] | undefined, now: number): number | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return null;
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  else if (HTTP_DATE.some((form) => form.test(value))) {
    ms = Date.parse(value.endsWith('GMT') ? value : `${value} GMT`) - now;
  } else return null;
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : null;
}
