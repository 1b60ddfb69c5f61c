import { describe, expect, it } from 'vitest';
import { stopSummary } from '../src/proxy/stop-tally.js';

describe('stopSummary', () => {
  it.each([
    [{ ended: 0, interrupted: 0, requeued: 0 }, 'stopped: no call was in flight'],
    [
      { ended: 3, interrupted: 0, requeued: 0 },
      'stopped: 3 calls ended within the grace, 0 calls cut off',
    ],
    [
      { ended: 2, interrupted: 1998, requeued: 0 },
      'stopped: 2 calls ended within the grace, 1998 calls cut off (1998 ended interrupted)',
    ],
    [
      { ended: 1, interrupted: 1, requeued: 2 },
      'stopped: 1 call ended within the grace, 3 calls cut off (1 ended interrupted, 2 requeued)',
    ],
  ])('%j: %s', (tally, line) => {
    expect(stopSummary(tally, 0)).toBe(line);
  });

  it('says how many outcomes the store would not take, of calls it cannot tell ended or cut off', () => {
    expect(stopSummary({ ended: 0, interrupted: 0, requeued: 0 }, 2)).toBe(
      'stopped: the outcomes of 2 calls not saved',
    );
    expect(stopSummary({ ended: 0, interrupted: 0, requeued: 0 }, 1)).toBe(
      'stopped: the outcome of 1 call not saved',
    );
    expect(stopSummary({ ended: 1, interrupted: 0, requeued: 0 }, 1)).toBe(
      'stopped: 1 call ended within the grace, 0 calls cut off; the outcome of 1 more call not saved',
    );
    expect(stopSummary({ ended: 0, interrupted: 2, requeued: 0 }, 3)).toBe(
      'stopped: 0 calls ended within the grace, 2 calls cut off (2 ended interrupted); the outcomes of 3 more calls not saved',
    );
  });
});
