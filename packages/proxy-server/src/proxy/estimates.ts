/**
 * Waiting-time estimates from what has been observed: a queue drains as the calls in flight end
 * and free their slots, each call taking the mean processing time, and never faster than
 * `--max-rps` lets calls start. When nothing has finished yet, the age of the oldest call in
 * flight is the best guess; with nothing in flight either, one second.
 */
export interface EstimateInputs {
  avgProcessingMs: number | null;
  /** How long each call in flight has run, the longest first; null when not known. */
  inFlightAgesMs: readonly number[] | null;
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
  return inputs.avgProcessingMs ?? inputs.inFlightAgesMs?.[0] ?? FALLBACK_PROCESSING_MS;
}

/** Milliseconds until the task at `position` in the queue (1 for the next) is expected to start. */
export function queueWaitMs(position: number, inputs: EstimateInputs): number {
  const bySlots = slotWaitMs(position, inputs);
  // A queue behind the rate limit waits for its tokens, however fast the calls are: a task
  // waits while the bucket is empty, so the ones ahead of it take a token interval each.
  const { maxPerSecond } = inputs;
  return maxPerSecond === null ? bySlots : Math.max(bySlots, (position * 1000) / maxPerSecond);
}

/**
 * When a slot frees for the task at `position`. With a mean known and the calls in flight known,
 * each busy slot frees when its call has run the mean, and once a mean later after that; the
 * task takes the position-th of those moments. Calls of seconds to hours that started together
 * (a burst, a restart) free their slots together, late, where spreading the mean over the slots
 * (position × mean / slots) would say early: two 1 h calls 7 min in put the next task 53 min
 * away, not 30. Without them, that spread is the guess.
 *
 * A call past the mean, or a slot idle while tasks wait (a rate limit or a tenant's cap holds
 * them), is given what the spread gives the next slot, mean / slots, rather than "now": told
 * "now" for the whole of an overrun, a polling caller would ask every second.
 */
function slotWaitMs(position: number, inputs: EstimateInputs): number {
  const { avgProcessingMs: meanMs, inFlightAgesMs: ages, concurrency } = inputs;
  if (meanMs === null || ages === null) {
    return (position * expectedProcessingMs(inputs)) / concurrency;
  }
  const soonest = meanMs / concurrency;
  const frees = ages.map((age) => (age < meanMs ? meanMs - age : soonest)).sort((a, b) => a - b);
  // More calls than slots (instances on one Redis started with other caps): the first to end
  // free none.
  const slots = frees.slice(Math.max(0, frees.length - concurrency));
  while (slots.length < concurrency) slots.unshift(soonest);
  slots.sort((a, b) => a - b);
  const turn = Math.max(0, position - 1);
  return (slots[turn % concurrency] ?? soonest) + Math.floor(turn / concurrency) * meanMs;
}

/** A `Retry-After` value: whole seconds, rounded up, within [minS, maxS]. */
export function retryAfterSeconds(waitMs: number, minS: number, maxS: number): number {
  return Math.min(maxS, Math.max(minS, Math.ceil(waitMs / 1000)));
}

/**
 * What is known now: the mean of finished calls, and when each call in flight started (null
 * when not read), the earliest first.
 */
export function estimateInputs(
  avgProcessingMs: number | null,
  inFlightStartedAt: readonly number[] | null,
  pace: Pace,
  now: number,
): EstimateInputs {
  return {
    avgProcessingMs,
    inFlightAgesMs: inFlightStartedAt?.map((startedAt) => Math.max(0, now - startedAt)) ?? null,
    concurrency: pace.concurrency,
    maxPerSecond: pace.maxPerSecond,
  };
}
