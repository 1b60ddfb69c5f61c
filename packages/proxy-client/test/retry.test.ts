import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ProxyClient,
  ProxyResponseError,
  ProxyUnreachableError,
  QueueFullError,
} from '../src/index.js';
import { dataReply, errorReply, submitReply, TASK_ID } from './helpers/fixtures.js';
import { BASE_URL, createTestServer, useFakeClock } from './helpers/test-server.js';

const server = createTestServer();
afterEach(() => {
  vi.useRealTimers();
});

/** Runs `promise` to its end under fake timers, advancing time far enough for every retry. */
async function settle<T>(promise: Promise<T>, ms = 120_000): Promise<T> {
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.advanceTimersByTimeAsync(ms);
  const result = await outcome;
  if ('error' in result) throw result.error;
  return result.value;
}

const offsets = (calls: { at: number }[]) => calls.map((call) => call.at - calls[0]!.at);

describe('reads', () => {
  it('retry network errors and 5xx twice by default, with backoff, then succeed', async () => {
    useFakeClock();
    const route = server.on(
      'get',
      '/stats',
      { network: true },
      errorReply(502, 'bad_gateway'),
      dataReply({ ok: 1 }),
    );
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    expect(await settle(proxy.getStats())).toEqual({ ok: 1 });
    expect(offsets(route.calls)).toEqual([0, 300, 900]);
  });

  it('give up after maxRetries retries with the last error', async () => {
    useFakeClock();
    const route = server.on('get', '/task/:id', { network: true });
    const proxy = new ProxyClient({ baseUrl: BASE_URL, maxRetries: 3 });
    await expect(settle(proxy.getTask(TASK_ID))).rejects.toBeInstanceOf(ProxyUnreachableError);
    expect(route.calls).toHaveLength(4);
  });

  it('are not retried with maxRetries 0', async () => {
    const route = server.on('get', '/stats', errorReply(500, 'internal_error'));
    const proxy = new ProxyClient({ baseUrl: BASE_URL, maxRetries: 0 });
    await expect(proxy.getStats()).rejects.toBeInstanceOf(ProxyResponseError);
    expect(route.calls).toHaveLength(1);
  });

  it.each([
    [400, 'invalid_query'],
    [401, 'unauthorized'],
    [404, 'task_not_found'],
    [503, 'queue_full'],
  ])('are not retried on %i %s', async (status, code) => {
    const route = server.on('get', '/task/:id', errorReply(status, code));
    await expect(new ProxyClient({ baseUrl: BASE_URL }).getTask(TASK_ID)).rejects.toMatchObject({
      code,
    });
    expect(route.calls).toHaveLength(1);
  });

  it('are not retried after a request timeout', async () => {
    const route = server.on('get', '/stats', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return dataReply({});
    });
    const proxy = new ProxyClient({ baseUrl: BASE_URL, timeoutMs: 20 });
    await expect(proxy.getStats()).rejects.toMatchObject({ code: 'response_timeout' });
    expect(route.calls).toHaveLength(1);
  });

  it('cleanup (an idempotent DELETE) is retried like a read', async () => {
    useFakeClock();
    const route = server.on(
      'delete',
      '/tasks/cleanup',
      { network: true },
      dataReply({ removed: 1 }),
    );
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    expect(await settle(proxy.cleanupTasks())).toEqual({ removed: 1 });
    expect(route.calls).toHaveLength(2);
  });
});

