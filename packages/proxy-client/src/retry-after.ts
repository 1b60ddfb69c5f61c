/**
 * `Retry-After` as RFC 9110 10.2.3 defines it, read by the SDK and the proxy alike: whole
 * delay-seconds or an HTTP date (5.6.7). `Date.parse` alone would read "-5" or "2.5" as dates in 2001 (a retry at once
 * instead of the wait asked for), asctime, which names no zone, in the reader's own, "31 Feb" as
 * 3 March, and an RFC 850 year "70" as 1970.
 */

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(?<month>${MONTHS.join('|')})`;
const TIME = '(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})';
/** The three forms, all GMT: IMF-fixdate, RFC 850 and asctime. */
const HTTP_DATE = [
  new RegExp(`^${DAY}, (?<day>\\d{2}) ${MONTH} (?<year>\\d{4}) ${TIME} GMT$`),
  new RegExp(`^${DAY}[a-z]*, (?<day>\\d{2})-${MONTH}-(?<year>\\d{2}) ${TIME} GMT$`),
  new RegExp(`^${DAY} ${MONTH} (?<day>[ \\d]\\d) ${TIME} (?<year>\\d{4})$`),
];

/**
 * The moment an HTTP date names, in ms since the epoch, or NaN when it is not one or names none
 * (a 31 February, a 25th hour). `now` places a two-digit year.
 */
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
 * Reads a `Retry-After` header: delay-seconds (`"5"`) or an HTTP date, as of `now`. Answers
 * milliseconds, the SDK's one unit (0 for a date already past), or undefined when the header is
 * missing or unreadable (a fraction, a sign, a date in another form).
 */
export function parseRetryAfterMs(
  header: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : httpDateMs(value, now) - now;
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}
