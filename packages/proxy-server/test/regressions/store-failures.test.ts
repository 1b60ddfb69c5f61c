import type { DataBody, Stats } from 'proxy-client/wire';
import { describe, expect, it } from 'vitest';
import { LocalBackend, MemoryRepository } from '../../src/index.js';
import { FaultyRepository } from '../engine/harness.js';
import { startProxy, startTarget } from '../helper.js';

function faultyBackend(concurrency: number) {
  const repository = new FaultyRepository(new MemoryRepository());
  const backend = new LocalBackend(repository, {
    concurrency,
    maxQueueSize: 100,
    longTaskThresholdMs: 300_000,
    maxRequeues: 0,
  });
  return { repository, backend };
}

describe('a task store that fails now and then', () => {
  // Before the engine owned the queue, one failing claim left every task of its batch pending
  // for good: 5 of 5 stuck on the default forwarding path.
  it('strands no task when starting one cannot be saved: all five complete, each run once', async () => {
    const target = await startTarget();
    const { repository, backend } = faultyBackend(5);
    repository.failNext('start');
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--max-concurrent', '5', '--num-workers', '5'],
      deps: { backend },
    });
    const ids = await Promise.all(
      Array.from({ length: 5 }, (_, n) => proxy.submit(`/api/text?text=${n}`)),
    );
    for (const id of ids) expect((await proxy.finished(id)).status).toBe('completed');
    expect(target.stats().byPath['/api/text']).toBe(5);
  });

  it('answers 503 store_unavailable with Retry-After when a submission cannot be saved, then recovers', async () => {
    const target = await startTarget();
    const { repository, backend } = faultyBackend(2);
    const proxy = await startProxy(target.url, { listen: true, deps: { backend } });
    repository.failNext('insert');
    const refused = await fetch(`${proxy.url}/api/text`, { method: 'POST' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({
      success: false,
      error: 'store_unavailable',
      message: expect.stringContaining('store failure: insert'),
    });
    const health = await (await fetch(`${proxy.url}/health`)).json();
    expect(health).toMatchObject({
      status: 'degraded',
      store: { kind: 'memory', available: false, message: expect.stringContaining('insert') },
    });

    expect((await proxy.finished(await proxy.submit('/api/text'))).status).toBe('completed');
    const stats = (await (await fetch(`${proxy.url}/stats`)).json()) as DataBody<Stats>;
    expect(stats.data.tasks.total).toBe(1);
    expect(await (await fetch(`${proxy.url}/health`)).json()).toMatchObject({ status: 'ok' });
  });

  // Hostile pass: a tasks.db damaged while running answered with Retry-After: 5, though its
  // message said it would not mend: a client that honoured the header retried for ever.
  it('offers no Retry-After when the store is damaged, and says what to do', async () => {
    const target = await startTarget();
    const { repository, backend } = faultyBackend(2);
    const proxy = await startProxy(target.url, { listen: true, deps: { backend } });
    repository.errorFields = { code: 'SQLITE_CORRUPT' };
    repository.failNext('insert');
    const refused = await fetch(`${proxy.url}/api/text`, { method: 'POST' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(await refused.json()).toMatchObject({
      error: 'store_unavailable',
      message: expect.stringContaining('is damaged and will not mend by itself'),
    });
  });

  // Review: the task was held, but the read for the answer failed and the caller got the 503
  // that says a submission was not created, so one without an Idempotency-Key sent it again.
  it('answers 202 with the task id when the task is held but the read for its answer fails', async () => {
    const target = await startTarget();
    const { repository, backend } = faultyBackend(2);
    const proxy = await startProxy(target.url, { listen: true, deps: { backend } });
    const headers = { 'idempotency-key': 'once' };
    const id = await proxy.submit('/api/text', { headers });
    await proxy.finished(id);
    repository.failNext('get');
    const replayed = await fetch(`${proxy.url}/api/text`, { method: 'POST', headers });
    expect(replayed.status).toBe(202);
    expect(await replayed.json()).toMatchObject({ success: true, task_id: id });
    expect(target.stats().byPath['/api/text']).toBe(1);
  });

  it('answers 503 store_unavailable to a read it cannot make', async () => {
    const target = await startTarget();
    const { repository, backend } = faultyBackend(2);
    const proxy = await startProxy(target.url, { listen: true, deps: { backend } });
    const id = await proxy.submit('/api/text');
    repository.failNext('get');
    const response = await fetch(`${proxy.url}/task/${id}`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'store_unavailable' });
  });

  // Redis pass: every request a failing store refused had a warning of its own, stack and all
  // (50 polling clients, 50 lines of 2 KB), where the store's failure has its own line already.
  it('warns of the requests it refuses once a quiet spell, with how many, not once each', async () => {
    const target = await startTarget();
    const { repository, backend } = faultyBackend(2);
    const lines: { level: number; msg: string; refused?: number; reason?: string }[] = [];
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--log-level', 'warn'],
      deps: { backend, logStream: { write: (line) => lines.push(JSON.parse(line)) } },
    });
    const id = await proxy.submit('/api/text');
    repository.failNext('get', 5);
    for (let n = 0; n < 5; n++) expect((await fetch(`${proxy.url}/task/${id}`)).status).toBe(503);
    const warnings = lines.filter((line) => line.level >= 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: 'requests answered 503 store_unavailable: the task store cannot be used',
        refused: 1,
        reason: 'the task store failed reading a task: store failure: get',
      }),
    ]);
  });
});
