import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { SubmitBody, Task } from 'proxy-client/wire';
import { type ProxyProcess, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { EXPIRED, recoverDeadInstances } from '../../src/engine/redis/recovery.js';
import { RedisKeys } from '../../src/engine/redis/redis-keys.js';
import { LuaTaskStore } from '../../src/engine/redis/task-store.js';
import {
  holdingGateForTest,
  instanceLauncher,
  redisForTest,
  startInstances,
  statsOf,
  targetForTest,
  taskOf,
} from './instances.js';

/**
 * The proxy's own task store on the test's Redis, under the prefix the instances use (found by
 * the task's key), as another instance would hold it; closed after the test.
 */
async function storeBeside(redisUrl: string, id: string, instance: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  onTestFinished(() => {
    redis.disconnect();
  });
  const [taskKey] = await redis.keys(`*:task:${id}`);
  const keys = new RedisKeys(taskKey?.slice(0, -`:task:${id}`.length) ?? '');
  return { redis, keys, store: new LuaTaskStore(redis, keys, instance, 10_000) };
}

/**
 * Does what an instance's wake timer does when a retry falls due (the wake script hands the
 * task to it) and then dies before adding the job: kill -9 or an OOM between the two writes.
 * The script is the proxy's own, run from here, so the state left is exactly a dead instance's.
 */
async function claimAndDie(redisUrl: string, id: string, at: number): Promise<void> {
  const { redis, store } = await storeBeside(redisUrl, id, 'a-dying-instance');
  const { due } = await store.wake(at, EXPIRED, null);
  expect(due.map((task) => task.id)).toEqual([id]);
  redis.disconnect();
}

/**
 * What an instance paused past its hand-out's lease does when it wakes: it adds the job for the
 * attempt another instance has already run, and a worker starts it. Run from here with the
 * proxy's own script and a lock of its own, as BullMQ's worker would hold one.
 */
async function startLateJob(redisUrl: string, id: string) {
  const { redis, keys, store } = await storeBeside(redisUrl, id, 'a-paused-instance');
  await redis.set(keys.jobLock(id), 'late-token');
  return store.start(
    id,
    Date.now(),
    'late-token',
    { maxRequeues: 0, interrupted: '{}', pastMaxRequeues: '{}', expired: EXPIRED },
    null,
  );
}

/** The task once it has ended, however it ended. */
async function endedTask(proxy: ProxyProcess, id: string): Promise<Task> {
  let task: Task | undefined;
  await waitFor(
    async () => {
      task = await taskOf(proxy, id);
      return task.status === 'completed' || task.status === 'failed';
    },
    { what: `task ${id} to run its second attempt`, timeoutMs: 30_000, intervalMs: 250 },
  );
  return task as Task;
}

describe('a retry handed to an instance that dies before it queues it', () => {
  it('is queued by a surviving instance within a bounded time', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [a, b] = (await startInstances(2, redis, target, {
      cap: 2,
      extra: ['--retry-on', '503', '--max-attempts', '3'],
    })) as [ProxyProcess, ProxyProcess];
    const response = await fetch(`${a.url}/api/flaky?key=handoff&plan=503@3,200`, {
      method: 'POST',
    });
    expect(response.status).toBe(202);
    const id = ((await response.json()) as SubmitBody).task_id;
    const waiting = await waitFor(
      async () => {
        const task = await taskOf(b, id);
        return task.next_attempt_at !== null ? task : null;
      },
      { what: `task ${id} to wait for its second attempt` },
    );
    // Due in about three seconds: claimed now, as the first instance to wake would at that time.
    await claimAndDie(redis.url, id, Date.parse(waiting.next_attempt_at as string));

    expect(await endedTask(b, id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(target.stats().byPath['/api/flaky']).toBe(2);
    const stats = await statsOf(a);
    expect(stats.tasks).toMatchObject({ pending: 0, processing: 0, completed: 1, total: 1 });
    expect(stats.delivery.retrying).toBe(0);
  });

  // Review: an instance paused past the lease added its job after another instance's attempt had
  // failed again and the task waited for its next one: the job started that attempt at once.
  it('is not started early by a job added late for an earlier hand-out', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [a] = (await startInstances(1, redis, target, {
      cap: 2,
      extra: ['--retry-on', '503', '--max-attempts', '3'],
    })) as [ProxyProcess];
    const response = await fetch(`${a.url}/api/flaky?key=late&plan=503@3,200`, {
      method: 'POST',
    });
    const id = ((await response.json()) as SubmitBody).task_id;
    await waitFor(async () => (await taskOf(a, id)).next_attempt_at !== null, {
      what: `task ${id} to wait for its second attempt`,
    });
    expect(await startLateJob(redis.url, id)).toEqual({ kind: 'finished' });
    expect(await taskOf(a, id)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(await endedTask(a, id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(target.stats().byPath['/api/flaky']).toBe(2);
  });
});

/**
 * Runs an instance's start-up recovery with the proxy's own code, the instance dying (kill -9, an
 * OOM) after it took a recovered task's job out of BullMQ's queue and before it added it again.
 */
async function recoverAndDie(redisUrl: string, id: string): Promise<void> {
  const { redis, keys, store } = await storeBeside(redisUrl, id, 'a-recovering-instance');
  const queue = new Queue(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  onTestFinished(() => queue.close());
  const dying = {
    remove: (jobId: string) => queue.remove(jobId),
    add: () => Promise.reject(new Error('killed before adding the job')),
  } as unknown as Queue;
  await expect(
    recoverDeadInstances(store, dying, {
      maxRequeues: 3,
      now: Date.now(),
      promote: async () => {},
    }),
  ).rejects.toThrow('killed before adding the job');
}

describe('a task put back in line by an instance that dies inside its start-up recovery', () => {
  it('is queued by an instance already running within a bounded time', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const gate = await holdingGateForTest(target);
    const launch = instanceLauncher(redis, gate, { cap: 1, extra: ['--requeue-interrupted'] });
    const victim = await launch();
    const response = await fetch(`${victim.url}/api/text?text=recovered&hold=1`, {
      method: 'POST',
    });
    const id = ((await response.json()) as SubmitBody).task_id;
    await waitFor(() => gate.held() === 1, { what: `task ${id}'s call to reach the target` });
    await victim.stop('SIGKILL');
    await waitFor(() => gate.inFlight() === 0, { what: 'the dead instance’s call to close' });
    gate.release();
    // Started while the dead call's lease still runs: its own recovery leaves the task alone.
    const survivor = await launch();
    expect(await taskOf(survivor, id)).toMatchObject({ status: 'processing' });

    // The lease run out, as BullMQ's lock does 15 s after the death.
    const { redis: commands, keys } = await storeBeside(redis.url, id, 'a-clock');
    await commands.del(keys.jobLock(id));
    await recoverAndDie(redis.url, id);
    expect(await taskOf(survivor, id)).toMatchObject({ status: 'pending' });

    expect(await endedTask(survivor, id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(target.stats().byPath['/api/text']).toBe(1);
  });
});
