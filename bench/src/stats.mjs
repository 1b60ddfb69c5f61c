// @ts-check
// The few statistics the report needs. Percentiles use the nearest-rank method, so every
// figure reported is a value that was actually observed.

/** @typedef {{ n: number, median: number, min: number, max: number, spreadPct: number }} Summary */

/** @param {readonly number[]} values */
function sorted(values) {
  if (values.length === 0) throw new RangeError('no values');
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * Nearest-rank percentile: the smallest value with at least `p` percent of the values at or
 * below it.
 * @param {readonly number[]} values
 * @param {number} p 0 < p <= 100
 */
export function percentile(values, p) {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile out of range: ${p}`);
  const s = sorted(values);
  const rank = Math.ceil((p / 100) * s.length);
  return /** @type {number} */ (s[Math.max(rank, 1) - 1]);
}

/** @param {readonly number[]} values */
export function median(values) {
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  const upper = /** @type {number} */ (s[mid]);
  if (s.length % 2 === 1) return upper;
  const lower = /** @type {number} */ (s[mid - 1]);
  return (lower + upper) / 2;
}

/**
 * Spread as the whole range relative to the median, in percent: with three runs it says how far
 * apart the best and the worst were, which is what a reader needs to judge a median.
 * @param {readonly number[]} values
 */
export function spreadPct(values) {
  const s = sorted(values);
  const m = median(s);
  const range = /** @type {number} */ (s[s.length - 1]) - /** @type {number} */ (s[0]);
  if (range === 0) return 0;
  return m === 0 ? Number.POSITIVE_INFINITY : (range / Math.abs(m)) * 100;
}

/** @param {readonly number[]} values @returns {Summary} */
export function summarize(values) {
  const s = sorted(values);
  return {
    n: s.length,
    median: median(s),
    min: /** @type {number} */ (s[0]),
    max: /** @type {number} */ (s[s.length - 1]),
    spreadPct: spreadPct(s),
  };
}
