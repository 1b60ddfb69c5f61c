import type { SubmitBody, Task } from 'proxy-client/wire';
import type { ProxyProcess } from 'test-support';
import { waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import {
  followEvents,
  redisForTest,
  startInstances,
  targetForTest,
  taskOf,
  transitionsOf,
} from './instances.js';

async function submit(
  proxy: ProxyProcess,
  path: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const response = await fetch(proxy.url + path, { method: 'POST', headers });
  expect(response.status, path).toBe(202);
  return ((await response.json()) as SubmitBody).task_id;
}

async function finished(proxy: ProxyProcess, id: string): Promise<Task> {
  let task: Task | undefined;
  await waitFor(
    async () => {
      task = await taskOf(proxy, id);
      return task.status !== 'pending' && task.status !== 'processing';
    },
    { what: `task ${id} to finish`, timeoutMs: 20_000 },
  );
  return task as Task;
}

describe('three instances on one Redis: the control routes and event streams', () => {
  it('one task per key burst, cancels reach the call wherever it runs, every instance streams every transition', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const instances = await startInstances(3, redis, target, { cap: 3 });
    const [a, b, c] = instances as [ProxyProcess, ProxyProcess, ProxyProcess];
    const messages = await followEvents(c);

    // A burst with one key, spread over the three instances: one task, one call.
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        submit(instances[n % 3] as ProxyProcess, '/api/text?text=burst', {
          'idempotency-key': 'burst-across',
        }),
      ),
    );
    expect(new Set(ids).size).toBe(1);
    const [burst] = ids as [string];
    expect((await finished(a, burst)).result?.body).toBe('burst');
    expect(target.stats().byPath['/api/text']).toBe(1);

    // Three calls under way, wherever BullMQ put them; each cancelled on another instance.
    const long = [
      await submit(a, '/api/long?seconds=30&n=0'),
      await submit(b, '/api/long?seconds=30&n=1'),
      await submit(c, '/api/long?seconds=30&n=2'),
    ];
    await waitFor(() => target.stats().inFlight === 3, { what: 'the three calls to start' });
    // Each instance's metrics: every call in the store's figure, its own in its own; the
    // store's figures under one store label, the same on each, which proxy_info repeats.
    const texts = await Promise.all(
      instances.map(async (instance) => (await fetch(`${instance.url}/metrics`)).text()),
    );
    const figures = texts.map((text) => {
      const sample = (name: string) =>
        Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(text)?.[1]);
      return [sample('proxy_upstream_in_flight'), sample('proxy_instance_upstream_in_flight')];
    });
    expect(figures.map(([all]) => all)).toEqual([3, 3, 3]);
    const stores = texts.flatMap((text) =>
      [...text.matchAll(/^(proxy_\w+)\{[^}]*store="([^"]*)"/gm)].map(([, name, store]) => ({
        name,
        store,
      })),
    );
    expect(stores.map(({ name }) => name)).toContain('proxy_info');
    expect([...new Set(stores.map(({ store }) => store))]).toEqual([
      expect.stringMatching(new RegExp(`^${redis.url} \\(prefix e2e-[\\d-]+\\)$`)),
    ]);
    expect(figures.reduce((sum, [, own]) => sum + (own ?? Number.NaN), 0)).toBe(3);
    for (const [n, id] of long.entries()) {
      const response = await fetch(`${instances[(n + 1) % 3]?.url}/task/${id}`, {
        method: 'DELETE',
      });
      expect(response.status).toBe(200);
    }
    await waitFor(() => target.stats().inFlight === 0, {
      what: 'the target to see the three calls end',
    });
    for (const id of long) expect((await taskOf(b, id)).status).toBe('cancelled');

    // The stream on c told what every instance did, in order, for each task.
    await waitFor(() => long.every((id) => transitionsOf(messages, id).length === 3), {
      what: 'the cancels on the stream',
    });
    expect(transitionsOf(messages, burst)).toEqual([
      ['created', 'pending'],
      ['started', 'processing'],
      ['finished', 'completed'],
    ]);
    for (const id of long) {
      expect(transitionsOf(messages, id)).toEqual([
        ['created', 'pending'],
        ['started', 'processing'],
        ['finished', 'cancelled'],
      ]);
    }

    // Run again on one instance, linked both ways on every instance.
    const again = await fetch(`${a.url}/task/${burst}/retry`, { method: 'POST' });
    expect(again.status).toBe(202);
    const rerun = ((await again.json()) as SubmitBody).task_id;
    expect((await finished(c, rerun)).retry_of).toBe(burst);
    expect((await taskOf(b, burst)).retried_as).toBe(rerun);
  });

  it('retries with backoff, expires tasks past their deadline and serves priorities across instances', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const instances = await startInstances(3, redis, target, {
      cap: 1,
      extra: ['--retry-on', '503,reset', '--max-attempts', '3', '--retry-min-delay', '0.2'],
    });
    const [a, b, c] = instances as [ProxyProcess, ProxyProcess, ProxyProcess];

    // Failed twice, then answered: three calls, each attempt in its history.
    const flaky = await submit(a, '/api/flaky?key=across&plan=503,reset,200');
    const retried = await finished(b, flaky);
    expect(retried).toMatchObject({ status: 'completed', attempts: 3, next_attempt_at: null });
    expect(retried.attempt_history.map((attempt) => attempt.error_code)).toEqual([
      'upstream_status',
      'upstream_reset',
      null,
    ]);

    // One slot: a blocker holds it while the rest wait in line.
    const blocker = await submit(a, '/api/long?seconds=30');
    await waitFor(() => target.stats().inFlight === 1, { what: 'the blocker to start' });
    const late = await submit(b, '/api/text?text=late', { 'x-proxy-max-queue-time': '0.3' });
    const low = await submit(c, '/api/text?text=low', { 'x-proxy-priority': 'low' });
    const normal = await submit(a, '/api/text?text=normal');
    const high = await submit(b, '/api/text?text=high', { 'x-proxy-priority': 'high' });
    expect(await finished(c, late)).toMatchObject({
      status: 'expired',
      started_at: null,
      error: { code: 'expired' },
    });
    expect((await taskOf(a, high)).queue_position).toBe(1);
    expect((await taskOf(a, low)).queue_position).toBe(3);
    await fetch(`${c.url}/task/${blocker}`, { method: 'DELETE' });
    const done = await Promise.all([high, normal, low].map((id) => finished(a, id)));
    const order = done
      .map((task) => [task.result?.body, task.started_at ?? ''] as const)
      // ISO times: their text sorts as the times do.
      .sort((x, y) => x[1].localeCompare(y[1]))
      .map(([body]) => body);
    expect(order).toEqual(['high', 'normal', 'low']);
    expect(target.stats().byPath['/api/text']).toBe(3);
  });
});
