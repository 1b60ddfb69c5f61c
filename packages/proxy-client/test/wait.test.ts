import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ProxyClient,
  ProxyError,
  TaskFailedError,
  TaskNotFoundError,
  type TaskStatus,
  WaitTimeoutError,
} from '../src/index.js';
import { MAX_OUTAGE_MS } from '../src/polling/schedule.js';
import { errorReply, makeTask, submitReply, TASK_ID, taskReply } from './helpers/fixtures.js';
import { simulateTask } from './helpers/simulated-task.js';
import { BASE_URL, createTestServer, useFakeClock } from './helpers/test-server.js';

const server = createTestServer();
const client = () => new ProxyClient({ baseUrl: BASE_URL });

beforeEach(() => {
  useFakeClock();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Runs a wait to its end under fake timers; answers its outcome and when it came. */
async function settle<T>(
  promise: Promise<T>,
  ms = 900_000,
): Promise<{ value?: T; error?: unknown; endedAt: number }> {
  let endedAt = Number.NaN;
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  void outcome.then(() => {
    endedAt = Date.now();
  });
  await vi.advanceTimersByTimeAsync(ms);
  return { ...(await outcome), endedAt };
}

const gaps = (calls: { at: number }[]) => calls.slice(1).map((call, i) => call.at - calls[i]!.at);

describe('waitForTask', () => {
  it('resolves with the completed task and reports every status change', async () => {
    const { route, finishesAt } = simulateTask(server, { durationMs: 5000, queuedMs: 1000 });
    const changes: Array<[TaskStatus, TaskStatus | undefined]> = [];
    const { value, endedAt } = await settle(
      client().waitForTask(TASK_ID, {
        onStatus: (task, previous) => changes.push([task.status, previous]),
      }),
    );
    expect(value?.status).toBe('completed');
    expect(changes).toEqual([
      ['pending', undefined],
      ['processing', 'pending'],
      ['completed', 'processing'],
    ]);
    expect(route.calls[0]!.query.has('wait')).toBe(false);
    expect(endedAt - finishesAt).toBeLessThanOrEqual(2000);
  });

  it('resolves with a failed task, or rejects with TaskFailedError under throwOnFailure', async () => {
    simulateTask(server, { durationMs: 1000, outcome: 'failed' });
    const resolved = await settle(client().waitForTask(TASK_ID));
    expect(resolved.value?.status).toBe('failed');
    const rejected = await settle(client().waitForTask(TASK_ID, { throwOnFailure: true }));
    expect(rejected.error).toBeInstanceOf(TaskFailedError);
    expect((rejected.error as TaskFailedError).task.status).toBe('failed');
  });

  it('ends at once with unknown_status on a status it does not know', async () => {
    const route = server.on(
      'get',
      '/task/:id',
      taskReply(makeTask({ status: 'paused' as TaskStatus })),
    );
    const { error } = await settle(client().waitForTask(TASK_ID));
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({ code: 'unknown_status' });
    expect((error as Error).message).toContain('"paused"');
    expect(route.calls).toHaveLength(1);
  });

  it('rejects with WaitTimeoutError holding the last task, and stops reading', async () => {
    const { route } = simulateTask(server, { durationMs: 60_000 });
    const { error, endedAt } = await settle(client().waitForTask(TASK_ID, { timeoutMs: 5000 }));
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({ taskId: TASK_ID, code: 'wait_timeout' });
    expect((error as WaitTimeoutError).lastTask?.status).toBe('processing');
    const startedAt = route.calls[0]!.at;
    expect(endedAt - startedAt).toBe(5000);
    expect(route.calls.every((call) => call.at - startedAt < 5000)).toBe(true);
  });

  it('waits out a proxy away for a while once it has read the task (a restart, a deploy)', async () => {
    const route = server.on(
      'get',
      '/task/:id',
      taskReply(makeTask({ status: 'processing' })),
      { network: true },
      errorReply(503, 'store_unavailable'),
      { status: 502, text: '<html>bad gateway</html>' },
      taskReply(makeTask({ status: 'completed' })),
    );
    const { value } = await settle(
      client().waitForTask(TASK_ID, { pollIntervalMs: 1000, maxRetries: 0 }),
    );
    expect(value?.status).toBe('completed');
    // The pause doubles while the proxy is away.
    expect(gaps(route.calls)).toEqual([1000, 250, 500, 1000]);
  });

  // Hostile pass: a wait that rode out a restart did so without a word, so proxy-cli's spinner
  // went on counting as though the proxy answered, for up to five minutes.
  it('tells onOutage when the proxy goes away (once per outage) and when it is back', async () => {
    server.on(
      'get',
      '/task/:id',
      taskReply(makeTask({ status: 'processing' })),
      { network: true },
      errorReply(503, 'store_unavailable'),
      taskReply(makeTask({ status: 'processing' })),
      { status: 502, text: '<html>bad gateway</html>' },
      taskReply(makeTask({ status: 'completed' })),
    );
    const heard: string[] = [];
    const { value } = await settle(
      client().waitForTask(TASK_ID, {
        pollIntervalMs: 1000,
        maxRetries: 0,
        onOutage: (error) => heard.push(error === undefined ? 'back' : `away: ${error.code}`),
      }),
    );
    expect(value?.status).toBe('completed');
    expect(heard).toEqual(['away: unreachable', 'back', 'away: http_502', 'back']);
  });

  // SDK pass: a memory proxy restarted during a wait answered 404, and the wait rejected with
  // onOutage never told the proxy was back: a caller's "proxy away" notice stayed up.
  it('tells onOutage the proxy is back when it answers with a refusal', async () => {
    server.on(
      'get',
      '/task/:id',
      taskReply(makeTask({ status: 'processing' })),
      { network: true },
      errorReply(404, 'task_not_found'),
    );
    const heard: string[] = [];
    const { error } = await settle(
      client().waitForTask(TASK_ID, {
        pollIntervalMs: 1000,
        maxRetries: 0,
        onOutage: (error) => heard.push(error === undefined ? 'back' : `away: ${error.code}`),
      }),
    );
    expect(error).toBeInstanceOf(TaskNotFoundError);
    expect(heard).toEqual(['away: unreachable', 'back']);
  });

  it('rides an outage out whatever onOutage throws or rejects with', async () => {
    for (const onOutage of [
      () => {
        throw new Error('listener bug');
      },
      async () => {
        throw new Error('async listener bug');
      },
    ]) {
      server.on(
        'get',
        '/task/:id',
        taskReply(makeTask({ status: 'processing' })),
        { network: true },
        taskReply(makeTask({ status: 'completed' })),
      );
      const { value } = await settle(
        client().waitForTask(TASK_ID, { pollIntervalMs: 1000, maxRetries: 0, onOutage }),
      );
      expect(value?.status).toBe('completed');
    }
  });

  it.each(['onOutage', 'onStatus'])(
    'refuses an %s that is no function, before any read',
    async (name) => {
      const options = { [name]: 'log' } as Record<string, unknown>;
      await expect(client().waitForTask(TASK_ID, options)).rejects.toThrow(
        new TypeError(`waitForTask(): ${name} must be a function, got string`),
      );
    },
  );

  it('rejects at once when the first read finds no proxy, and on a 404 after an outage', async () => {
    server.on('get', '/task/:id', { network: true });
    const first = await settle(client().waitForTask(TASK_ID, { maxRetries: 0 }));
    expect(first.error).toMatchObject({ code: 'unreachable' });

    server.on(
      'get',
      '/task/:id',
      taskReply(makeTask({ status: 'processing' })),
      { network: true },
      errorReply(404, 'task_not_found'),
    );
    const gone = await settle(client().waitForTask(TASK_ID, { maxRetries: 0 }));
    expect(gone.error).toBeInstanceOf(TaskNotFoundError);
  });

  it('rejects on a 500 after the first read: the proxy answered, and would answer the same', async () => {
    const route = server.on(
      'get',
      '/task/:id',
      taskReply(makeTask({ status: 'processing' })),
      errorReply(500, 'internal_error'),
    );
    const { error } = await settle(client().waitForTask(TASK_ID, { maxRetries: 0 }));
    expect(error).toMatchObject({ code: 'internal_error', status: 500 });
    expect(route.calls).toHaveLength(2);
  });

  it('rejects with the outage error once the proxy has been away for MAX_OUTAGE_MS', async () => {
    const route = server.on('get', '/task/:id', taskReply(makeTask({ status: 'processing' })), {
      network: true,
    });
    const { error, endedAt } = await settle(client().waitForTask(TASK_ID, { maxRetries: 0 }));
    expect(error).toMatchObject({ code: 'unreachable' });
    const awayFrom = route.calls[1]!.at;
    expect(endedAt - awayFrom).toBeGreaterThanOrEqual(MAX_OUTAGE_MS);
    expect(endedAt - awayFrom).toBeLessThan(MAX_OUTAGE_MS + 10_000);
  });

  it('stops awaiting an onStatus that never settles when timeoutMs passes', async () => {
    simulateTask(server, { durationMs: 5000 });
    const started = Date.now();
    const { error, endedAt } = await settle(
      client().waitForTask(TASK_ID, { timeoutMs: 1000, onStatus: () => new Promise(() => {}) }),
    );
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(endedAt - started).toBe(1000);
  });

  it('awaits an async onStatus, and rejects with its error rather than leaving it unhandled', async () => {
    simulateTask(server, { durationMs: 5000 });
    const failure = new Error('listener failed');
    const { error } = await settle(
      client().waitForTask(TASK_ID, {
        onStatus: async () => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          throw failure;
        },
      }),
    );
    expect(error).toBe(failure);
  });

  it('submitAndWait: WaitTimeoutError names the limit the caller set, not what the wait had left', async () => {
    server.on('post', '/api/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return submitReply();
    });
    server.on('get', '/task/:id', taskReply(makeTask({ status: 'processing' })));
    const { error } = await settle(client().submitAndWait('slow', {}, { timeoutMs: 5000 }));
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 5000 });
    expect((error as Error).message).toContain('within 5000 ms');
  });

  it('times out during a read that hangs, instead of waiting for the HTTP timeout', async () => {
    server.on('get', '/task/:id', taskReply(makeTask()), async () => {
      await new Promise((resolve) => setTimeout(resolve, 25_000));
      return taskReply(makeTask());
    });
    const started = Date.now();
    const { error, endedAt } = await settle(client().waitForTask(TASK_ID, { timeoutMs: 3000 }));
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(endedAt - started).toBe(3000);
  });

  it('polls at exactly pollIntervalMs when one is given', async () => {
    const { route } = simulateTask(server, { durationMs: 10_500 });
    await settle(client().waitForTask(TASK_ID, { pollIntervalMs: 3000 }));
    expect(gaps(route.calls)).toEqual([3000, 3000, 3000, 3000]);
  });

  it('takes the server Retry-After as the next delay, capped by the schedule ceiling', async () => {
    const hinted = simulateTask(server, { durationMs: 4200, retryAfterSeconds: 1 });
    await settle(client().waitForTask(TASK_ID));
    expect(gaps(hinted.route.calls)).toEqual([1000, 1000, 1000, 1000, 1000]);

    // A later route takes precedence over the earlier one.
    const capped = simulateTask(server, { durationMs: 5000, retryAfterSeconds: 30 });
    await settle(client().waitForTask(TASK_ID));
    expect(gaps(capped.route.calls)).toEqual([2000, 2000, 2000]);
  });

  it('does not let Retry-After: 0 make it spin', async () => {
    const { route } = simulateTask(server, { durationMs: 1000, retryAfterSeconds: 0 });
    await settle(client().waitForTask(TASK_ID));
    expect(gaps(route.calls)).toEqual([250, 250, 250, 250]);
  });

  it('uses the waiting read once the server offers it, bounded by the remaining timeout', async () => {
    const { route, finishesAt } = simulateTask(server, { durationMs: 80_000, waitMaxSeconds: 60 });
    const { value, endedAt } = await settle(client().waitForTask(TASK_ID, { timeoutMs: 90_000 }));
    expect(value?.status).toBe('completed');
    expect(endedAt).toBe(finishesAt);
    expect(route.calls.map((call) => call.query.get('wait'))).toEqual([null, '60', '30']);
  });

  // Review: a server started with --max-wait 1 held each read its whole second, and the wait then
  // paused to the polling pace as if the server had not held at all: 9 s late with 10 s polls.
  it('asks again at once after a read held as long as asked, however short the server’s hold', async () => {
    const { route, finishesAt } = simulateTask(server, { durationMs: 9_500, waitMaxSeconds: 1 });
    const { value, endedAt } = await settle(
      client().waitForTask(TASK_ID, { pollIntervalMs: 10_000 }),
    );
    expect(value?.status).toBe('completed');
    expect(endedAt).toBe(finishesAt);
    expect(gaps(route.calls)).toEqual([0, ...Array(9).fill(1000)]);
  });

  it('gives a waiting read its hold on top of the per-request timeout', async () => {
    const { route } = simulateTask(server, { durationMs: 4000, waitMaxSeconds: 5 });
    const proxy = new ProxyClient({ baseUrl: BASE_URL, timeoutMs: 1000 });
    const { value } = await settle(proxy.waitForTask(TASK_ID));
    expect(value?.status).toBe('completed');
    expect(route.calls.map((call) => call.query.get('wait'))).toEqual([null, '5']);
  });

  it('falls back to polling when the server does not offer waiting reads', async () => {
    const { route } = simulateTask(server, { durationMs: 20_000 });
    await settle(client().waitForTask(TASK_ID));
    expect(route.calls.length).toBeGreaterThan(5);
    expect(route.calls.some((call) => call.query.has('wait'))).toBe(false);
  });

  it('keeps to the schedule when a server offers waiting reads but answers at once', async () => {
    const route = server.on('get', '/task/:id', (call) => {
      const finished = call.at >= startedAt + 20_000;
      return taskReply(makeTask({ status: finished ? 'completed' : 'processing' }), {
        'x-proxy-wait-max': '60',
      });
    });
    const startedAt = Date.now();
    await settle(client().waitForTask(TASK_ID, { pollIntervalMs: 2000 }));
    // The first waiting read follows the plain first read at once; the rest keep 2 s apart.
    expect(gaps(route.calls)).toEqual([0, ...Array(10).fill(2000)]);
  });

  it('lets reads retry inside a wait: a network error does not end it', async () => {
    const route = server.on(
      'get',
      '/task/:id',
      taskReply(makeTask()),
      { network: true },
      taskReply(makeTask({ status: 'completed' })),
    );
    const { value } = await settle(client().waitForTask(TASK_ID, { pollIntervalMs: 1000 }));
    expect(value?.status).toBe('completed');
    expect(route.calls).toHaveLength(3);
  });

  it('rejects with TaskNotFoundError when the task goes away', async () => {
    server.on('get', '/task/:id', taskReply(makeTask()), errorReply(404, 'task_not_found'));
    const { error } = await settle(client().waitForTask(TASK_ID));
    expect(error).toBeInstanceOf(TaskNotFoundError);
  });

  it('places an old task at its age in the schedule (server durations, not the local clock)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    let reads = 0;
    const route = server.on('get', '/task/:id', () => {
      reads += 1;
      const status = reads > 8 ? 'completed' : 'processing';
      return taskReply(makeTask({ status, queue_ms: 1000, duration_ms: 10 * 60_000 }));
    });
    await settle(client().waitForTask(TASK_ID));
    expect(gaps(route.calls)).toEqual([500, 750, 1125, 1688, 2531, 3797, 5695, 8543]);
  });

  it.each([
    { pollIntervalMs: 0 },
    { pollIntervalMs: Number.NaN },
    { timeoutMs: -1 },
    { timeoutMs: 2 ** 31 },
    { pollIntervalMs: 1e10 },
  ])('refuses %j, naming the longest a timer takes', async (options) => {
    await expect(client().waitForTask(TASK_ID, options)).rejects.toThrow(
      /at most 2147483647 \(a timer's longest\)/,
    );
  });
});
