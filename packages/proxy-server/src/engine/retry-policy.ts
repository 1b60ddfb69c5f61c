import type { TaskErrorCode } from 'proxy-client/wire';
import type { TaskOutcome } from './task-record.js';

/** What makes a failed call worth another try: target statuses, or transport failures. */
export interface RetryOn {
  statuses: ReadonlySet<number>;
  errors: ReadonlySet<TaskErrorCode>;
}

export interface RetryPolicyOptions {
  retryOn: RetryOn;
  /** The first backoff's ceiling. */
  minDelayMs: number;
  /** No backoff is longer (a target's Retry-After still wins: it is the target's to say). */
  maxDelayMs: number;
  /** In [0, 1); Math.random in production, fixed in tests. */
  random?: () => number;
}

/** Decides whether a finished call is tried again, and after how long; null: it is not. */
export type RetryDecision = (
  outcome: TaskOutcome,
  attempt: number,
  maxAttempts: number,
) => number | null;

/**
 * Retries the failures `retryOn` names while attempts remain: after the target's Retry-After
 * when it sent one (exactly: no jitter on a wait the server gave), else exponential backoff
 * with full jitter: a random wait between the minimum and min(max, min × 2^attempt), `attempt`
 * counting the calls made (1 before the first retry).
 */
export function retryPolicy(options: RetryPolicyOptions): RetryDecision {
  const random = options.random ?? Math.random;
  return (outcome, attempt, maxAttempts) => {
    if (outcome.status !== 'failed' || attempt >= maxAttempts) return null;
    const { statuses, errors } = options.retryOn;
    const statusCode = outcome.result?.statusCode;
    const retryable =
      (statusCode !== undefined && statuses.has(statusCode)) ||
      (outcome.result === null && outcome.error !== null && errors.has(outcome.error.code));
    if (!retryable) return null;
    if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs !== null) {
      return outcome.retryAfterMs;
    }
    // Drawn between the two, not up to the ceiling and then raised to the minimum: that put half
    // of the second waits, and more of the later ones under a low --retry-max-delay, at the floor.
    // The first too: calls failed by one outage would otherwise all be tried again at once.
    const floor = options.minDelayMs;
    const ceiling = Math.min(options.maxDelayMs, floor * 2 ** attempt);
    return floor + Math.floor(random() * Math.max(0, ceiling - floor));
  };
}

/** The default: no retries, as the proxy always behaved. */
export const NEVER_RETRY: RetryDecision = () => null;
