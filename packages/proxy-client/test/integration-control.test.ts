import { existsSync } from 'node:fs';
import { type SlowTarget, startSlowTarget } from 'slow-target';
import { type ProxyProcess, proxyServerBin, spawnProxyServer, waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IdempotencyKeyReusedError,
  NoResultError,
  ProxyClient,
  type Task,
  type TaskChangeEvent,
  type TaskEvent,
  TaskFinishedError,
  TaskNotFinishedError,
} from '../src/index.js';

/**
 * Cancel, retry, idempotency keys, `Prefer: wait`, raw results and event streams, against the
 * real proxy-server (its built bin) in front of the real slow-target. Needs `pnpm build` first.
 */
let target: SlowTarget;
let proxy: ProxyProcess;
let client: ProxyClient;
const requested: string[] = [];

beforeAll(async () => {
  if (!existsSync(proxyServerBin)) {
    throw new Error(`${proxyServerBin} is missing: run \`pnpm build\` first`);
  }
  target = await startSlowTarget();
  // Two calls at a time: a long task can hold one slot while the others run.
  proxy = await spawnProxyServer({
    args: [
      '--target-url',
      target.url,
      '--log-level',
      'warn',
      '--shutdown-grace',
      '1',
      '--max-concurrent',
      '2',
      '--num-workers',
      '2',
      '--callback-allow',
      target.url,
      '--webhook-secret',
      `whsec_${Buffer.from('a secret of at least 24 bytes').toString('base64')}`,
    ],
  });
  client = new ProxyClient({
    baseUrl: proxy.url,
    hooks: {
      beforeRequest: [
        (request) => void requested.push(`${request.method} ${new URL(request.url).pathname}`),
      ],
    },
  });
});

afterAll(async () => {
  await proxy?.stop();
  await target?.close();
});

/** Fills both slots with long calls, so the next task stays pending; cancels them after. */
async function busy(): Promise<() => Promise<void>> {
  const blockers = await Promise.all(
    [1, 2].map(() => client.submitTask('long?seconds=60', undefined, { method: 'GET' })),
  );
  await waitFor(async () => target.stats().inFlight === 2, { what: 'both slots busy' });
  return async () => {
    await Promise.all(blockers.map((id) => client.cancelTask(id)));
  };
}

describe('cancelTask', () => {
  it('cancels a pending task and a processing one, whose call to the target is aborted', async () => {
    const release = await busy();
    const queued = await client.submitTask('function1', {});
    const cancelledPending = await client.cancelTask(queued);
    expect(cancelledPending).toMatchObject({
      task_id: queued,
      status: 'cancelled',
      started_at: null,
    });
    await release();
    await waitFor(async () => target.stats().inFlight === 0, {
      what: 'the target to see both calls closed',
    });

    const running = await client.submitTask('long?seconds=60', undefined, { method: 'GET' });
    await waitFor(async () => (await client.getTask(running)).status === 'processing', {
      what: 'the task to start',
    });
    expect((await client.cancelTask(running)).status).toBe('cancelled');
    await waitFor(async () => target.stats().inFlight === 0, { what: 'the call to be closed' });
    // Cancelling again is not an error.
    expect((await client.cancelTask(running)).status).toBe('cancelled');
  });

  it('refuses a task that finished otherwise, saying how it ended', async () => {
    const done = await client.submitAndWait('function1', {}, { timeoutMs: 10_000 });
    const error = await client.cancelTask(done.task_id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFinishedError);
    expect((error as TaskFinishedError).task?.status).toBe('completed');
  });
});

describe('retryTask', () => {
  it('runs a finished task again as a new task, linked both ways', async () => {
    const failed = await client.submitAndWait('fail?status=503', undefined, { method: 'GET' });
    expect(failed.status).toBe('failed');
    const again = await client.retryTask(failed.task_id, { waitMs: 10_000 });
    expect(again.taskId).not.toBe(failed.task_id);
    expect(again.task).toMatchObject({
      status: 'failed',
      retry_of: failed.task_id,
      path: failed.path,
    });
    expect((await client.getTask(failed.task_id)).retried_as).toBe(again.taskId);
  });

  it('refuses a task that has not finished', async () => {
    const release = await busy();
    const queued = await client.submitTask('function1', {});
    await expect(client.retryTask(queued)).rejects.toBeInstanceOf(TaskNotFinishedError);
    await client.cancelTask(queued);
    await release();
  });
});

