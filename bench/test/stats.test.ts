import { describe, expect, it } from 'vitest';
import { median, percentile, spreadPct, summarize } from '../src/stats.mjs';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it.each([
    [50, 50],
    [99, 99],
    [100, 100],
    [1, 1],
    [0.5, 1],
  ])('p%s of 1..100 is %s', (p, expected) => {
    expect(percentile(hundred, p)).toBe(expected);
  });

  it('answers a value that was observed, whatever the order', () => {
    expect(percentile([9, 1, 5, 3, 7], 50)).toBe(5);
    expect(percentile([9, 1, 5, 3, 7], 99)).toBe(9);
    expect(percentile([2.5], 99)).toBe(2.5);
  });

  it('refuses an empty list, a non-finite value and a percentile out of range', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(/finite/);
    expect(() => percentile([1], 0)).toThrow(/range/);
    expect(() => percentile([1], 101)).toThrow(/range/);
  });
});

describe('median', () => {
  it('is the middle value of an odd count and the mean of the two middle ones of an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('spreadPct', () => {
  it('is the range relative to the median, in percent', () => {
    expect(spreadPct([90, 100, 110])).toBeCloseTo(20);
    expect(spreadPct([5, 5, 5])).toBe(0);
  });

  it('is infinite when values differ around a zero median', () => {
    expect(spreadPct([-1, 0, 1])).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('summarize', () => {
  it('gives count, median, extremes and spread', () => {
    expect(summarize([12, 10, 11])).toEqual({
      n: 3,
      median: 11,
      min: 10,
      max: 12,
      spreadPct: (2 / 11) * 100,
    });
  });
});
