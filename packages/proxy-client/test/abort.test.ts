import { afterEach, describe, expect, it, vi } from 'vitest';
import { isProxyError, ProxyClient } from '../src/index.js';
import { errorReply, makeTask, TASK_ID, taskReply } from './helpers/fixtures.js';
import { simulateTask } from './helpers/simulated-task.js';
import { BASE_URL, createTestServer, useFakeClock } from './helpers/test-server.js';

const server = createTestServer();
const client = () => new ProxyClient({ baseUrl: BASE_URL });
afterEach(() => {
  vi.useRealTimers();
});

/** A route that never answers within the test, so a request stays in flight. */
function hang(method: 'get' | 'post', path: string) {
  return server.on(method, path, () => new Promise(() => {}));
}

/** Aborts `controller` once `route` has received `calls` requests. */
async function abortAfterCalls(
  controller: AbortController,
  route: { calls: unknown[] },
  calls: number,
  reason?: unknown,
) {
  await vi.waitFor(() => expect(route.calls.length).toBe(calls));
  controller.abort(reason);
}

describe('an aborted signal rejects with its own reason, never a ProxyError', () => {
  it('before the call: no request is made', async () => {
    const route = server.on('get', '/stats', { json: { success: true, data: {} } });
    const signal = AbortSignal.abort();
    const error = await client()
      .getStats({ signal })
      .catch((e: unknown) => e);
    expect(error).toBe(signal.reason);
    expect((error as Error).name).toBe('AbortError');
    expect(route.calls).toHaveLength(0);
  });

  it('during a request in flight', async () => {
    const route = hang('get', '/task/:id');
    const controller = new AbortController();
    const pending = client().getTask(TASK_ID, { signal: controller.signal });
    await abortAfterCalls(controller, route, 1);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    expect(isProxyError(error)).toBe(false);
  });

  it('with a reason of its own', async () => {
    const route = hang('post', '/api/x');
    const controller = new AbortController();
    const reason = new Error('user pressed ctrl-c');
    const pending = client().submitTask('x', {}, { signal: controller.signal });
    await abortAfterCalls(controller, route, 1, reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('between polls, and no poll follows', async () => {
    useFakeClock();
    const { route } = simulateTask(server, { durationMs: 60_000 });
    const controller = new AbortController();
    const pending = client()
      .waitForTask(TASK_ID, { signal: controller.signal, pollIntervalMs: 5000 })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(7000);
    expect(route.calls).toHaveLength(2);
    controller.abort();
    expect(await pending).toBe(controller.signal.reason);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(route.calls).toHaveLength(2);
  });

  it('during a waiting read, and the abort beats the wait timeout', async () => {
    useFakeClock();
    const { route } = simulateTask(server, { durationMs: 60_000, waitMaxSeconds: 30 });
    const controller = new AbortController();
    const pending = client()
      .waitForTask(TASK_ID, { signal: controller.signal, timeoutMs: 20_000 })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1000);
    expect(route.calls.map((call) => call.query.get('wait'))).toEqual([null, '20']);
    controller.abort();
    const error = await pending;
    expect(error).toBe(controller.signal.reason);
  });

  it('while waiting out a queue-full Retry-After', async () => {
    useFakeClock();
    const route = server.on(
      'post',
      '/api/x',
      errorReply(503, 'queue_full', { 'retry-after': '30' }),
    );
    const controller = new AbortController();
    const pending = client()
      .submitTask('x', {}, { signal: controller.signal, queueFullRetries: 5 })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    controller.abort();
    expect(await pending).toBe(controller.signal.reason);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(route.calls).toHaveLength(1);
  });

  it('during run, whether submitting or waiting', async () => {
    server.on('post', '/api/x', { status: 202, json: { success: true, task_id: TASK_ID } });
    const route = server.on('get', '/task/:id', taskReply(makeTask()));
    const controller = new AbortController();
    const pending = client().run('x', {}, { signal: controller.signal, pollIntervalMs: 60_000 });
    await abortAfterCalls(controller, route, 1);
    await expect(pending).rejects.toBe(controller.signal.reason);
  });
});
