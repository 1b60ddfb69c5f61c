import { describe, expect, it } from 'vitest';
import {
  type EstimateInputs,
  estimateInputs,
  queueWaits,
  retryAfterSeconds,
} from '../src/proxy/estimates.js';
import { seededRandom } from './seeded-random.js';

const NOW = 10_000_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const pace = (concurrency: number, maxPerSecond: number | null = null) => ({
  concurrency,
  maxPerSecond,
});
/** Calls in flight that have run these many ms. */
const ranFor = (...ages: number[]) => ages.map((age) => NOW - age);
const queueWaitMs = (position: number, inputs: EstimateInputs) => queueWaits(inputs)(position);

/**
 * The slot moments worked out the plain way, every call's moment sorted: what `queueWaits`
 * must agree with, however the ages come.
 */
function bySorting(
  position: number,
  { avgProcessingMs: meanMs, inFlightAgesMs: ages, concurrency }: EstimateInputs,
) {
  if (meanMs === null || ages === null) throw new Error('a mean and the calls are needed');
  const soonest = meanMs / concurrency;
  const frees = ages.map((age) => (age < meanMs ? meanMs - age : soonest)).sort((a, b) => a - b);
  const slots = frees.slice(Math.max(0, frees.length - concurrency));
  while (slots.length < concurrency) slots.unshift(soonest);
  slots.sort((a, b) => a - b);
  const turn = Math.max(0, position - 1);
  return (slots[turn % concurrency] as number) + Math.floor(turn / concurrency) * meanMs;
}

describe('queue wait estimates', () => {
  it('with a mean and the calls in flight: a slot frees when its call has run the mean', () => {
    // Two 1 h calls started together, 7 min ago: the next task starts in 53 min, not 30.
    const inputs = estimateInputs(HOUR, ranFor(7 * MINUTE, 7 * MINUTE), pace(2), NOW);
    expect(queueWaitMs(1, inputs)).toBe(53 * MINUTE);
    expect(queueWaitMs(2, inputs)).toBe(53 * MINUTE);
    expect(queueWaitMs(3, inputs)).toBe(113 * MINUTE);
    expect(queueWaitMs(4, inputs)).toBe(113 * MINUTE);
  });

  it('takes the slots in the order they free, then a mean later each', () => {
    const inputs = estimateInputs(HOUR, ranFor(50 * MINUTE, 10 * MINUTE), pace(2), NOW);
    expect([1, 2, 3, 4].map((position) => queueWaitMs(position, inputs))).toEqual([
      10 * MINUTE,
      50 * MINUTE,
      70 * MINUTE,
      110 * MINUTE,
    ]);
  });

  it('gives a call past the mean, or an idle slot, what the spread gives the next slot', () => {
    // Not "now" for the whole overrun: a polling caller would ask every second.
    const overrun = estimateInputs(HOUR, ranFor(2 * HOUR), pace(1), NOW);
    expect(queueWaitMs(1, overrun)).toBe(HOUR);
    expect(queueWaitMs(2, overrun)).toBe(2 * HOUR);
    const overrunOfFour = estimateInputs(HOUR, ranFor(2 * HOUR, 0, 0, 0), pace(4), NOW);
    expect(queueWaitMs(1, overrunOfFour)).toBe(15 * MINUTE);
    // One slot idle (a rate limit or a tenant's cap holds the queue).
    const idle = estimateInputs(HOUR, ranFor(50 * MINUTE), pace(2), NOW);
    expect([1, 2, 3].map((position) => queueWaitMs(position, idle))).toEqual([
      10 * MINUTE,
      30 * MINUTE,
      70 * MINUTE,
    ]);
  });

  it('with more calls in flight than slots, the first to end free none', () => {
    // Instances on one Redis started with other caps: 3 calls, 2 slots.
    const inputs = estimateInputs(HOUR, ranFor(59 * MINUTE, 58 * MINUTE, 1), pace(2), NOW);
    expect(queueWaitMs(1, inputs)).toBe(2 * MINUTE);
    expect(queueWaitMs(2, inputs)).toBe(HOUR - 1);
  });

  it('spreads the mean over the slots when the calls in flight are not known', () => {
    const inputs = estimateInputs(HOUR, null, pace(4), NOW);
    expect(queueWaitMs(2, inputs)).toBe(30 * MINUTE);
  });

  it('without a mean: the oldest call’s age spread over the slots, else a second', () => {
    expect(queueWaitMs(2, estimateInputs(null, ranFor(40_000, 10_000), pace(4), NOW))).toBe(20_000);
    expect(queueWaitMs(3, estimateInputs(null, [], pace(3), NOW))).toBe(1_000);
  });

  it('never faster than the rate limit lets calls start', () => {
    const inputs = estimateInputs(100, ranFor(50), pace(10, 0.5), NOW);
    expect(queueWaitMs(3, inputs)).toBe(6_000);
  });

  it.each([
    { calls: 0, slots: 3 },
    { calls: 5, slots: 8 },
    { calls: 40, slots: 40 },
    { calls: 300, slots: 50 },
    { calls: 2_000, slots: 2_000 },
  ])(
    'agrees with sorting every call, $calls calls under $slots slots, in any order',
    ({ calls, slots }) => {
      const random = seededRandom(calls + slots);
      const meanMs = 60_000;
      // Some calls past the mean, some just started, ties among them and with a slot left
      // idle (a call that frees its slot as the spread would), some in fractions of a ms.
      const ages = Array.from({ length: calls }, (_, n) =>
        n % 5 === 0
          ? meanMs - meanMs / slots
          : Math.floor(random() * 40) * 3_000 + (n % 2) * random(),
      );
      const longestFirst = [...ages].sort((a, b) => b - a);
      for (const order of [longestFirst, ages]) {
        const inputs = estimateInputs(meanMs, ranFor(...order), pace(slots), NOW);
        const waits = queueWaits(inputs);
        for (const position of [1, 2, slots, slots + 1, 3 * slots + 7]) {
          expect(waits(position)).toBe(bySorting(position, inputs));
        }
      }
    },
  );

  it('gives Retry-After in whole seconds, rounded up, within its bounds', () => {
    expect(retryAfterSeconds(1, 1, 30)).toBe(1);
    expect(retryAfterSeconds(2_001, 1, 30)).toBe(3);
    expect(retryAfterSeconds(53 * MINUTE, 1, 3_600)).toBe(3_180);
    expect(retryAfterSeconds(5 * HOUR, 1, 3_600)).toBe(3_600);
  });
});
