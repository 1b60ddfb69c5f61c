import type { DataBody, ErrorBody, Task } from 'proxy-client/wire';
import { describe, expect, it } from 'vitest';
import { startProxy, startTarget } from './helper.js';

async function timedGet(url: string) {
  const started = performance.now();
  const response = await fetch(url);
  const task = ((await response.json()) as DataBody<Task>).data;
  return { task, response, elapsedMs: performance.now() - started };
}

describe('GET /task/:id?wait=N', () => {
  it('answers as soon as the task finishes, not at the end of the wait', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const id = await proxy.submit('/api/function1?delay_ms=300');
    const { task, response, elapsedMs } = await timedGet(`${proxy.url}/task/${id}?wait=10`);
    expect(task.status).toBe('completed');
    expect(elapsedMs).toBeGreaterThanOrEqual(200);
    expect(elapsedMs).toBeLessThan(3_000);
    expect(response.headers.get('x-proxy-wait-max')).toBe('60');
  });

  it('answers with the current state when the wait runs out first', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const id = await proxy.submit('/api/function1?delay_ms=3000');
    const { task, elapsedMs } = await timedGet(`${proxy.url}/task/${id}?wait=0.4`);
    expect(task.status).toBe('processing');
    expect(elapsedMs).toBeGreaterThanOrEqual(350);
    expect(elapsedMs).toBeLessThan(2_500);
  });

  it('answers a finished task at once, and several waiters on one task all get the result', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const id = await proxy.submit('/api/function1?delay_ms=300');
    const waiters = await Promise.all(
      [1, 2, 3].map(() => timedGet(`${proxy.url}/task/${id}?wait=10`)),
    );
    expect(waiters.map((w) => w.task.status)).toEqual(['completed', 'completed', 'completed']);
    const again = await timedGet(`${proxy.url}/task/${id}?wait=10`);
    expect(again.task.status).toBe('completed');
    expect(again.elapsedMs).toBeLessThan(1_000);
  });

  it('wait=0 is an ordinary read', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const id = await proxy.submit('/api/function1?delay_ms=2000');
    const { task, elapsedMs } = await timedGet(`${proxy.url}/task/${id}?wait=0`);
    expect(['pending', 'processing']).toContain(task.status);
    expect(elapsedMs).toBeLessThan(1_000);
  });
});

// A gateway that ends a silent request after 30 s (Heroku's router, AWS API Gateway's 29 s)
// cannot be told otherwise: the proxy must answer first. Each task below takes 5 s, so an
// answer held past --max-wait would come back `completed`.
describe('--max-wait', () => {
  async function proxyHoldingOneSecond() {
    const target = await startTarget();
    return startProxy(target.url, { listen: true, flags: ['--max-wait', '1'] });
  }

  it('cuts ?wait=N to it, and names it in x-proxy-wait-max', async () => {
    const proxy = await proxyHoldingOneSecond();
    const id = await proxy.submit('/api/function1?delay_ms=5000');
    const { task, response, elapsedMs } = await timedGet(`${proxy.url}/task/${id}?wait=30`);
    expect(task.status).toBe('processing');
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(response.headers.get('x-proxy-wait-max')).toBe('1');
  });

  it('cuts the result route’s ?wait=N to it', async () => {
    const proxy = await proxyHoldingOneSecond();
    const id = await proxy.submit('/api/function1?delay_ms=5000');
    const started = performance.now();
    const response = await fetch(`${proxy.url}/task/${id}/result?wait=30`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(response.status).toBe(409);
    expect(((await response.json()) as ErrorBody).error).toBe('task_not_finished');
  });

  it('cuts Prefer: wait=N to it: 202 once it has passed, and wait=1 applied when done within it', async () => {
    const proxy = await proxyHoldingOneSecond();
    const held = await fetch(`${proxy.url}/api/function1?delay_ms=5000`, {
      method: 'POST',
      headers: { prefer: 'wait=30' },
    });
    expect(held.status).toBe(202);
    const quick = await fetch(`${proxy.url}/api/function1?delay_ms=0`, {
      method: 'POST',
      headers: { prefer: 'wait=30' },
    });
    expect(quick.status).toBe(200);
    expect(quick.headers.get('preference-applied')).toBe('wait=1');
  });

  it('cuts Prefer: wait=N on a retry to it', async () => {
    const proxy = await proxyHoldingOneSecond();
    const id = await proxy.submit('/api/function1?delay_ms=5000');
    expect((await fetch(`${proxy.url}/task/${id}`, { method: 'DELETE' })).status).toBe(200);
    const retried = await fetch(`${proxy.url}/task/${id}/retry`, {
      method: 'POST',
      headers: { prefer: 'wait=30' },
    });
    expect(retried.status).toBe(202);
  });
});
