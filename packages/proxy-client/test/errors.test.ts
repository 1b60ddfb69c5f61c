import { HTTPError, TimeoutError } from 'ky';
import { describe, expect, it } from 'vitest';
import {
  isProxyError,
  isProxyResponseError,
  isProxyUnreachableError,
  isQueueFullError,
  isTaskFailedError,
  isTaskNotFoundError,
  isUnauthorizedError,
  isWaitTimeoutError,
  ProxyClient,
  ProxyError,
  ProxyResponseError,
  ProxyUnreachableError,
  QueueFullError,
  TaskFailedError,
  TaskNotFoundError,
  UnauthorizedError,
  WaitTimeoutError,
} from '../src/index.js';
import { errorReply, makeTask, TASK_ID } from './helpers/fixtures.js';
import { BASE_URL, createTestServer } from './helpers/test-server.js';

const server = createTestServer();
const client = (options = {}) => new ProxyClient({ baseUrl: BASE_URL, maxRetries: 0, ...options });

describe('errors from the proxy answers', () => {
  it("503 tenant_queue_full (the tenant's share of the queue) is a QueueFullError too", async () => {
    server.on('post', '/api/x', errorReply(503, 'tenant_queue_full', { 'retry-after': '3' }));
    const error = await client()
      .submitTask('x', {})
      .catch((e: unknown) => e);
    expect(isQueueFullError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'tenant_queue_full', status: 503, retryAfterMs: 3000 });
  });

  it('503 queue_full is a QueueFullError with Retry-After in milliseconds', async () => {
    server.on('post', '/api/x', errorReply(503, 'queue_full', { 'retry-after': '7' }));
    const error = await client()
      .submitTask('x', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({
      code: 'queue_full',
      status: 503,
      retryAfterMs: 7000,
      method: 'POST',
    });
    // The deprecated seconds getter stays until callers have moved to retryAfterMs.
    expect((error as QueueFullError).retryAfter).toBe(7);
    expect((error as QueueFullError).headers?.get('retry-after')).toBe('7');
    expect((error as QueueFullError).url).toBe(`${BASE_URL}/api/x`);
    expect((error as Error).message).toBe(
      `the proxy says queue_full (POST ${BASE_URL}/api/x answered 503)`,
    );
    expect((error as Error).cause).toBeInstanceOf(HTTPError);
  });

  it('reads an HTTP-date Retry-After, and leaves retryAfterMs undefined without one', async () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    server.on(
      'post',
      '/api/x',
      errorReply(503, 'queue_full', { 'retry-after': inTenSeconds }),
      errorReply(503, 'queue_full'),
    );
    const dated = (await client()
      .submitTask('x')
      .catch((e: unknown) => e)) as QueueFullError;
    expect(dated.retryAfterMs).toBeGreaterThan(8000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(10_000);
    const bare = (await client()
      .submitTask('x')
      .catch((e: unknown) => e)) as QueueFullError;
    expect(bare.retryAfterMs).toBeUndefined();
  });

  it.each([
    [404, 'task_not_found'],
    [400, 'invalid_task_id'],
  ])('%i %s is a TaskNotFoundError naming the task', async (status, code) => {
    server.on('get', '/task/:id', errorReply(status, code));
    const error = await client()
      .getTask(TASK_ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskNotFoundError);
    expect(error).toMatchObject({ code, status, taskId: TASK_ID });
  });

  it('401 is an UnauthorizedError, envelope or not', async () => {
    server.on('get', '/stats', errorReply(401, 'unauthorized'), { status: 401, text: 'no' });
    for (let i = 0; i < 2; i += 1) {
      const error = await client()
        .getStats()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect(error).toMatchObject({ code: 'unauthorized', status: 401 });
    }
  });

  it.each([
    [413, 'payload_too_large'],
    [400, 'bad_request'],
    [503, 'shutting_down'],
    [500, 'internal_error'],
  ])('%i %s is a ProxyResponseError with the envelope code', async (status, code) => {
    server.on('post', '/api/x', errorReply(status, code));
    const error = await client()
      .submitTask('x', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyResponseError);
    expect(error).toMatchObject({ code, status, message: expect.stringContaining(code) });
  });

  it('a non-2xx answer without an envelope gets code http_<status>', async () => {
    server.on('get', '/stats', { status: 418, text: "I'm a teapot" });
    const error = await client()
      .getStats()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyResponseError);
    expect(error).toMatchObject({ code: 'http_418', status: 418 });
    expect((error as Error).message).toBe(
      `GET ${BASE_URL}/stats answered 418, without a proxy-server error envelope; is the base URL a proxy-server?`,
    );
  });
});

