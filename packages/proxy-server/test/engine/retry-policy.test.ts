import { describe, expect, it } from 'vitest';
import { retryPolicy } from '../../src/engine/retry-policy.js';
import type { TaskOutcome } from '../../src/index.js';
import { completed } from './harness.js';

const unavailable: TaskOutcome = completed('busy', 503);

const waitsAt = (random: number, attempt: number) =>
  retryPolicy({
    retryOn: { statuses: new Set([503]), errors: new Set() },
    minDelayMs: 500,
    maxDelayMs: 5_000,
    random: () => random,
  })(unavailable, attempt, 10);

// Webhooks and Prometheus pass: the wait was drawn up to the ceiling and then raised to the
// minimum, so half of the second waits (random under 0.5) were exactly 500 ms, not spread; and
// review: every first retry waited exactly the minimum, all at once after an outage.
describe('the backoff between retries', () => {
  it('spreads the first retry between the minimum and twice it', () => {
    expect([0, 0.5, 0.999].map((random) => waitsAt(random, 1))).toEqual([500, 750, 999]);
  });

  it('draws a later wait evenly between the minimum and the doubled ceiling', () => {
    expect([0, 0.25, 0.5, 0.999].map((random) => waitsAt(random, 2))).toEqual([
      500, 875, 1_250, 1_998,
    ]);
    expect([0, 0.5].map((random) => waitsAt(random, 3))).toEqual([500, 2_250]);
  });

  it('never past --retry-max-delay', () => {
    expect(waitsAt(0.999, 8)).toBe(4_995);
    expect(waitsAt(0, 8)).toBe(500);
  });

  it("takes the target's Retry-After as it is", () => {
    const policy = retryPolicy({
      retryOn: { statuses: new Set([503]), errors: new Set() },
      minDelayMs: 500,
      maxDelayMs: 5_000,
      random: () => 0.5,
    });
    expect(policy({ ...unavailable, retryAfterMs: 8_000 }, 2, 10)).toBe(8_000);
  });
});
