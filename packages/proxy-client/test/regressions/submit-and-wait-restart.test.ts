import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProxyClient } from '../../src/index.js';
import { errorReply, makeTask, submitReply, TASK_ID, taskReply } from '../helpers/fixtures.js';
import { BASE_URL, createTestServer, useFakeClock } from '../helpers/test-server.js';

// A proxy stopping gracefully answers the submissions it holds (Prefer: wait) with their task
// ids, then goes away. submitAndWait's first read of that task came at once, found no proxy, and
// rejected with ProxyUnreachableError: every restart during a held submission failed the call,
// though the task was created and a durable proxy would have run it once back. The submission's
// answer is the task's first read: from there on, a proxy away for a while is waited out.

const server = createTestServer();
afterEach(() => {
  vi.useRealTimers();
});

async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.advanceTimersByTimeAsync(120_000);
  return outcome;
}

describe('submitAndWait when the proxy restarts while it holds the submission', () => {
  it('waits the restart out and resolves with the finished task', async () => {
    useFakeClock();
    server.on('post', '/api/x', submitReply());
    const reads = server.on(
      'get',
      '/task/:id',
      { network: true },
      errorReply(503, 'shutting_down'),
      { network: true },
      taskReply(makeTask({ status: 'completed' })),
    );
    const heard: string[] = [];
    const { value, error } = await settle(
      new ProxyClient({ baseUrl: BASE_URL, maxRetries: 0 }).submitAndWait(
        'x',
        {},
        {
          onOutage: (e) => heard.push(e === undefined ? 'back' : `away: ${e.code}`),
        },
      ),
    );
    expect(error).toBeUndefined();
    expect(value).toMatchObject({ task_id: TASK_ID, status: 'completed' });
    expect(reads.calls).toHaveLength(4);
    expect(heard).toEqual(['away: unreachable', 'back']);
  });

  it('run does the same', async () => {
    useFakeClock();
    server.on('post', '/api/x', submitReply());
    server.on('get', '/task/:id', { network: true }, taskReply(makeTask({ status: 'completed' })));
    const { value, error } = await settle(
      new ProxyClient({ baseUrl: BASE_URL, maxRetries: 0 }).run('x', {}),
    );
    expect(error).toBeUndefined();
    expect(value).toEqual(makeTask({ status: 'completed' }).result?.body);
  });

  it('waitForTask alone still rejects when its first read finds no proxy', async () => {
    server.on('get', '/task/:id', { network: true });
    const error = await new ProxyClient({ baseUrl: BASE_URL, maxRetries: 0 })
      .waitForTask(TASK_ID)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProxyUnreachableError' });
  });
});
