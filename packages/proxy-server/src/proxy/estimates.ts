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

function expectedProcessingMs(inputs: EstimateInputs): number {
  return inputs.avgProcessingMs ?? inputs.inFlightAgesMs?.[0] ?? FALLBACK_PROCESSING_MS;
}

/**
 * Milliseconds until the task at a position in the queue (1 for the next) is expected to start,
 * for any position: the slots' moments are worked out once, since a page of tasks, or a stream
 * with thousands of calls in flight, asks for many positions from one read.
 */
export function queueWaits(inputs: EstimateInputs): (position: number) => number {
  const bySlots = slotWaits(inputs);
  // A queue behind the rate limit waits for its tokens, however fast the calls are: a task
  // waits while the bucket is empty, so the ones ahead of it take a token interval each.
  const { maxPerSecond } = inputs;
  if (maxPerSecond === null) return bySlots;
  return (position) => Math.max(bySlots(position), (position * 1000) / maxPerSecond);
}

/**
 * When a slot frees for the task at a position. With a mean known and the calls in flight known,
 * each busy slot frees when its call has run the mean, and once a mean later after that; the
 * task takes the position-th of those moments. Calls of seconds to hours that started together
 * (a burst, a restart) free their slots together, late, where spreading the mean over the slots
 * (position × mean / slots) would say early: two 1 h calls 7 min in put the next task 53 min
 * away, not 30. Without them, that spread is the guess.
 */
function slotWaits(inputs: EstimateInputs): (position: number) => number {
  const { avgProcessingMs: meanMs, inFlightAgesMs: ages, concurrency } = inputs;
  if (meanMs === null || ages === null) {
    const expectedMs = expectedProcessingMs(inputs);
    return (position) => (position * expectedMs) / concurrency;
  }
  const slotFrees = slotsFreeing(meanMs, ages, concurrency);
  return (position) => {
    const turn = Math.max(0, position - 1);
    return slotFrees(turn % concurrency) + Math.floor(turn / concurrency) * meanMs;
  };
}

/**
 * In how long the n-th slot to free (0 for the soonest) frees. A call past the mean, or a slot
 * idle while tasks wait (a rate limit or a tenant's cap holds them), is given what the spread
 * gives the next slot, mean / slots, rather than "now": told "now" for the whole of an overrun,
 * a polling caller would ask every second. One pass over the calls, whose ages come longest
 * first, so the calls under the mean free their slots in order (sorted only if a backend ever
 * gives them otherwise); no slot is listed, as a stream's event asks for one.
 */
function slotsFreeing(
  meanMs: number,
  ages: readonly number[],
  concurrency: number,
): (slot: number) => number {
  const soonest = meanMs / concurrency;
  const running: number[] = [];
  let overdue = 0;
  let inOrder = true;
  for (const age of ages) {
    if (age >= meanMs) {
      overdue++;
      continue;
    }
    if (running.length > 0 && meanMs - age < (running[running.length - 1] as number)) {
      inOrder = false;
    }
    running.push(meanMs - age);
  }
  if (!inOrder) running.sort((a, b) => a - b);
  // In order, the moments are the running ones below `soonest`, then the overdue calls and the
  // idle slots at `soonest`, then the other running ones.
  const atSoonest = overdue + Math.max(0, concurrency - ages.length);
  let belowSoonest = 0;
  while (belowSoonest < running.length && (running[belowSoonest] as number) < soonest) {
    belowSoonest++;
  }
  // More calls than slots (instances on one Redis started with other caps): the first to end
  // free none, so the slots are the latest `concurrency` moments.
  const skipped = running.length + atSoonest - concurrency;
  return (slot) => {
    const at = skipped + slot;
    if (at < belowSoonest) return running[at] as number;
    return at < belowSoonest + atSoonest ? soonest : (running[at - atSoonest] as number);
  };
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