describe('submissions', () => {
  it.each([
    ['a network error', { network: true } as const, [0, 300, 900]],
    ['a 500', errorReply(500, 'internal_error'), [0, 300, 900]],
    [
      'a 503 shutting_down, after its Retry-After',
      errorReply(503, 'shutting_down', { 'retry-after': '1' }),
      [0, 1000, 2000],
    ],
  ])(
    'are retried after %s with one idempotency key, so no second task can come of it',
    async (_, reply, at) => {
      useFakeClock();
      const route = server.on('post', '/api/x', reply, reply, submitReply());
      const proxy = new ProxyClient({ baseUrl: BASE_URL });
      expect(await settle(proxy.submitTask('x', { n: 1 }))).toBe(TASK_ID);
      expect(offsets(route.calls)).toEqual(at);
      const keys = route.calls.map((call) => call.headers.get('idempotency-key'));
      expect(keys[0]).toMatch(/^"proxy-client-[0-9a-f-]{36}"$/);
      expect(new Set(keys).size).toBe(1);
      expect(route.calls.map((call) => call.body)).toEqual(Array(3).fill('{"n":1}'));
    },
  );

  it("make a new key per call, and keep the caller's", async () => {
    const route = server.on('post', '/api/x', submitReply());
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    await proxy.submitTask('x');
    await proxy.submitTask('x');
    await proxy.submitTask('x', undefined, { idempotencyKey: 'order-42' });
    await proxy.submitTask('x', undefined, { headers: { 'Idempotency-Key': 'order-43' } });
    const keys = route.calls.map((call) => call.headers.get('idempotency-key'));
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys.slice(2)).toEqual(['"order-42"', '"order-43"']);
  });

  it('send no key and are never retried after a failure when retries are off', async () => {
    const route = server.on('post', '/api/x', { network: true });
    const proxy = new ProxyClient({ baseUrl: BASE_URL, maxRetries: 0 });
    await expect(proxy.submitTask('x', {})).rejects.toBeInstanceOf(ProxyUnreachableError);
    expect(route.calls).toHaveLength(1);
    expect(route.calls[0]!.headers.has('idempotency-key')).toBe(false);
  });

  it('give up after maxRetries with the last error, counted apart from queue-full retries', async () => {
    useFakeClock();
    const full = errorReply(503, 'queue_full', { 'retry-after': '1' });
    const route = server.on(
      'post',
      '/api/x',
      full,
      { network: true },
      full,
      errorReply(502, 'bad_gateway'),
    );
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    const error = await settle(
      proxy.submitTask('x', {}, { maxRetries: 1, queueFullRetries: 2 }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProxyResponseError', code: 'http_502' });
    expect(route.calls).toHaveLength(4);
  });

  it('are not retried after a 4xx or a request timeout', async () => {
    const route = server.on('post', '/api/x', errorReply(413, 'payload_too_large'));
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    await expect(proxy.submitTask('x', {})).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(route.calls).toHaveLength(1);
    const slow = server.on('post', '/api/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return submitReply();
    });
    await expect(proxy.submitTask('slow', {}, { timeoutMs: 20 })).rejects.toMatchObject({
      code: 'response_timeout',
    });
    expect(slow.calls).toHaveLength(1);
  });

  // A tenant's share of the queue (--tenant-max-queued) full is a full queue for that caller.
  it.each(['queue_full', 'tenant_queue_full'])(
    'are not retried on %s unless asked',
    async (code) => {
      const route = server.on('post', '/api/x', errorReply(503, code, { 'retry-after': '1' }));
      const error = await new ProxyClient({ baseUrl: BASE_URL }).submitTask('x').catch((e) => e);
      expect(error).toBeInstanceOf(QueueFullError);
      expect(route.calls).toHaveLength(1);
    },
  );

  it.each(['queue_full', 'tenant_queue_full'])(
    'retry %s when asked, waiting exactly Retry-After each time',
    async (code) => {
      useFakeClock();
      const full = errorReply(503, code, { 'retry-after': '3' });
      const route = server.on('patch', '/api/x', full, full, submitReply());
      const proxy = new ProxyClient({ baseUrl: BASE_URL });
      const taskId = await settle(
        proxy.submitTask('x', { n: 1 }, { method: 'PATCH', queueFullRetries: 2 }),
      );
      expect(taskId).toBe(TASK_ID);
      expect(offsets(route.calls)).toEqual([0, 3000, 6000]);
      expect(route.calls.map((call) => call.body)).toEqual(Array(3).fill('{"n":1}'));
    },
  );

  // Infinity is ky's own default: a Retry-After waited in full.
  it.each([
    [5000, 5000],
    [Infinity, 3_600_000],
  ])(
    'cap an hour-long Retry-After at maxRetryAfterMs %s: the retry after %i ms',
    async (maxRetryAfterMs, waitedMs) => {
      useFakeClock();
      const route = server.on(
        'post',
        '/api/x',
        errorReply(503, 'queue_full', { 'retry-after': '3600' }),
        submitReply(),
      );
      const proxy = new ProxyClient({ baseUrl: BASE_URL });
      await settle(
        proxy.submitTask('x', {}, { queueFullRetries: 1, maxRetryAfterMs }),
        waitedMs + 100_000,
      );
      expect(offsets(route.calls)).toEqual([0, waitedMs]);
    },
  );

  it('end with the last QueueFullError once the retries are spent', async () => {
    useFakeClock();
    const route = server.on(
      'post',
      '/api/x',
      errorReply(503, 'queue_full', { 'retry-after': '1' }),
      errorReply(503, 'queue_full', { 'retry-after': '2' }),
    );
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    const error = await settle(proxy.submitTask('x', {}, { queueFullRetries: 1 })).catch((e) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error).toMatchObject({ retryAfter: 2 });
    expect(route.calls).toHaveLength(2);
  });

  it('refuse a retry count that is not a whole number', async () => {
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    await expect(proxy.submitTask('x', {}, { queueFullRetries: Infinity })).rejects.toThrow(
      RangeError,
    );
    await expect(proxy.submitTask('x', {}, { queueFullRetries: -1 })).rejects.toThrow(RangeError);
  });

  it('refuse a maxRetryAfterMs that is no number of milliseconds, before sending', async () => {
    const route = server.on('post', '/api/x', submitReply());
    const proxy = new ProxyClient({ baseUrl: BASE_URL });
    const options = (maxRetryAfterMs: unknown) =>
      ({ queueFullRetries: 1, maxRetryAfterMs }) as { maxRetryAfterMs: number };
    await expect(proxy.submitTask('x', {}, options('5000'))).rejects.toThrow(
      new TypeError('maxRetryAfterMs must be a number of milliseconds, got the string "5000"'),
    );
    for (const bad of [-1, Number.NaN, -Infinity]) {
      await expect(proxy.submitTask('x', {}, options(bad))).rejects.toThrow(
        new RangeError(
          `maxRetryAfterMs must be a number of milliseconds, 0 or more (Infinity for no cap), got ${bad}`,
        ),
      );
      await expect(proxy.retryTask(TASK_ID, options(bad))).rejects.toThrow(RangeError);
    }
    expect(route.calls).toHaveLength(0);
  });
});
