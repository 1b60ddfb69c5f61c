import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataBody, HealthBody, Task } from 'proxy-client/wire';
import { startRedis } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { shutdownServer } from '../src/index.js';
import { startProxy, startTarget } from './helper.js';

describe('graceful shutdown', () => {
  it('refuses new tasks, lets calls finish within the grace, fails the rest as interrupted', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--max-concurrent', '2', '--num-workers', '2'],
    });
    const quick = await proxy.submit('/api/function1?delay_ms=300');
    const slow = await proxy.submit('/api/long?seconds=30');
    const queued = await proxy.submit('/api/function1');
    await waitForTargetInFlight(target, 2);
    // Started before shutdown: answered with the final state once the slow call is cut off.
    const waiting = fetch(`${proxy.url}/task/${slow}?wait=30`).then(
      async (r) => ((await r.json()) as DataBody<Task>).data,
    );

    const closed = shutdownServer(proxy.app, 1_000);
    const refused = await fetch(`${proxy.url}/api/function1`, { method: 'POST' });
    expect(refused.status).toBe(503);
    // A retry a moment later, on a new connection: this one leads to the instance going away.
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toMatchObject({ success: false, error: 'shutting_down' });
    const health = (await (await fetch(`${proxy.url}/health`)).json()) as HealthBody;
    expect(health.status).toBe('shutting_down');

    const cutOff = await waiting;
    expect(cutOff).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(cutOff.started_at).not.toBeNull();
    await closed;

    const { backend } = proxy.app.proxy;
    expect(await backend.get(quick)).toMatchObject({ status: 'completed' });
    expect(await backend.get(queued)).toMatchObject({
      status: 'failed',
      startedAt: null,
      error: { code: 'interrupted' },
    });
    expect(await backend.counts()).toMatchObject({
      pending: 0,
      processing: 0,
      completed: 1,
      failed: 2,
    });
    expect(target.stats().byPath['/api/function1']).toBe(1);
  });

  it('closing without shutdown still leaves nothing processing', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const id = await proxy.submit('/api/long?seconds=30');
    await waitForTargetInFlight(target, 1);
    await proxy.app.close();
    expect(await proxy.app.proxy.backend.get(id)).toMatchObject({
      status: 'failed',
      error: { code: 'interrupted' },
    });
  });
});

async function storeFlags(store: Store): Promise<string[]> {
  if (store === 'memory') return ['--store', 'memory'];
  if (store === 'redis') {
    const redis = await startRedis();
    onTestFinished(() => redis.close());
    return ['--store', redis.url];
  }
  const dir = await mkdtemp(join(tmpdir(), 'proxy-shutdown-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return ['--store', 'sqlite', '--data-dir', dir];
}

type Store = 'memory' | 'sqlite' | 'redis';

/** Stops a proxy with two calls in flight, one to end within the grace; what it reports of them. */
async function stopWithTwoCalls(store: Store, flags: string[] = []) {
  const target = await startTarget();
  const proxy = await startProxy(target.url, {
    listen: true,
    flags: [...(await storeFlags(store)), '--max-concurrent', '2', '--num-workers', '2', ...flags],
  });
  await proxy.submit('/api/function1?delay_ms=300');
  await proxy.submit('/api/long?seconds=30');
  await waitForTargetInFlight(target, 2);
  return (await shutdownServer(proxy.app, 1_000)).calls;
}

// A helper stopped a proxy with 2,000 calls in flight: 2,000 warning lines, one per call cut off,
// and none saying how the stop went.
describe.each(['memory', 'sqlite', 'redis'] as const)('a stop on the %s store', (store) => {
  it('counts the calls that ended within the grace and those it cut off', async () => {
    expect(await stopWithTwoCalls(store)).toEqual({ ended: 1, interrupted: 1, requeued: 0 });
  });
});

// The memory store keeps nothing to requeue into.
describe.each(['sqlite', 'redis'] as const)('a stop on the %s store', (store) => {
  it('counts the calls it put back in the queue (--requeue-interrupted)', async () => {
    expect(await stopWithTwoCalls(store, ['--requeue-interrupted'])).toEqual({
      ended: 1,
      interrupted: 0,
      requeued: 1,
    });
  });
});

async function waitForTargetInFlight(target: { stats(): { inFlight: number } }, count: number) {
  const deadline = Date.now() + 5_000;
  while (target.stats().inFlight < count) {
    if (Date.now() > deadline) throw new Error(`target never had ${count} requests in flight`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
