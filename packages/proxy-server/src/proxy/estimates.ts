/**
 * Waiting-time estimates from what has been observed: a queue drains at `concurrency` tasks per
 * mean processing time. When nothing has finished yet, the age of the oldest call in flight is the
 * best guess; with nothing in flight either, one second.
 */
export interface EstimateInputs {
  avgProcessingMs: number | null;
  oldestInFlightMs: number | null;
  concurrency: number;
}

const FALLBACK_PROCESSING_MS = 1_000;

export function expectedProcessingMs(inputs: EstimateInputs): number {
  return inputs.avgProcessingMs ?? inputs.oldestInFlightMs ?? FALLBACK_PROCESSING_MS;
}

/** Milliseconds until the task `tasksAhead` places back in the queue is expected to start. */
export function queueWaitMs(tasksAhead: number, inputs: EstimateInputs): number {
  return (tasksAhead * expectedProcessingMs(inputs)) / inputs.concurrency;
}

/** A `Retry-After` value: whole seconds, rounded up, within [minS, maxS]. */
export function retryAfterSeconds(waitMs: number, minS: number, maxS: number): number {
  return Math.min(maxS, Math.max(minS, Math.ceil(waitMs / 1000)));
}

/** What is known now: the mean of finished calls, else the age of the oldest call in flight. */
export function estimateInputs(
  avgProcessingMs: number | null,
  oldestStartedAt: number | null,
  concurrency: number,
  now: number,
): EstimateInputs {
  return {
    avgProcessingMs,
    oldestInFlightMs: oldestStartedAt === null ? null : now - oldestStartedAt,
    concurrency,
  };
}
