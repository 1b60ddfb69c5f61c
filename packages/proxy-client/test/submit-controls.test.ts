import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProxyClient, TaskFailedError } from '../src/index.js';
import { errorReply, makeTask, submitReply, TASK_ID, taskReply } from './helpers/fixtures.js';
import { BASE_URL, createTestServer, useFakeClock } from './helpers/test-server.js';

const server = createTestServer();
const client = () => new ProxyClient({ baseUrl: BASE_URL });
afterEach(() => {
  vi.useRealTimers();
});

const finished = makeTask({ status: 'completed' });
/** The answer of `Prefer: wait=N` when the task finished in time. */
const finishedReply = {
  status: 200,
  json: { success: true, data: finished },
  headers: { 'preference-applied': 'wait=5' },
};

describe('submit: the whole answer', () => {
  it('a new task: its id, pending, no task, not a replay, and the key it sent', async () => {
    server.on('post', '/api/x', submitReply());
    const submission = await client().submit('x', { a: 1 });
    expect(submission).toEqual({
      taskId: TASK_ID,
      status: 'pending',
      task: undefined,
      replayed: false,
      idempotencyKey: expect.stringMatching(/^proxy-client-/),
    });
  });

  it('an idempotent replay: the existing task and its status now', async () => {
    const replay = submitReply();
    server.on('post', '/api/x', {
      ...replay,
      json: { ...(replay.json as object), status: 'processing' },
      headers: { ...replay.headers, 'idempotent-replayed': 'true' },
    });
    const submission = await client().submit('x', {}, { idempotencyKey: 'k-1' });
    expect(submission).toMatchObject({
      status: 'processing',
      replayed: true,
      idempotencyKey: 'k-1',
    });
  });

  it('waitMs asks Prefer: wait=N in whole seconds, and a 200 carries the finished task', async () => {
    const route = server.on('post', '/api/x', finishedReply);
    const submission = await client().submit('x', {}, { waitMs: 4500 });
    expect(route.calls[0]!.headers.get('prefer')).toBe('wait=5');
    expect(submission).toMatchObject({ taskId: TASK_ID, status: 'completed', task: finished });
  });

  it("waitMs joins the caller's own Prefer, which the proxy forwards, whatever its case", async () => {
    const route = server.on('post', '/api/x', finishedReply);
    await client().submit('x', {}, { waitMs: 5000, headers: { Prefer: 'return=minimal' } });
    expect(route.calls[0]!.headers.get('prefer')).toBe('wait=5, return=minimal');
    await client().submit('x', {}, { waitMs: 5000, headers: { prefer: 'count=exact' } });
    expect(route.calls[1]!.headers.get('prefer')).toBe('wait=5, count=exact');
    await client().submit('x', {}, { headers: { PREFER: 'count=exact' } });
    expect(route.calls[2]!.headers.get('prefer')).toBe('count=exact');
    // The proxy honours the first wait: the one the SDK allows time for.
    await client().submit('x', {}, { waitMs: 1000, headers: { Prefer: 'wait=10' } });
    expect(route.calls[3]!.headers.get('prefer')).toBe('wait=1, wait=10');
    await client().submit('x', {}, { waitMs: 1000, headers: { Prefer: ' ' } });
    expect(route.calls[4]!.headers.get('prefer')).toBe('wait=1');
  });

  it('wait is the contract spelling of waitMs, and the hold is capped at 60 s', async () => {
    const route = server.on('post', '/api/x', submitReply());
    await client().submitTask('x', {}, { wait: 90_000 });
    expect(route.calls[0]!.headers.get('prefer')).toBe('wait=60');
    await client().submitTask('x', {}, { waitMs: 0 });
    expect(route.calls[1]!.headers.has('prefer')).toBe(false);
  });

  it('submitTask still answers the id when the task finished within the wait', async () => {
    server.on('post', '/api/x', finishedReply);
    expect(await client().submitTask('x', {}, { wait: 5000 })).toBe(TASK_ID);
  });

  it('priority and callbackUrl go as the proxy headers, never as body or query', async () => {
    const route = server.on('post', '/api/x', submitReply());
    await client().submitTask(
      'x',
      { a: 1 },
      {
        priority: 'high',
        callbackUrl: 'https://hooks.example.com/done?src=proxy',
      },
    );
    const { headers, url } = route.calls[0]!;
    expect(headers.get('x-proxy-priority')).toBe('high');
    expect(headers.get('x-proxy-callback-url')).toBe('https://hooks.example.com/done?src=proxy');
    expect(url.search).toBe('');
  });

  it('maxAttempts, maxQueueTimeMs and upstreamTimeoutMs go as the proxy headers, in seconds', async () => {
    const route = server.on('post', '/api/x', submitReply());
    await client().submitTask(
      'x',
      {},
      { maxAttempts: 5, maxQueueTimeMs: 90_000, upstreamTimeoutMs: 2500 },
    );
    const { headers } = route.calls[0]!;
    expect(headers.get('x-proxy-max-attempts')).toBe('5');
    expect(headers.get('x-proxy-max-queue-time')).toBe('90');
    expect(headers.get('x-proxy-timeout')).toBe('2.5');
  });

  it('submitAndWait sends the per-task limits on the submission only', async () => {
    const submit = server.on('post', '/api/x', submitReply());
    const read = server.on('get', '/task/:id', taskReply(finished));
    await client().submitAndWait('x', {}, { maxAttempts: 2, maxQueueTimeMs: 1000 });
    expect(submit.calls[0]!.headers.get('x-proxy-max-attempts')).toBe('2');
    expect(read.calls[0]!.headers.has('x-proxy-max-attempts')).toBe(false);
    expect(read.calls[0]!.headers.has('x-proxy-max-queue-time')).toBe(false);
  });

  it.each([
    [{ maxAttempts: 0 }, /maxAttempts must be a whole number, 1 or more, got 0/],
    [{ maxAttempts: 1.5 }, /maxAttempts must be a whole number/],
    [
      { maxQueueTimeMs: 0 },
      /maxQueueTimeMs must be a number of milliseconds from 1 to 31536000000 \(a year\), got 0/,
    ],
    [
      { upstreamTimeoutMs: 366 * 86_400_000 },
      /upstreamTimeoutMs must be a number of milliseconds from 1 to/,
    ],
    [{ upstreamTimeoutMs: Number.NaN }, /upstreamTimeoutMs must be a number of milliseconds/],
    [{ priority: 'urgent' }, /priority must be one of high, normal, low, got "urgent"/],
    [{ callbackUrl: '/relative' }, /callbackUrl must be an absolute http:\/\/ or https:\/\/ URL/],
    [{ callbackUrl: 'ftp://x/y' }, /callbackUrl must be an http:\/\/ or https:\/\/ URL/],
    [{ idempotencyKey: '' }, /idempotencyKey must be 1 to 255 printable ASCII/],
    [{ idempotencyKey: 'x'.repeat(256) }, /idempotencyKey must be 1 to 255/],
    [{ idempotencyKey: 'naïve' }, /idempotencyKey must be/],
    [{ idempotencyKey: 'a"b' }, /without '"'/],
  ])('refuses %j before any request', async (options, message) => {
    await expect(client().submitTask('x', {}, options as never)).rejects.toThrow(message);
    expect(server.calls).toHaveLength(0);
  });

  // The proxy refused these (400 callback_not_allowed) where the SDK sent them: a fragment, an
  // empty URL, credentials. They fail here now, with the proxy's reason and the option's name.
  it.each([
    [
      'https://hooks.example.com/done#token=s3cret',
      'callbackUrl must not carry a #fragment: it is never sent to the receiver',
    ],
    [
      'https://hooks.example.com/done#',
      'callbackUrl must not carry a #fragment: it is never sent to the receiver',
    ],
    ['', 'callbackUrl must be an absolute http:// or https:// URL, got an empty value'],
    [
      'https://user:pw@hooks.example.com/done',
      'callbackUrl must not carry credentials (user:password@): the signature is what proves the proxy sent it',
    ],
  ])('refuses callbackUrl %j as the proxy would, before any request', async (url, message) => {
    await expect(client().submitTask('x', {}, { callbackUrl: url })).rejects.toThrow(
      new TypeError(message),
    );
    expect(server.calls).toHaveLength(0);
  });

  it.each([
    [{ priority: 'high', headers: { 'X-Proxy-Priority': 'low' } }, 'X-Proxy-Priority', 'priority'],
    [
      { idempotencyKey: 'a', headers: { 'idempotency-key': 'b' } },
      'idempotency-key',
      'idempotencyKey',
    ],
    [
      { maxAttempts: 2, headers: { 'x-proxy-max-attempts': '3' } },
      'x-proxy-max-attempts',
      'maxAttempts',
    ],
  ])('refuses %j: one setting given twice, before any request', async (options, header, option) => {
    await expect(client().submitTask('x', {}, options as never)).rejects.toThrow(
      new TypeError(`headers must not set ${header}, which the ${option} option sets: give one`),
    );
    expect(server.calls).toHaveLength(0);
  });

  // Review: headers passed on from an incoming request carried the same key as the option.
  it('takes the same idempotency key given both ways, and sends it once', async () => {
    const route = server.on('post', '/api/x', submitReply());
    await client().submitTask(
      'x',
      {},
      { idempotencyKey: 'order-7', headers: { 'Idempotency-Key': '"order-7"' } },
    );
    expect(route.calls[0]!.headers.get('idempotency-key')).toBe('"order-7"');
  });

  it.each([[-1], [Number.NaN], [Infinity]])('refuses waitMs %s', async (waitMs) => {
    await expect(client().submit('x', {}, { waitMs })).rejects.toThrow(RangeError);
  });
});

