import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, systemClock } from '../src/clock.js';

// Node fires a timer set past 2^31-1 ms after 1 ms, with a warning: a task's X-Proxy-Timeout of a
// month failed its call at once. Vitest's fake timers behave as Node does there.
afterEach(() => {
  vi.useRealTimers();
});

describe('the system clock', () => {
  it('waits out a delay past the longest timer Node sets, in several', () => {
    vi.useFakeTimers();
    let fired = 0;
    systemClock.setTimeout(() => fired++, MAX_TIMER_MS + 1_000);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(999);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
  });

  it('clears such a delay whichever of its timers is waiting', () => {
    vi.useFakeTimers();
    let fired = 0;
    const timer = systemClock.setTimeout(() => fired++, 2 * MAX_TIMER_MS + 5);
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    systemClock.clearTimeout(timer);
    vi.advanceTimersByTime(2 * MAX_TIMER_MS);
    expect(fired).toBe(0);
  });
});
