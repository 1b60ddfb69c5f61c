import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../src/forwarding/worker-pool.js';

/** A pool over an array of items whose processing the test ends by hand. */
function poolOver(items: number[], numWorkers: number, concurrency: number) {
  const queue = [...items];
  const running = new Map<number, () => void>();
  const done: number[] = [];
  const aborted: number[] = [];
  let maxRunning = 0;
  const pool = new WorkerPool<number>({
    numWorkers,
    concurrency,
    take: () => queue.shift(),
    process: (item, signal) =>
      new Promise<void>((resolve) => {
        running.set(item, () => {
          running.delete(item);
          done.push(item);
          resolve();
        });
        maxRunning = Math.max(maxRunning, running.size);
        signal.addEventListener('abort', () => {
          if (!running.delete(item)) return;
          aborted.push(item);
          resolve();
        });
      }),
    onError: () => {},
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { pool, queue, running, done, aborted, settle, maxRunning: () => maxRunning };
}

describe('WorkerPool', () => {
  it.each([
    [1, 4, 1],
    [4, 2, 2],
    [3, 3, 3],
  ])(
    'with %i loops and concurrency %i runs at most %i at once',
    async (loops, concurrency, cap) => {
      const t = poolOver([1, 2, 3, 4, 5, 6, 7, 8], loops, concurrency);
      while (t.done.length < 8) {
        await t.settle();
        expect(t.running.size).toBeLessThanOrEqual(cap);
        for (const finish of [...t.running.values()]) finish();
      }
      expect(t.maxRunning()).toBe(cap);
      expect(t.done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      await t.pool.close(0);
    },
  );

  it('wakes an idle loop when work arrives', async () => {
    const t = poolOver([], 2, 2);
    await t.settle();
    t.queue.push(9);
    t.pool.notify();
    await t.settle();
    expect([...t.running.keys()]).toEqual([9]);
    t.running.get(9)?.();
    await t.pool.close(0);
  });

  it('close waits for active work within the grace, then aborts the rest; twice is the same close', async () => {
    const t = poolOver([1, 2], 2, 2);
    await t.settle();
    const closing = t.pool.close(50);
    expect(t.pool.close(0)).toBe(closing);
    t.running.get(1)?.();
    await closing;
    expect(t.done).toEqual([1]);
    expect(t.aborted).toEqual([2]);
    expect(t.pool.active).toBe(0);
  });

  it('takes nothing after close', async () => {
    const t = poolOver([], 1, 1);
    await t.settle();
    await t.pool.close(0);
    t.queue.push(1);
    t.pool.notify();
    await t.settle();
    expect(t.running.size).toBe(0);
  });
});
