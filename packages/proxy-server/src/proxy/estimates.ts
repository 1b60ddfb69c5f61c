/**
 * Waiting-time estimates from what has been observed: a queue drains at `concurrency` tasks per
 * mean processing time, and never faster than `--max-rps` lets calls start. When nothing has
 * finished yet, the age of the oldest call in flight is the best guess; with nothing in flight
 * either, one second.
 */
export interface EstimateInputs {
  avgProcessingMs: number | null;
  oldestInFlightMs: number | null;
  concurrency: number;
  /** `--max-rps`; null without a rate limit. */
  maxPerSecond: number | null;
}

/** How fast the queue may drain at most: the cap on calls in flight and the rate limit. */
export interface Pace {
  concurrency: number;
  maxPerSecond: number | null;
}

const FALLBACK_PROCESSING_MS = 1_000;

export function expectedProcessingMs(inputs: EstimateInputs): number {
  return inputs.avgProcessingMs ?? inputs.oldestInFlightMs ?? FALLBACK_PROCESSING_MS;
}

/** Milliseconds until the task `tasksAhead` places back in the queue is expected to start. */
export function queueWaitMs(tasksAhead: number, inputs: EstimateInputs): number {
  const bySlots = (tasksAhead * expectedProcessingMs(inputs)) / inputs.concurrency;
  // A queue behind the rate limit waits for its tokens, however fast the calls are: a task
  // waits while the bucket is empty, so the ones ahead of it take a token interval each.
  const { maxPerSecond } = inputs;
  return maxPerSecond === null ? bySlots : Math.max(bySlots, (tasksAhead * 1000) / maxPerSecond);
}

/** A `Retry-After` value: whole seconds, rounded up, within [minS, maxS]. */
export function retryAfterSeconds(waitMs: number, minS: number, maxS: number): number {
  return Math.min(maxS, Math.max(minS, Math.ceil(waitMs / 1000)));
}

/** What is known now: the mean of finished calls, else the age of the oldest call in flight. */
export function estimateInputs(
  avgProcessingMs: number | null,
  oldestStartedAt: number | null,
  pace: Pace,
  now: number,
): EstimateInputs {
  return {
    avgProcessingMs,
    oldestInFlightMs: oldestStartedAt === null ? null : now - oldestStartedAt,
    concurrency: pace.concurrency,
    maxPerSecond: pace.maxPerSecond,
  };
}
