/** Delay before the first poll after the initial read: quick tasks are seen quickly. */
export const FIRST_POLL_DELAY_MS = 500;
/** Each further poll waits this much longer, until the ceiling for the task's age is reached. */
export const POLL_GROWTH = 1.5;
/** Jitter takes off up to this share of a delay, never adds to it, so the ceiling holds. */
export const JITTER_RATIO = 0.1;
/** Shortest delay the SDK accepts from a server hint, so `Retry-After: 0` cannot make it spin. */
export const MIN_HINT_DELAY_MS = 250;

/**
 * The fixed schedule users follow today, used as the ceiling of every delay: 2 s while the task is
 * under a minute old, 5 s up to five minutes, 10 s after.
 */
export function pollCeilingMs(elapsedMs: number): number {
  if (elapsedMs < 60_000) return 2_000;
  if (elapsedMs < 300_000) return 5_000;
  return 10_000;
}

/**
 * The adaptive schedule, without jitter: 0.5 s, then 1.5 times longer per poll, never longer than
 * {@link pollCeilingMs} for the task's age. Whole milliseconds, as timers use.
 *
 * @param elapsedMs Age of the task, in milliseconds.
 * @param attempt Polls already made in this wait (0 for the first).
 */
export function adaptivePollDelay(elapsedMs: number, attempt: number): number {
  const growing = FIRST_POLL_DELAY_MS * POLL_GROWTH ** Math.max(0, attempt);
  return Math.round(Math.min(pollCeilingMs(Math.max(0, elapsedMs)), growing));
}

/**
 * Spreads waiting clients apart so they do not poll in step: answers a delay in
 * `[delayMs * (1 - JITTER_RATIO), delayMs]` (rounded to whole milliseconds), never longer than the
 * one given.
 *
 * @param random Source of numbers in [0, 1); `Math.random` unless a test pins it.
 */
export function withJitter(delayMs: number, random: () => number = Math.random): number {
  return Math.round(delayMs * (1 - JITTER_RATIO * random()));
}

/** A proxy away longer than this is down, not restarting: a wait gives up with its error. */
export const MAX_OUTAGE_MS = 5 * 60_000;

/**
 * The pause before reading again while the proxy is away, after `outages` failed reads in a
 * row: 250 ms, doubling, at most 10 s. A restart is seen within a quarter of a second; a longer
 * outage costs one read every 10 s.
 */
export function outagePauseMs(outages: number): number {
  return Math.min(250 * 2 ** Math.min(Math.max(0, outages), 10), 10_000);
}
