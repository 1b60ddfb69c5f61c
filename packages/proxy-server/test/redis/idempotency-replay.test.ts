import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { SubmitBody, Task } from 'proxy-client/wire';
import { type ProxyProcess, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { redisForTest, startInstances, targetForTest, taskOf } from './instances.js';

async function submit(proxy: ProxyProcess, path: string, key: string): Promise<string> {
  const response = await fetch(proxy.url + path, {
    method: 'POST',
    headers: { 'idempotency-key': key },
  });
  expect(response.status, path).toBe(202);
  return ((await response.json()) as SubmitBody).task_id;
}

/**
 * Takes task `id`'s job out of BullMQ's queue, leaving the task pending: the state an instance
 * leaves when it dies (kill -9, OOM) after the admission script wrote the task and before it
 * added the job. Its client never got the 202, and retries with the same key.
 */
async function dropJob(redisUrl: string, id: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  onTestFinished(() => {
    redis.disconnect();
  });
  const [taskKey] = await redis.keys(`*:task:${id}`);
  const prefix = taskKey?.slice(0, -`:task:${id}`.length) ?? '';
  const queue = new Queue('tasks', { connection: redis, prefix });
  expect(await queue.remove(id)).toBe(1);
  await queue.close();
}

describe('an Idempotency-Key replayed on another instance after the first died mid-admission', () => {
  it('runs the task it answers with, once, rather than leave it pending for good', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [a, b] = (await startInstances(2, redis, target, { cap: 1 })) as [
      ProxyProcess,
      ProxyProcess,
    ];
    // One slot, held: the keyed task waits in line, where its job can be taken away.
    const blockerResponse = await fetch(`${a.url}/api/long?seconds=30`, { method: 'POST' });
    const blocker = ((await blockerResponse.json()) as SubmitBody).task_id;
    await waitFor(() => target.stats().inFlight === 1, { what: 'the blocker to start' });

    const key = 'replayed-after-a-death';
    const id = await submit(a, '/api/text?text=once', key);
    await dropJob(redis.url, id);

    // The client's retry, sent by the load balancer to the other instance.
    expect(await submit(b, '/api/text?text=once', key)).toBe(id);
    await fetch(`${b.url}/task/${blocker}`, { method: 'DELETE' });

    let task: Task | undefined;
    await waitFor(
      async () => {
        task = await taskOf(b, id);
        return task.status !== 'pending' && task.status !== 'processing';
      },
      { what: `task ${id} to finish`, timeoutMs: 10_000 },
    );
    expect(task).toMatchObject({ status: 'completed', result: { body: 'once' } });
    // Replayed again once done: the same task, and no second call.
    expect(await submit(a, '/api/text?text=once', key)).toBe(id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(target.stats().byPath['/api/text']).toBe(1);
  });
});
