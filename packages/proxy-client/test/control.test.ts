import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isNoResultError,
  isTaskFinishedError,
  isTaskNotFinishedError,
  ProxyClient,
  TaskFinishedError,
} from '../src/index.js';
import {
  dataReply,
  errorReply,
  makeTask,
  submitReply,
  TASK_ID,
  taskReply,
} from './helpers/fixtures.js';
import { BASE_URL, createTestServer, useFakeClock } from './helpers/test-server.js';

const server = createTestServer();
const client = () => new ProxyClient({ baseUrl: BASE_URL });
afterEach(() => {
  vi.useRealTimers();
});

const NEW_ID = '7d4f2c1e-1111-4d8f-9b59-3f6b6f0c2a22';

describe('cancelTask', () => {
  it('sends DELETE /task/:id and answers the cancelled task', async () => {
    const cancelled = makeTask({ status: 'cancelled' });
    const route = server.on('delete', '/task/:id', dataReply(cancelled));
    expect(await client().cancelTask(TASK_ID)).toEqual(cancelled);
    expect(route.calls[0]!.path).toBe(`/task/${TASK_ID}`);
  });

  it('a task that finished otherwise: TaskFinishedError carrying the task as it ended', async () => {
    server.on('delete', '/task/:id', errorReply(409, 'task_finished'));
    const completed = makeTask({ status: 'completed' });
    server.on('get', '/task/:id', taskReply(completed));
    const error = await client()
      .cancelTask(TASK_ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFinishedError);
    expect(isTaskFinishedError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'task_finished',
      status: 409,
      taskId: TASK_ID,
      task: completed,
    });
  });

  it('a task cancelled already resolves with it: cancelling is idempotent', async () => {
    server.on('delete', '/task/:id', errorReply(409, 'task_finished'));
    const cancelled = makeTask({ status: 'cancelled' });
    server.on('get', '/task/:id', taskReply(cancelled));
    expect(await client().cancelTask(TASK_ID)).toEqual(cancelled);
  });

  it('is retried like a read: a lost answer, then 409, still resolves', async () => {
    useFakeClock();
    const route = server.on(
      'delete',
      '/task/:id',
      { network: true },
      errorReply(409, 'task_finished'),
    );
    server.on('get', '/task/:id', taskReply(makeTask({ status: 'cancelled' })));
    const outcome = client().cancelTask(TASK_ID);
    await vi.advanceTimersByTimeAsync(1000);
    expect((await outcome).status).toBe('cancelled');
    expect(route.calls).toHaveLength(2);
  });

  it('an unknown task is TaskNotFoundError; an empty id a TypeError', async () => {
    server.on('delete', '/task/:id', errorReply(404, 'task_not_found'));
    await expect(client().cancelTask(TASK_ID)).rejects.toMatchObject({
      name: 'TaskNotFoundError',
      taskId: TASK_ID,
    });
    await expect(client().cancelTask('')).rejects.toThrow(TypeError);
  });
});

describe('retryTask', () => {
  it('posts /task/:id/retry and answers the new task', async () => {
    const route = server.on('post', '/task/:id/retry', submitReply(NEW_ID));
    const submission = await client().retryTask(TASK_ID);
    expect(route.calls[0]!.path).toBe(`/task/${TASK_ID}/retry`);
    expect(route.calls[0]!.body).toBe('');
    expect(submission).toEqual({
      taskId: NEW_ID,
      status: 'pending',
      task: undefined,
      replayed: false,
      idempotencyKey: undefined,
    });
  });

  it('with waitMs, the finished new task', async () => {
    const done = makeTask({ task_id: NEW_ID, status: 'completed', retry_of: TASK_ID });
    const route = server.on('post', '/task/:id/retry', {
      status: 200,
      json: { success: true, data: done },
    });
    const submission = await client().retryTask(TASK_ID, { waitMs: 10_000 });
    expect(route.calls[0]!.headers.get('prefer')).toBe('wait=10');
    expect(submission.task).toEqual(done);
  });

  it('an unfinished task: TaskNotFinishedError', async () => {
    server.on('post', '/task/:id/retry', errorReply(409, 'task_not_finished'));
    const error = await client()
      .retryTask(TASK_ID)
      .catch((e: unknown) => e);
    expect(isTaskNotFinishedError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'task_not_finished', taskId: TASK_ID, status: 409 });
  });

  it('is never repeated after a network error or a 5xx: that would run the task again', async () => {
    const route = server.on('post', '/task/:id/retry', { network: true });
    await expect(client().retryTask(TASK_ID)).rejects.toMatchObject({ code: 'unreachable' });
    const failing = server.on('post', '/task/:id/retry', errorReply(500, 'internal_error'));
    await expect(client().retryTask(TASK_ID)).rejects.toMatchObject({ code: 'internal_error' });
    expect([route.calls.length, failing.calls.length]).toEqual([1, 1]);
  });

  it('waits out a full queue only when asked', async () => {
    useFakeClock();
    const full = errorReply(503, 'queue_full', { 'retry-after': '2' });
    const route = server.on('post', '/task/:id/retry', full, submitReply(NEW_ID));
    const outcome = client().retryTask(TASK_ID, { queueFullRetries: 1 });
    await vi.advanceTimersByTimeAsync(2000);
    expect((await outcome).taskId).toBe(NEW_ID);
    expect(route.calls.map((call) => call.at - route.calls[0]!.at)).toEqual([0, 2000]);
  });
});

