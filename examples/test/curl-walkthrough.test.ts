import { ProxyClient } from 'proxy-client';
import type { SlowTarget } from 'slow-target';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { proxyFor, runWalkthrough, startSlowTarget } from './support/example-environment.js';
import { describeRun } from './support/run-process.js';

const STEPS = [
  'GET / describes the service',
  'POST /api/function1: a JSON job is accepted at once with 202 and a task id',
  'A full queue answers 503 queue_full with Retry-After and creates no task',
];

let target: SlowTarget;
beforeAll(async () => {
  target = await startSlowTarget();
});
afterAll(async () => {
  await target?.close();
});

it('passes every step against the real proxy', async () => {
  // A small queue keeps the last step (filling it) quick.
  const PROXY_URL = await proxyFor(target, ['--max-queue-size', '10']);
  const result = await runWalkthrough({ PROXY_URL });
  expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(0);
  for (const step of STEPS) expect(result.stdout).toContain(`== ${step}`);
  expect(result.stdout).toContain('every step passed');
  expect(result.stdout).not.toContain('With --api-key');
});

it('passes on a proxy that already holds a cancelled task, as after the cancel example', async () => {
  const PROXY_URL = await proxyFor(target, ['--max-queue-size', '10']);
  const client = new ProxyClient({ baseUrl: PROXY_URL });
  const id = await client.submitTask('api/long?seconds=30', undefined, { method: 'GET' });
  await client.cancelTask(id);
  const result = await runWalkthrough({ PROXY_URL });
  expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(0);
  expect(result.stdout).toContain('every step passed');
});

it('checks authentication when PROXY_API_KEY is set', async () => {
  const PROXY_URL = await proxyFor(target, ['--max-queue-size', '10', '--api-key', 'walk-key']);
  const result = await runWalkthrough({ PROXY_URL, PROXY_API_KEY: 'walk-key' });
  expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(0);
  expect(result.stdout).toContain('== With --api-key: a request without the key gets 401');
});

it('names the step and exits 1 on the first surprise', async () => {
  // A proxy that wants a key the walkthrough does not send: the first step gets 401.
  const PROXY_URL = await proxyFor(target, ['--api-key', 'walk-key']);
  const result = await runWalkthrough({ PROXY_URL });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(
    'curl-walkthrough: FAILED at step "GET / describes the service": expected HTTP 200, got 401',
  );
});
