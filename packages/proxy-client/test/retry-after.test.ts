import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from '../src/index.js';

const NOW = Date.parse('2026-12-02T10:00:00Z');

describe('parseRetryAfterMs', () => {
  it.each([
    ['0', 0],
    ['12', 12_000],
    [' 7 ', 7_000],
    ['99999999', 99_999_999_000],
    ['Wed, 02 Dec 2026 10:00:30 GMT', 30_000],
    ['Wednesday, 02-Dec-26 10:00:05 GMT', 5_000],
    // asctime names no zone and means GMT, wherever the caller runs.
    ['Wed Dec  2 10:01:00 2026', 60_000],
    ['Tue, 01 Dec 2026 10:00:00 GMT', 0],
    // RFC 9110: a two-digit year is the century's unless that is more than 50 years ahead.
    ['Friday, 04-Dec-70 10:00:00 GMT', Date.UTC(2070, 11, 4, 10) - NOW],
    ['Friday, 03-Dec-99 10:00:00 GMT', 0],
    // A leap second (always 23:59:60) is read as the next day's first moment.
    ['Wed, 02 Dec 2026 23:59:60 GMT', 14 * 3_600_000],
  ])('%j waits %d ms', (header, ms) => {
    expect(parseRetryAfterMs(header, NOW)).toBe(ms);
  });

  // Each of these parses as a date with Date.parse ("2.5" is 2001-02-05): taken as one, a caller
  // would try again at once instead of after its own backoff.
  it.each([
    '2.5',
    '-5',
    '+5',
    '1e3',
    '5 seconds',
    'garbage',
    'Wed, 99 Foo 2026',
    'Mon, 2.5',
    'Sun 5',
    'Wed, 02 Dec 2026 10:00:30',
    '2026-12-02T10:00:30Z',
    // Dates that do not exist, which Date.parse rolls over into ones that do.
    'Tue, 31 Feb 2026 10:00:00 GMT',
    'Wed, 02 Dec 2026 24:00:00 GMT',
    'Wed, 02 Dec 2026 10:60:00 GMT',
    'Wed Dec 32 10:00:00 2026',
    '',
    '   ',
    null,
    undefined,
  ])('%j is unreadable', (header) => {
    expect(parseRetryAfterMs(header, NOW)).toBeUndefined();
  });

  it('reads the same from the wire entry the proxy imports', async () => {
    const wire = await import('../src/wire.js');
    expect(wire.parseRetryAfterMs('Wed Dec  2 10:01:00 2026', NOW)).toBe(60_000);
  });
});