describe('submissions', () => {
  it('one idempotency key, one task; the same key on another request is refused', async () => {
    const key = `order-${Date.now()}`;
    const first = await client.submit('function1', { n: 1 }, { idempotencyKey: key });
    const again = await client.submit('function1', { n: 1 }, { idempotencyKey: key });
    expect(again).toMatchObject({ taskId: first.taskId, replayed: true, idempotencyKey: key });
    expect(first.replayed).toBe(false);
    const error = await client
      .submit('function1', { n: 2 }, { idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(error).toMatchObject({ status: 422, idempotencyKey: key });
  });

  it('submitAndWait: a quick task in one request, a slower one held then waited for', async () => {
    requested.length = 0;
    const quick = await client.submitAndWait('function1', { delay_ms: 50 });
    expect(quick.status).toBe('completed');
    expect(requested).toEqual(['POST /api/function1']);

    const slow = await client.submit('function1', { delay_ms: 2500 }, { waitMs: 1000 });
    expect(slow.task).toBeUndefined();
    expect(['pending', 'processing']).toContain(slow.status);
    expect((await client.waitForTask(slow.taskId, { timeoutMs: 10_000 })).status).toBe('completed');
  });

  it('the proxy keeps its own headers from the target', async () => {
    const echoed = await client.run<{ headers: Record<string, string> }>('echo', 'x', {
      priority: 'low',
      callbackUrl: `${target.url}/api/echo`,
      idempotencyKey: `echo-${Date.now()}`,
      waitMs: 5000,
      headers: { 'x-request-id': 'r-1' },
    });
    expect(echoed.headers['x-request-id']).toBe('r-1');
    for (const name of ['x-proxy-priority', 'x-proxy-callback-url', 'idempotency-key', 'prefer']) {
      expect(echoed.headers).not.toHaveProperty(name);
    }
  });
});

describe('getResult', () => {
  it('replays binary bytes, a failed answer, and waits for an unfinished task', async () => {
    const binary = await client.submitAndWait('binary?bytes=300', undefined, { method: 'GET' });
    const bytes = await client.getResult(binary.task_id);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('content-type')).toBe('application/octet-stream');
    expect([...bytes.body]).toEqual(Array.from({ length: 300 }, (_, i) => i % 256));

    const failed = await client.submitAndWait('fail?status=500', undefined, { method: 'GET' });
    const answer = await client.getResult(failed.task_id);
    expect(answer).toMatchObject({ status: 500, ok: false });
    expect(answer.json()).toBeTypeOf('object');

    const later = await client.submitTask('text', undefined, {
      method: 'GET',
      query: { text: 'hello', delay_ms: 500 },
    });
    await expect(client.getResult(later)).rejects.toBeInstanceOf(TaskNotFinishedError);
    expect((await client.getResult(later, { waitMs: 10_000 })).text()).toBe('hello');
  });

  it('a task that ended without an answer has no result', async () => {
    const reset = await client.submitAndWait('reset', undefined, { method: 'GET' });
    await expect(client.getResult(reset.task_id)).rejects.toBeInstanceOf(NoResultError);
  });
});

describe('event streams', () => {
  it('watchTask: each status once, ending with the finished task and its result', async () => {
    const taskId = await client.submitTask('function1', { delay_ms: 800 });
    const seen: Task[] = [];
    for await (const task of client.watchTask(taskId)) seen.push(task);
    expect(seen.map((task) => task.status).slice(-2)).toEqual(['processing', 'completed']);
    expect(new Set(seen.map((task) => task.status)).size).toBe(seen.length);
    expect(seen.at(-1)?.result?.body).toMatchObject({ function: 'function1' });
  });

  it('watchEvents: a task created, started and finished; a filtered stream resumed', async () => {
    const controller = new AbortController();
    const { signal } = controller;
    const all: TaskEvent[] = [];
    const failedOnly: TaskEvent[] = [];
    const follow = async (into: TaskEvent[], iterator: AsyncIterable<TaskEvent>) => {
      for await (const event of iterator) into.push(event);
    };
    const watching = [follow(all, client.watchEvents({ signal }))];
    // Nothing says when a stream is connected but its first event: submit until one is seen.
    const seen = await waitFor(
      async () => {
        await client.submitTask('function1', {});
        return all.find((event): event is TaskChangeEvent => event.type === 'created');
      },
      { what: 'a first event' },
    );
    // Resumed after that event, a second stream cannot miss anything that follows.
    watching.push(
      follow(failedOnly, client.watchEvents({ status: 'failed', lastEventId: seen.id, signal })),
    );
    const taskId = await client.submitTask('fail?status=500', undefined, { method: 'GET' });
    const about = (events: TaskEvent[]) =>
      events.filter((e) => e.type !== 'reset' && e.task.task_id === taskId).map((e) => e.type);
    await waitFor(() => about(all).includes('finished') && about(failedOnly).includes('finished'), {
      what: 'the task to finish on both streams',
    });
    expect(about(all)).toEqual(['created', 'started', 'finished']);
    expect(about(failedOnly)).toEqual(['finished']);
    expect(failedOnly.every((e) => e.type === 'finished' && e.task.status === 'failed')).toBe(true);
    expect(all.every((e) => e.type !== 'reset' && typeof e.id === 'string')).toBe(true);
    controller.abort();
    await Promise.allSettled(watching);
  });
});