describe('getResult', () => {
  const replayed = (status: number, body: Uint8Array, headers: Record<string, string> = {}) => ({
    status,
    bytes: body,
    headers: { 'x-proxy-task-id': TASK_ID, ...headers },
  });

  it('the target answer as it was sent: status, headers, bytes, text() and json()', async () => {
    const body = new TextEncoder().encode('{"rows":3}');
    const route = server.on(
      'get',
      '/task/:id/result',
      replayed(200, body, { 'content-type': 'application/json' }),
    );
    const result = await client().getResult(TASK_ID);
    expect(route.calls[0]!.path).toBe(`/task/${TASK_ID}/result`);
    expect(route.calls[0]!.url.search).toBe('');
    expect(result).toMatchObject({ taskId: TASK_ID, status: 200, ok: true, body });
    expect(result.headers.get('content-type')).toBe('application/json');
    expect(result.text()).toBe('{"rows":3}');
    expect(result.json<{ rows: number }>().rows).toBe(3);
  });

  it('binary bytes come back whole', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    server.on(
      'get',
      '/task/:id/result',
      replayed(200, bytes, { 'content-type': 'application/octet-stream' }),
    );
    expect([...(await client().getResult(TASK_ID)).body]).toEqual([...bytes]);
  });

  it("a target's 500 is the answer, not an error, and is not retried", async () => {
    const route = server.on(
      'get',
      '/task/:id/result',
      replayed(500, new TextEncoder().encode('boom')),
    );
    const result = await client().getResult(TASK_ID);
    expect(result).toMatchObject({ status: 500, ok: false });
    expect(result.text()).toBe('boom');
    expect(route.calls).toHaveLength(1);
  });

  it('a replayed redirect is not followed', async () => {
    server.on(
      'get',
      '/task/:id/result',
      replayed(302, new Uint8Array(), { location: `${BASE_URL}/elsewhere` }),
    );
    const result = await client().getResult(TASK_ID);
    expect(result.status).toBe(302);
    expect(result.headers.get('location')).toBe(`${BASE_URL}/elsewhere`);
  });

  // Browser pass: a browser's fetch hides that redirect ("opaqueredirect", status 0), and the
  // error told the caller to set baseUrl to the proxy's own URL, which it was.
  it('a replayed redirect a browser hides says to read it with getTask', async () => {
    const opaqueRedirect = () =>
      Object.defineProperties(new Response(null), {
        type: { value: 'opaqueredirect' },
        status: { value: 0 },
        ok: { value: false },
      });
    const inABrowser = new ProxyClient({
      baseUrl: BASE_URL,
      maxRetries: 0,
      fetch: async () => opaqueRedirect(),
    });
    const error = await inABrowser.getResult(TASK_ID).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProxyResponseError', status: 0 });
    expect((error as Error).message).toBe(
      `GET ${BASE_URL}/task/${TASK_ID}/result answered 0, a redirect the browser hides from scripts, most likely the target's own answer: read it with getTask, whose result has its status_code and headers (Location among them)`,
    );
    const stats = await inABrowser.getStats().catch((e: unknown) => e);
    expect((stats as Error).message).toMatch(/a redirect; .* set baseUrl to the proxy's own URL$/);
  });

  it('unfinished: TaskNotFinishedError; finished without an answer: NoResultError', async () => {
    server.on(
      'get',
      '/task/:id/result',
      errorReply(409, 'task_not_finished'),
      errorReply(404, 'no_result'),
    );
    await expect(client().getResult(TASK_ID)).rejects.toMatchObject({
      name: 'TaskNotFinishedError',
      taskId: TASK_ID,
    });
    const error = await client()
      .getResult(TASK_ID)
      .catch((e: unknown) => e);
    expect(isNoResultError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'no_result', status: 404, taskId: TASK_ID });
  });

  it('waitMs holds reads of at most 60 s until the task has finished', async () => {
    useFakeClock();
    const route = server.on(
      'get',
      '/task/:id/result',
      async (call) => {
        await new Promise((resolve) => setTimeout(resolve, Number(call.query.get('wait')) * 1000));
        return errorReply(409, 'task_not_finished');
      },
      replayed(200, new TextEncoder().encode('done')),
    );
    const outcome = client().getResult(TASK_ID, { waitMs: 90_000 });
    await vi.advanceTimersByTimeAsync(61_000);
    expect((await outcome).text()).toBe('done');
    expect(route.calls.map((call) => call.query.get('wait'))).toEqual(['60', '30']);
  });

  it('a held read refused at once (502) is asked again holding as long, maxRetries times', async () => {
    const route = server.on(
      'get',
      '/task/:id/result',
      errorReply(502, 'http_502'),
      replayed(200, new TextEncoder().encode('done')),
    );
    const result = await client().getResult(TASK_ID, { waitMs: 90_000 });
    expect(result.text()).toBe('done');
    expect(route.calls.map((call) => call.query.get('wait'))).toEqual(['60', '60']);
    server.on('get', '/task/:id/result', errorReply(502, 'http_502'));
    await expect(
      client().getResult(TASK_ID, { waitMs: 90_000, maxRetries: 0 }),
    ).rejects.toMatchObject({ status: 502 });
  });

  it('waitMs running out ends with TaskNotFinishedError', async () => {
    useFakeClock();
    const route = server.on('get', '/task/:id/result', async (call) => {
      await new Promise((resolve) => setTimeout(resolve, Number(call.query.get('wait')) * 1000));
      return errorReply(409, 'task_not_finished');
    });
    const outcome = client()
      .getResult(TASK_ID, { wait: 2000 })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(3000);
    expect(await outcome).toMatchObject({ code: 'task_not_finished' });
    expect(route.calls.map((call) => call.query.get('wait'))).toEqual(['2']);
  });

  it('a 2xx without the replay header is not a proxy-server result', async () => {
    server.on('get', '/task/:id/result', { text: 'hello' });
    await expect(client().getResult(TASK_ID)).rejects.toMatchObject({ code: 'invalid_response' });
  });
});
