import { describe, expect, it } from 'vitest';
import { MemoryTaskStore, type TaskOutcome } from '../src/index.js';
import {
  binaryStringOf,
  bytesOf,
  packHeaders,
  unpackHeaders,
} from '../src/tasks/stored-request.js';

const completed: TaskOutcome = { status: 'completed', result: null, error: null };
const failed: TaskOutcome = {
  status: 'failed',
  result: null,
  error: { code: 'upstream_refused', message: 'x' },
};

async function storeWith(count: number) {
  const store = new MemoryTaskStore();
  for (let i = 0; i < count; i++) {
    await store.create({
      id: `t${i}`,
      method: 'GET',
      path: `/api/${i}`,
      createdAt: 1_000 + i,
      queueSeq: i,
      headers: packHeaders(['x-n', String(i)]),
      body: i % 2 === 0 ? binaryStringOf([Buffer.from([i, 0, 255])]) : null,
    });
  }
  return store;
}

const ids = (tasks: { id: string }[]) => tasks.map((task) => task.id);

describe('MemoryTaskStore', () => {
  it('pages newest first from either end of the list', async () => {
    const store = await storeWith(10);
    expect(ids((await store.list({ limit: 3, offset: 0 })).tasks)).toEqual(['t9', 't8', 't7']);
    expect(ids((await store.list({ limit: 3, offset: 8 })).tasks)).toEqual(['t1', 't0']);
    expect(ids((await store.list({ limit: 2, offset: 6 })).tasks)).toEqual(['t3', 't2']);
    expect((await store.list({ limit: 5, offset: 10 })).tasks).toEqual([]);
    expect((await store.list({ limit: 5, offset: 0 })).total).toBe(10);
  });

  it('keeps counts and per-status lists in step with every transition', async () => {
    const store = await storeWith(4);
    await store.claim('t0', 2_000);
    await store.claim('t1', 2_001);
    await store.finish('t0', completed, 3_000);
    await store.finish('t1', failed, 3_001);
    await store.claim('t2', 2_002);
    await store.markLong('t2');
    expect(await store.counts()).toEqual({
      pending: 1,
      processing: 1,
      completed: 1,
      failed: 1,
      total: 4,
      long: 1,
    });
    expect(ids((await store.list({ status: 'pending', limit: 10, offset: 0 })).tasks)).toEqual([
      't3',
    ]);
    expect(ids((await store.list({ status: 'failed', limit: 10, offset: 0 })).tasks)).toEqual([
      't1',
    ]);
    const t2 = await store.get('t2');
    expect(t2).toMatchObject({ status: 'processing', startedAt: 2_002, attempts: 1, isLong: true });
  });

  it('hands a pending task’s request over once and forgets it; the task stays pending', async () => {
    const store = await storeWith(3);
    const request = await store.takeRequest('t2');
    expect(request && { ...request, headers: unpackHeaders(request.headers) }).toEqual({
      method: 'GET',
      path: '/api/2',
      headers: ['x-n', '2'],
      body: request?.body,
    });
    expect(request?.body && [...bytesOf(request.body)]).toEqual([2, 0, 255]);
    expect(await store.takeRequest('t2')).toBeUndefined();
    expect(await store.get('t2')).toMatchObject({ status: 'pending', attempts: 0 });
    await store.finish('t1', failed, 7);
    expect(await store.takeRequest('t1')).toBeUndefined();
  });

  it('claims a pending task once, with or without its request taken', async () => {
    const store = await storeWith(3);
    await store.takeRequest('t2');
    expect(await store.claim('t2', 5)).toBe(true);
    expect(await store.claim('t2', 6)).toBe(false);
    expect(await store.get('t2')).toMatchObject({
      status: 'processing',
      startedAt: 5,
      attempts: 1,
    });
    await store.finish('t1', failed, 7);
    expect(await store.claim('t1', 8)).toBe(false);
    expect(await store.claim('t0', 9)).toBe(true);
  });

  it('finishes a task once: a second finish changes nothing', async () => {
    const store = await storeWith(1);
    await store.finish('t0', completed, 5_000);
    await store.finish('t0', failed, 6_000);
    expect(await store.get('t0')).toMatchObject({ status: 'completed', completedAt: 5_000 });
  });

  it('removes only finished tasks completed at or before the cutoff, oldest first', async () => {
    const store = await storeWith(5);
    await store.finish('t0', completed, 100);
    await store.finish('t1', failed, 200);
    await store.finish('t2', completed, 300);
    await store.claim('t3', 50);
    await store.markLong('t3');
    expect(await store.removeFinishedBefore(200)).toBe(2);
    expect(await store.get('t0')).toBeUndefined();
    expect(await store.get('t2')).toBeDefined();
    expect(await store.counts()).toEqual({
      pending: 1,
      processing: 1,
      completed: 1,
      failed: 0,
      total: 3,
      long: 1,
    });
    expect(ids((await store.list({ limit: 10, offset: 0 })).tasks)).toEqual(['t4', 't3', 't2']);
  });

  it('calls finish listeners once, and not after unsubscribing', async () => {
    const store = await storeWith(2);
    const seen: string[] = [];
    store.onFinished('t0', (task) => seen.push(`a:${task.status}`));
    const off = store.onFinished('t1', () => seen.push('b'));
    off();
    await store.finish('t0', completed, 1);
    await store.finish('t1', completed, 1);
    await store.finish('t0', failed, 2);
    expect(seen).toEqual(['a:completed']);
  });

  it('answers a page and the counts without walking the whole store', async () => {
    const store = await storeWith(200_000);
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      await store.list({ limit: 100, offset: 0 });
      await store.list({ limit: 100, offset: 199_900 });
      await store.counts();
    }
    // 300 operations over 200k tasks; a scan per call would take seconds.
    expect(performance.now() - started).toBeLessThan(250);
  });
});
