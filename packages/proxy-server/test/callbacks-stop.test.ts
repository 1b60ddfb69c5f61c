import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { callbacksOn, dispatcherAnswering, idOf } from './callbacks-harness.js';

// Hostile receivers: every delivery left an entry on the process-long cut-off signal (Node 20
// never prunes AbortSignal.any's dependants); on the memory store a stop dropped the callbacks
// waiting for a retry without a word; a callback given up said nothing of why.

/** What a signal keeps of the signals composed from it (Node 20's AbortSignal.any). */
function dependantsOf(signal: AbortSignal): number {
  const symbol = Object.getOwnPropertySymbols(signal).find(
    (s) => s.description === 'kDependantSignals',
  );
  const set = symbol
    ? (signal as unknown as Record<symbol, Set<unknown> | undefined>)[symbol]
    : undefined;
  return set?.size ?? 0;
}

describe('callback deliveries and the process-long cut-off signal', () => {
  it('leave nothing on it once they are over', async () => {
    const deliveries = 200;
    const { clock, settled, cutOff } = await callbacksOn(
      'sqlite',
      deliveries,
      dispatcherAnswering([]).dispatcher,
    );
    const listenersBefore = getEventListeners(cutOff, 'abort').length;
    clock.advance(0);
    await vi.waitFor(() => expect(settled).toHaveLength(deliveries));
    expect(dependantsOf(cutOff)).toBe(0);
    expect(getEventListeners(cutOff, 'abort')).toHaveLength(listenersBefore);
  });
});

describe('a callback given up', () => {
  it('says how its last delivery went', async () => {
    const { clock, warnings } = await callbacksOn(
      'sqlite',
      1,
      dispatcherAnswering([500, 503]).dispatcher,
    );
    clock.advance(0);
    await vi.waitFor(() => {
      clock.advance(1_000);
      expect(warnings).toHaveLength(1);
    });
    expect(warnings[0]).toEqual({
      fields: {
        taskId: idOf(0),
        url: 'http://127.0.0.1:9/hook',
        attempts: 2,
        lastOutcome: 'answered 503',
      },
      message: 'callback given up',
    });
  });
});

describe('a stop on the memory store, which keeps nothing past the process', () => {
  it('gives up, counted and said, a callback waiting for a retry due after the grace', async () => {
    const { callbacks, clock, warnings, settled, saved } = await callbacksOn(
      'memory',
      1,
      dispatcherAnswering([500]).dispatcher,
    );
    clock.advance(0);
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    await vi.waitFor(() => expect(callbacks.underWay).toBe(0));
    // The retry is due in 1 s; the grace is over before, so the stop's line does not count it.
    expect([callbacks.waitingRetries(500), callbacks.waitingRetries(1_000)]).toEqual([0, 1]);
    await callbacks.stop(500);
    expect(settled).toEqual([false]);
    expect(warnings).toEqual([
      {
        fields: { callbacks: 1 },
        message: '1 callback given up undelivered: the memory store keeps nothing past the process',
      },
    ]);
  });

  // Hostile pass: a second signal's line counted a retry waiting in the grace as a delivery
  // under way, and the first line did not count it at all.
  it('counts a callback waiting for a retry apart from the deliveries under way', async () => {
    const answers = dispatcherAnswering([500]);
    const { callbacks, clock } = await callbacksOn('memory', 1, answers.dispatcher);
    clock.advance(0);
    await vi.waitFor(() => expect(answers.requests()).toBe(1));
    await vi.waitFor(() => expect(callbacks.underWay).toBe(0));
    expect(callbacks.waitingRetries(5_000)).toBe(1);
    const stopped = callbacks.stop(5_000);
    await vi.waitFor(() => expect(callbacks.waitingRetries(5_000)).toBe(1));
    expect(callbacks.underWay).toBe(0);
    clock.advance(1_000);
    await stopped;
    expect(answers.requests()).toBe(2);
    expect(callbacks.waitingRetries(5_000)).toBe(0);
  });

  it('makes the retries due within the grace', async () => {
    const answers = dispatcherAnswering([500]);
    const { callbacks, clock, warnings, settled } = await callbacksOn(
      'memory',
      1,
      answers.dispatcher,
    );
    clock.advance(0);
    await vi.waitFor(() => expect(answers.requests()).toBe(1));
    await vi.waitFor(() => expect(callbacks.underWay).toBe(0));
    const stopped = callbacks.stop(5_000);
    await vi.waitFor(() => {
      clock.advance(1_000);
      expect(settled).toEqual([true]);
    });
    await stopped;
    expect(answers.requests()).toBe(2);
    expect(warnings).toEqual([]);
  });

  // Given up but still counted pending in /stats and /metrics until the process exited.
  it('saves each callback it gives up as given up, when it gives it up', async () => {
    const answers = dispatcherAnswering([500, 'hang']);
    const { callbacks, clock, saved, settled } = await callbacksOn('memory', 2, answers.dispatcher);
    clock.advance(0);
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    await vi.waitFor(() => expect(answers.requests()).toBe(2));
    // The retry is due after the grace: given up at once, while the stop waits for the other.
    const stopped = callbacks.stop(500);
    await vi.waitFor(() => expect(settled).toEqual([false]));
    expect(saved.map(({ state }) => state)).toEqual(['pending', 'failed']);
    clock.advance(500);
    await stopped;
    expect(saved.map(({ state }) => state)).toEqual(['pending', 'failed', 'failed']);
    expect(saved.at(-1)?.nextAt).toBeNull();
  });

  it('gives up a delivery cut off at the end of the grace', async () => {
    const answers = dispatcherAnswering(['hang', 'hang']);
    const { callbacks, clock, warnings, settled } = await callbacksOn(
      'memory',
      2,
      answers.dispatcher,
    );
    clock.advance(0);
    await vi.waitFor(() => expect(answers.requests()).toBe(2));
    const stopped = callbacks.stop(200);
    clock.advance(200);
    await stopped;
    expect(settled).toEqual([false, false]);
    expect(warnings.map((warning) => warning.message)).toEqual([
      '2 callbacks given up undelivered: the memory store keeps nothing past the process',
    ]);
  });
});

describe('a stop on a store that outlives the process', () => {
  it('leaves a callback waiting for a retry due, unsaid, for the next start', async () => {
    const { callbacks, clock, warnings, settled, saved } = await callbacksOn(
      'sqlite',
      1,
      dispatcherAnswering([500]).dispatcher,
    );
    clock.advance(0);
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    await vi.waitFor(() => expect(callbacks.underWay).toBe(0));
    // Nothing for a stop to make or give up: the next start delivers it.
    expect(callbacks.waitingRetries(5_000)).toBe(0);
    await callbacks.stop(5_000);
    expect(saved.at(-1)?.state).toBe('pending');
    expect(settled).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