describe('errors without an answer', () => {
  it('a network failure is a ProxyUnreachableError with the URL and the cause', async () => {
    server.on('get', '/health', { network: true });
    const error = await client()
      .health()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyUnreachableError);
    expect(error).toMatchObject({ code: 'unreachable', url: `${BASE_URL}/health` });
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('a URL of kilobytes is shortened in the message, and kept whole on the error', async () => {
    const id = 'a'.repeat(17_000);
    server.on('get', '/task/:id', { network: true });
    server.on('delete', '/task/:id', errorReply(400, 'bad_request'));
    for (const call of [() => client().getTask(id), () => client().cancelTask(id)]) {
      const error = (await call().catch((e: unknown) => e)) as ProxyError;
      expect(error.url).toBe(`${BASE_URL}/task/${id}`);
      expect(error.message.length).toBeLessThan(400);
      expect(error.message).toContain(`${BASE_URL}/task/aaa`);
      expect(error.message).toContain('…(16863 characters)…');
    }
  });

  it('no answer within timeoutMs is a ProxyUnreachableError with code response_timeout', async () => {
    server.on('get', '/stats', async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return { json: { success: true, data: {} } };
    });
    const error = await client({ timeoutMs: 50 })
      .getStats()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyUnreachableError);
    expect(error).toMatchObject({ code: 'response_timeout' });
    expect((error as Error).cause).toBeInstanceOf(TimeoutError);
  });

  it('errors thrown by a hook pass through untouched', async () => {
    server.on('get', '/stats', { json: { success: true, data: {} } });
    const mine = new Error('hook says no');
    const proxy = client({ hooks: { beforeRequest: [() => Promise.reject(mine)] } });
    await expect(proxy.getStats()).rejects.toBe(mine);
  });
});

describe('classes and guards', () => {
  const task = makeTask({
    status: 'failed',
    error: { code: 'upstream_refused', message: 'refused' },
  });
  const samples = [
    [new QueueFullError('full', 3), isQueueFullError, 'queue_full'],
    [new TaskNotFoundError(TASK_ID, 'gone'), isTaskNotFoundError, 'task_not_found'],
    [new TaskFailedError(task), isTaskFailedError, 'task_failed'],
    [new WaitTimeoutError(TASK_ID, 1000, task), isWaitTimeoutError, 'wait_timeout'],
    [new UnauthorizedError('who?'), isUnauthorizedError, 'unauthorized'],
    [new ProxyUnreachableError('http://x', 'down'), isProxyUnreachableError, 'unreachable'],
    [
      new ProxyResponseError('bad_request', 'bad', { status: 400, headers: new Headers() }),
      isProxyResponseError,
      'bad_request',
    ],
  ] as const;

  it.each(samples)('%s has its code, its guard, and is a ProxyError', (error, guard, code) => {
    expect(error.code).toBe(code);
    expect(guard(error)).toBe(true);
    expect(isProxyError(error)).toBe(true);
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(new RegExp(`^${error.name}: `));
    for (const [other, otherGuard] of samples) {
      if (other !== error) expect(otherGuard(error)).toBe(false);
    }
  });

  it('guards recognise errors from another copy of the package', () => {
    // What a second copy (the CJS build beside the ESM one, or another version) would throw:
    // a different class, the same registered symbol and name.
    class ForeignError extends Error {
      override name = 'QueueFullError';
      code = 'queue_full';
      retryAfterMs = 2000;
    }
    const foreign = new ForeignError('full');
    Object.defineProperty(foreign, Symbol.for('proxy-client.ProxyError'), { value: true });
    expect(foreign).not.toBeInstanceOf(ProxyError);
    expect(isProxyError(foreign)).toBe(true);
    expect(isQueueFullError(foreign)).toBe(true);
    expect(isTaskNotFoundError(foreign)).toBe(false);
  });

  it('guards refuse look-alikes without the marker', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'QueueFullError', code: 'queue_full' });
    expect(isProxyError(lookalike)).toBe(false);
    expect(isQueueFullError(lookalike)).toBe(false);
    expect(isProxyError(null)).toBe(false);
    expect(isProxyError('QueueFullError')).toBe(false);
  });

  it('messages say what happened', () => {
    expect(new TaskFailedError(task).message).toBe(
      `Task ${TASK_ID} (POST /api/function1) failed: refused (upstream_refused)`,
    );
    expect(new WaitTimeoutError(TASK_ID, 1500, makeTask()).message).toBe(
      `Task ${TASK_ID} did not finish within 1500 ms; it was pending`,
    );
    // SDK pass: a proxy that took the read and never answered read as a task that runs long.
    expect(new WaitTimeoutError(TASK_ID, 1500, undefined).message).toBe(
      `Task ${TASK_ID} did not finish within 1500 ms; no read of it succeeded in that time, so whether it exists is unknown`,
    );
    expect(new WaitTimeoutError(TASK_ID, 1500, undefined, true).message).toBe(
      `Task ${TASK_ID} did not finish within 1500 ms; the proxy took it, but no read of it succeeded in that time`,
    );
  });
});
