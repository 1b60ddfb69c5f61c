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
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(?<month>${MONTHS.join('|')})`;
const TIME = '(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})';
/**
 * The three HTTP-date forms of RFC 9110 5.6.7, all GMT: IMF-fixdate, RFC 850 and asctime.
 * `Date.parse` alone would read "2.5" or "-5" as dates in 2001 (a retry at once instead of the
 * backoff), asctime, which names no zone, in the server's own, "31 Feb" as 3 March, and an
 * RFC 850 year "70" as 1970.
 */
const HTTP_DATE = [
  new RegExp(`^${DAY}, (?<day>\\d{2}) ${MONTH} (?<year>\\d{4}) ${TIME} GMT$`),
  new RegExp(`^${DAY}[a-z]*, (?<day>\\d{2})-${MONTH}-(?<year>\\d{2}) ${TIME} GMT$`),
  new RegExp(`^${DAY} ${MONTH} (?<day>[ \\d]\\d) ${TIME} (?<year>\\d{4})$`),
];

/** The moment an HTTP date names, or NaN when it names none (a 31 February, a 25th hour). */
function httpDateMs(value: string, now: number): number {
  const fields = HTTP_DATE.map((form) => form.exec(value)?.groups).find(Boolean);
  if (!fields) return Number.NaN;
  const [day, hour, minute, second] = [fields.day, fields.hour, fields.minute, fields.second].map(
    Number,
  ) as [number, number, number, number];
  const month = MONTHS.indexOf(fields.month as string);
  const year = fields.year?.length === 2 ? fullYear(Number(fields.year), now) : Number(fields.year);
  // The day checked alone: a leap second (23:59:60, RFC 5322) rolls into the next day, and is
  // read as its first moment.
  const exists =
    new Date(Date.UTC(year, month, day)).getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second <= 60;
  return exists ? Date.UTC(year, month, day, hour, minute, second) : Number.NaN;
}

/**
 * RFC 9110 5.6.7: a two-digit year that would be more than 50 years ahead is the latest past
 * year with those digits.
 */
function fullYear(twoDigits: number, now: number): number {
  const current = new Date(now).getUTCFullYear();
  const year = current - (current % 100) + twoDigits;
  return year > current + 50 ? year - 100 : year;
}

/**
 * `Retry-After` in ms: delay-seconds or an HTTP date (RFC 9110); null when absent or unreadable
 * (a fraction, a sign, a date in another form), so the backoff applies.
 */
export function retryAfterMsOf(header: string | string[] | undefined, now: number): number | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return null;
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  else ms = httpDateMs(value, now) - now;
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : null;
}