describe('submitAndWait and run: one round trip for a quick task', () => {
  it('a task finished within the hold: no read at all, onStatus told once', async () => {
    const submit = server.on('post', '/api/x', finishedReply);
    const read = server.on('get', '/task/:id', taskReply(finished));
    const seen: string[] = [];
    const task = await client().submitAndWait(
      'x',
      { a: 1 },
      {
        onStatus: (t, previous) => seen.push(`${previous}->${t.status}`),
      },
    );
    expect(task).toEqual(finished);
    expect(submit.calls[0]!.headers.get('prefer')).toBe('wait=60');
    expect(read.calls).toHaveLength(0);
    expect(seen).toEqual(['undefined->completed']);
  });

  it('a slower task: the submission answers 202, then the usual wait', async () => {
    server.on('post', '/api/x', submitReply());
    const read = server.on('get', '/task/:id', taskReply(finished));
    expect(await client().submitAndWait('x')).toEqual(finished);
    expect(read.calls).toHaveLength(1);
  });

  it('the hold leaves a second of timeoutMs for the answer, and is left out under two', async () => {
    const route = server.on('post', '/api/x', finishedReply);
    await client().submitAndWait('x', {}, { timeoutMs: 10_500 });
    expect(route.calls[0]!.headers.get('prefer')).toBe('wait=9');
    await client().submitAndWait('x', {}, { timeoutMs: 1500 });
    expect(route.calls[1]!.headers.has('prefer')).toBe(false);
    await client().submitAndWait('x', {}, { timeoutMs: 60_000, waitMs: 2000 });
    expect(route.calls[2]!.headers.get('prefer')).toBe('wait=2');
  });

  it('throwOnFailure and run reject a task that finished failed within the hold', async () => {
    const failed = makeTask({
      status: 'failed',
      error: { code: 'upstream_reset', message: 'reset' },
    });
    server.on('post', '/api/x', { status: 200, json: { success: true, data: failed } });
    await expect(client().submitAndWait('x', {}, { throwOnFailure: true })).rejects.toBeInstanceOf(
      TaskFailedError,
    );
    await expect(client().run('x')).rejects.toMatchObject({ task: failed });
    expect(await client().submitAndWait('x')).toEqual(failed);
  });

  it('run answers the body of a task that completed within the hold', async () => {
    server.on('post', '/api/x', finishedReply);
    expect(await client().run('x')).toEqual({ ok: true });
  });

  it('a timeout during the later wait is a WaitTimeoutError naming the task', async () => {
    useFakeClock();
    server.on('post', '/api/x', submitReply());
    server.on('get', '/task/:id', taskReply(makeTask({ status: 'processing' })));
    const outcome = client()
      .submitAndWait('x', {}, { timeoutMs: 3000, pollIntervalMs: 500 })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(4000);
    expect(await outcome).toMatchObject({ name: 'WaitTimeoutError', taskId: TASK_ID });
  });

  it.each<[string, object, ErrorConstructor]>([
    ['a pollIntervalMs of 0', { pollIntervalMs: 0 }, RangeError],
    ['a pollIntervalMs as a string', { pollIntervalMs: '5000' }, TypeError],
    ['a timeoutMs past the longest timer', { timeoutMs: 2 ** 31 }, RangeError],
    ['a timeoutMs as a string', { timeoutMs: '5000' }, TypeError],
  ])('%s is refused before anything is submitted', async (_what, options, type) => {
    const route = server.on('post', '/api/x', finishedReply);
    await expect(client().submitAndWait('x', {}, options as never)).rejects.toThrow(type);
    await expect(client().run('x', {}, options as never)).rejects.toThrow(type);
    expect(route.calls).toHaveLength(0);
  });

  it('a queue-full refusal is not waited out unless asked', async () => {
    server.on('post', '/api/x', errorReply(503, 'queue_full', { 'retry-after': '2' }));
    await expect(client().submitAndWait('x')).rejects.toMatchObject({ code: 'queue_full' });
  });
});
