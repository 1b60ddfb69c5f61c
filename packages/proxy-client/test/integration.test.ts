import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type SlowTarget, startSlowTarget } from 'slow-target';
import { type ProxyProcess, proxyServerBin, spawnProxyServer, waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProxyClient,
  QueueFullError,
  TaskFailedError,
  TaskNotFoundError,
  type TaskStatus,
  type TaskSummary,
  UnauthorizedError,
} from '../src/index.js';

/**
 * The SDK against the real proxy-server (its built bin, as a child process) in front of the real
 * slow-target, over real sockets. Needs `pnpm build` first.
 */
let target: SlowTarget;
const proxies: ProxyProcess[] = [];

async function startProxy(...args: string[]): Promise<ProxyProcess> {
  const proxy = await spawnProxyServer({
    args: ['--target-url', target.url, '--log-level', 'warn', '--shutdown-grace', '1', ...args],
  });
  proxies.push(proxy);
  return proxy;
}

beforeAll(async () => {
  if (!existsSync(proxyServerBin)) {
    throw new Error(`${proxyServerBin} is missing: run \`pnpm build\` first`);
  }
  target = await startSlowTarget();
});

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  await target?.close();
});

describe('against the real proxy-server', () => {
  let client: ProxyClient;
  const readUrls: string[] = [];
  beforeAll(async () => {
    const proxy = await startProxy('--max-concurrent', '4', '--num-workers', '4');
    client = new ProxyClient({
      baseUrl: proxy.url,
      hooks: { beforeRequest: [(request) => void readUrls.push(request.url)] },
    });
  });

  it('describes itself and is healthy', async () => {
    const info = await client.info();
    expect(info.name).toBe('proxy-server');
    expect(info.target).toContain(String(target.port));
    const health = await client.health();
    expect(health).toMatchObject({ success: true, status: 'ok', target: { reachable: true } });
  });

  it('submits, waits with the waiting read, and reports each status', async () => {
    const taskId = await client.submitTask('function1?delay_ms=300', { param1: 'value1' });
    const statuses: Array<TaskStatus | undefined> = [];
    const task = await client.waitForTask(taskId, {
      timeoutMs: 10_000,
      onStatus: (seen, previous) => statuses.push(previous, seen.status),
    });
    expect(task.status).toBe('completed');
    expect(task.result).toMatchObject({
      status_code: 200,
      body_encoding: 'json',
      body: { result: 'ok', function: 'function1', params: { param1: 'value1' } },
    });
    expect(statuses.at(-1)).toBe('completed');
    expect(readUrls.some((url) => url.includes(`/task/${taskId}?wait=`))).toBe(true);
  });

  it('runs a job end to end and hands back the body, bytes as base64', async () => {
    const echoed = await client.run<{ method: string; body_base64: string }>(
      'echo',
      new Uint8Array([1, 2, 3]),
      { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, timeoutMs: 10_000 },
    );
    expect(echoed.method).toBe('PUT');
    expect(echoed.body_base64).toBe(Buffer.from([1, 2, 3]).toString('base64'));
    const binary = await client.waitForTask(
      await client.submitTask('binary?bytes=4', undefined, { method: 'GET' }),
    );
    expect(binary.result?.body_encoding).toBe('base64');
  });

  it('adds query parameters after the query in the path, not encoding that one again as a form', async () => {
    // Written into the path, a query is sent as it is; the `query` option used to have the URL
    // parser rewrite it as a form (%20 to +, ' to %27, a lone name to name=), and a byte that
    // is no UTF-8 (%E9, a Latin-1 é) to %EF%BF%BD, breaking signed URLs and losing the data.
    const inPath = "echo?q=a%20b&lone&sig=%2B%2F&latin=%E9&odd=100%zz&x='~";
    const taskId = await client.submitTask(inPath, undefined, {
      method: 'GET',
      query: { page: 2, q: 'c d' },
    });
    const task = await client.waitForTask(taskId, { timeoutMs: 10_000 });
    const sent = '/api/echo?q=a%20b&lone&sig=%2B%2F&latin=%E9&odd=100%zz&x=%27~&page=2&q=c+d';
    expect(task.path).toBe(sent);
    expect(task.result?.body).toMatchObject({ url: sent });
  });

  it('a task the target fails ends failed, and run throws TaskFailedError', async () => {
    const taskId = await client.submitTask('fail', undefined, { query: { status: 502 } });
    const task = await client.waitForTask(taskId, { timeoutMs: 10_000 });
    expect(task.status).toBe('failed');
    expect(task.result?.status_code).toBe(502);
    const error = await client.run('fail?status=500', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as TaskFailedError).task.result?.status_code).toBe(500);
  });

  it('lists, pages through and counts the tasks', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => client.submitTask('function1', {})));
    await Promise.all(ids.map((id) => client.waitForTask(id, { timeoutMs: 10_000 })));
    const page = await client.listTasks({ status: 'completed', limit: 2 });
    expect(page.tasks).toHaveLength(2);
    expect(page.tasks.every((task) => task.status === 'completed')).toBe(true);
    const all: TaskSummary[] = [];
    for await (const task of client.iterateTasks({ pageSize: 2 })) all.push(task);
    expect(all.map((task) => task.task_id)).toEqual(expect.arrayContaining(ids));
    expect(new Set(all.map((task) => task.task_id)).size).toBe(all.length);
    const stats = await client.getStats();
    expect(stats.tasks.total).toBe(all.length);
    expect(stats.tasks.completed).toBeGreaterThanOrEqual(ids.length);
    expect(stats.max_concurrent).toBe(4);
  });

  it('cleans up finished tasks, which are then not found', async () => {
    const taskId = await client.submitTask('function1', {});
    await client.waitForTask(taskId, { timeoutMs: 10_000 });
    const { removed } = await client.cleanupTasks({ maxAgeHours: 0 });
    expect(removed).toBeGreaterThanOrEqual(1);
    await expect(client.getTask(taskId)).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('answers TaskNotFoundError for unknown and malformed ids', async () => {
    await expect(client.getTask(randomUUID())).rejects.toMatchObject({
      name: 'TaskNotFoundError',
      code: 'task_not_found',
      status: 404,
    });
    await expect(client.getTask('not-a-uuid')).rejects.toBeInstanceOf(TaskNotFoundError);
  });
});

