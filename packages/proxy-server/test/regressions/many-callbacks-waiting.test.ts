import { expect, it, onTestFinished, vi } from 'vitest';
import { callbacksOn, dispatcherAnswering } from '../callbacks-harness.js';

// Monitoring pass: with more than ten callbacks waiting for a retry at once (a receiver down),
// the proxy wrote Node's "MaxListenersExceededWarning: Possible EventTarget memory leak" on
// stderr: each waits on the stop's one signal, as many as there are, and none leaks.

it('twenty callbacks waiting for a retry at once raise no listener warning', async () => {
  const warnings: Error[] = [];
  const heard = (warning: Error) => warnings.push(warning);
  process.on('warning', heard);
  onTestFinished(() => {
    process.off('warning', heard);
  });
  const due = 20;
  const { clock, infos, cutOff } = await callbacksOn(
    'memory',
    due,
    dispatcherAnswering(Array(due).fill(503)).dispatcher,
    { maxAttempts: 3 },
  );
  clock.advance(0);
  await vi.waitFor(() => expect(infos).toHaveLength(due));
  // A warning is emitted on the next tick: one macrotask later it would have been heard.
  await new Promise((resolve) => setImmediate(resolve));
  expect(warnings.map((warning) => warning.name)).toEqual([]);
  expect(cutOff.aborted).toBe(false);
});
