import { describe, expect, it } from 'vitest';
import { retryAfterMsOf } from '../src/upstream/task-outcome.js';

const NOW = Date.parse('2026-12-02T10:00:00Z');

// How a header is read (seconds, the three HTTP-date forms, what is unreadable) is the SDK's
// `parseRetryAfterMs`, tested beside it; here, what the proxy adds: the first of repeated
// headers, a cap of a day, null for the backoff.
describe("the target's Retry-After", () => {
  it.each([
    ['12', 12_000],
    [['3', '9'], 3_000],
    ['Wed Dec  2 10:01:00 2026', 60_000],
    ['Tue, 01 Dec 2026 10:00:00 GMT', 0],
    ['Thursday, 03-Dec-26 10:00:00 GMT', 24 * 3_600_000],
    ['99999999', 24 * 3_600_000],
  ])('%j waits %d ms', (header, ms) => {
    expect(retryAfterMsOf(header, NOW)).toBe(ms);
  });

  it.each(['2.5', '-5', 'Tue, 31 Feb 2026 10:00:00 GMT', '', undefined])(
    '%j is unreadable: the backoff applies',
    (header) => {
      expect(retryAfterMsOf(header, NOW)).toBeNull();
    },
  );
});