describe('a full queue', () => {
  it('rejects with QueueFullError, and a retrying submit gets in once the queue drains', async () => {
    const proxy = await startProxy(
      '--max-concurrent',
      '1',
      '--num-workers',
      '1',
      '--max-queue-size',
      '1',
    );
    let retries = 0;
    const client = new ProxyClient({
      baseUrl: proxy.url,
      hooks: {
        beforeRetry: [
          () => {
            retries += 1;
          },
        ],
      },
    });
    const first = await client.submitTask('function1?delay_ms=1500', {});
    await waitFor(async () => (await client.getTask(first)).status === 'processing', {
      what: 'the first task to start',
    });
    const queued = await client.submitTask('function1?delay_ms=200', {});
    const error = await client.submitTask('function1', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).retryAfter).toBeGreaterThan(0);

    const retried = await client.submitTask(
      'function1',
      {},
      {
        queueFullRetries: 20,
        maxRetryAfterMs: 250,
      },
    );
    expect(retries).toBeGreaterThanOrEqual(1);
    const tasks = await Promise.all(
      [first, queued, retried].map((id) => client.waitForTask(id, { timeoutMs: 10_000 })),
    );
    expect(tasks.map((task) => task.status)).toEqual(['completed', 'completed', 'completed']);
  });
});

describe('an API key', () => {
  it('is required when the proxy has one, and accepted when given', async () => {
    const proxy = await startProxy('--api-key', 'k-123');
    await expect(new ProxyClient({ baseUrl: proxy.url }).getStats()).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    const stats = await new ProxyClient({ baseUrl: proxy.url, apiKey: 'k-123' }).getStats();
    expect(stats.tasks.total).toBe(0);
  });
});
