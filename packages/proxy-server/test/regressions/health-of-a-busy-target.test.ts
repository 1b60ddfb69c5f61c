import { createServer, type ServerResponse } from 'node:http';
import type { HealthBody } from 'proxy-client/wire';
import { spawnProxyServer } from 'test-support';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { serveForTest } from '../helper.js';

/** A target that serves one request at a time, as a single-threaded service does. */
async function oneAtATimeTarget() {
  const waiting: Array<() => void> = [];
  let busy = false;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const serve = () => {
      busy = true;
      // The forwarded call is held until the test ends; a HEAD would be answered at once.
      if (req.method === 'HEAD') {
        res.end();
        busy = false;
        waiting.shift()?.();
      } else held.push(res);
    };
    if (busy) waiting.push(serve);
    else serve();
  });
  return { url: await serveForTest(server), held };
}

// The proxy's cap is the target's capacity, so a target at full load is busy with the proxy's
// own calls: /health said degraded, and proxy_target_up 0, for as long as the proxy was busiest.
describe('/health of a target busy with every call the cap lets through', () => {
  it('says the target is reachable and why it gave no answer, and the gauge says up', {
    timeout: 30_000,
  }, async () => {
    const target = await oneAtATimeTarget();
    const proxy = await spawnProxyServer({
      args: [
        '--target-url',
        target.url,
        '--store',
        'memory',
        '--max-concurrent',
        '1',
        '--shutdown-grace',
        '0',
      ],
    });
    onTestFinished(async () => void (await proxy.stop()));
    expect((await fetch(`${proxy.url}/api/slow`, { method: 'POST' })).status).toBe(202);
    await vi.waitFor(() => expect(target.held).toHaveLength(1), { timeout: 10_000 });

    const health = (await (await fetch(`${proxy.url}/health`)).json()) as HealthBody;
    expect(health).toMatchObject({
      status: 'ok',
      target: { reachable: true, latency_ms: null, message: expect.stringMatching(/busy/) },
    });
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
    expect(metrics).toMatch(/^proxy_target_up\{[^}]*\} 1$/m);
  });

  // Review: a stopped or deadlocked target then read as busy, and /health said ok for ever.
  it('says a target that takes connections but never answers, with no call in flight, is hung', {
    timeout: 30_000,
  }, async () => {
    const url = await serveForTest(createServer(() => {}));
    const proxy = await spawnProxyServer({ args: ['--target-url', url, '--store', 'memory'] });
    onTestFinished(async () => void (await proxy.stop()));

    const health = (await (await fetch(`${proxy.url}/health`)).json()) as HealthBody;
    expect(health).toMatchObject({
      status: 'degraded',
      target: { reachable: false, latency_ms: null, message: expect.stringMatching(/hung/) },
    });
  });
});
