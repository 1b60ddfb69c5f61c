import { describe, expect, it } from 'vitest';
import { cutOffLine, graceLine } from '../src/proxy/stop-lines.js';

// Hostile pass on the memory store: a callback waiting for a retry, which a stop makes within
// its grace or gives up, went unsaid in the first line, and a second signal called it "a
// callback delivery" under way.

describe('graceLine', () => {
  it.each([
    [{ callsHere: 0, deliveriesHere: 0, retriesHere: 0 }, 'no call in flight'],
    [{ callsHere: 2, deliveriesHere: 0, retriesHere: 0 }, '2 calls in flight get up to 30 s'],
    [
      { callsHere: 0, deliveriesHere: 1, retriesHere: 0 },
      'no call in flight; 1 callback delivery gets up to 30 s',
    ],
    [
      { callsHere: 2, deliveriesHere: 1, retriesHere: 0 },
      '2 calls in flight and 1 callback delivery get up to 30 s',
    ],
    [
      { callsHere: 0, deliveriesHere: 0, retriesHere: 1 },
      'no call in flight; 1 callback waiting for a retry gets up to 30 s',
    ],
    [
      { callsHere: 1, deliveriesHere: 2, retriesHere: 3 },
      '1 call in flight, 2 callback deliveries and 3 callbacks waiting for a retry get up to 30 s',
    ],
  ])('%j: %s', (here, line) => {
    expect(graceLine(here, 30_000)).toBe(line.replace(/30 s$/, '30 s (--shutdown-grace)'));
  });
});

describe('cutOffLine', () => {
  it.each([
    [{ callsHere: 0, deliveriesHere: 0, retriesHere: 0 }, 'exiting now'],
    [
      { callsHere: 3, deliveriesHere: 1, retriesHere: 0 },
      'exiting now, 3 calls in flight and 1 callback delivery cut off',
    ],
    [
      { callsHere: 0, deliveriesHere: 0, retriesHere: 1 },
      'exiting now, 1 callback waiting for a retry cut off',
    ],
  ])('%j: %s', (here, line) => {
    expect(cutOffLine(here)).toBe(line);
  });
});
