import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SlowTarget, startSlowTarget } from 'slow-target';
import { type ProxyProcess, proxyServerBin, spawnProxyServer } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyClient, type ProxyError } from '../../src/index.js';
import { relay } from '../helpers/relay.js';

/**
 * `waitForTask` held each read up to the proxy's 60 s (`?wait=60`). A gateway in front of the
 * proxy that ends requests silent for as long or less (nginx's `proxy_read_timeout` is 60 s,
 * many load balancers give 30 s) cut every one of them with a 504: each was retried holding as
 * long again, reported as an outage, and once the task had run five minutes more the wait
 * rejected with the 504, for a task that was running fine. A read held too long for the way to
 * the proxy now makes the next ones shorter, down to plain polling. `submitAndWait` held its
 * submission the same way (`Prefer: wait=60`): cut, it was repeated holding as long, and after
 * its retries it rejected with the 504 without the id of the task it had created; now it asks
 * once more without a hold, with the same idempotency key, and waits for that task. `getResult`
 * with `waitMs` held its reads too, and rejected with the 504 once its retries were cut.
 */
const GATEWAY_CUT_MS = 1500;
const TASK_MS = 8000;

let target: SlowTarget;
let proxy: ProxyProcess;
let gateway: Server;
let gatewayUrl: string;
let cuts = 0;

beforeAll(async () => {
  if (!existsSync(proxyServerBin)) {
    throw new Error(`${proxyServerBin} is missing: run \`pnpm build\` first`);
  }
  target = await startSlowTarget({ port: 0 });
  proxy = await spawnProxyServer({
    args: ['--target-url', target.url, '--store', 'memory', '--log-level', 'warn'],
  });
  // A reverse proxy like nginx with a short read timeout: no answer within the cut, a 504.
  gateway = createServer((incoming, outgoing) => {
    const forwarded = relay(incoming, outgoing, proxy.url, () => clearTimeout(cut));
    const cut = setTimeout(() => {
      cuts += 1;
      forwarded.destroy();
      outgoing.writeHead(504, { 'content-type': 'text/html' }).end('<h1>504 Gateway Time-out</h1>');
    }, GATEWAY_CUT_MS);
    forwarded.on('error', () => {});
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
});

afterAll(async () => {
  gateway?.closeAllConnections();
  await new Promise((resolve) => gateway?.close(resolve));
  await proxy?.stop();
  await target?.close();
});

describe('waitForTask behind a gateway that cuts requests held long', () => {
  it('shortens its held reads after the first cut instead of riding it out as an outage', {
    timeout: 60_000,
  }, async () => {
    const client = new ProxyClient({ baseUrl: gatewayUrl });
    const { taskId } = await client.submit('api/function1', { delay_ms: TASK_MS });
    const outages: (ProxyError | undefined)[] = [];
    const task = await client.waitForTask(taskId, {
      timeoutMs: 60_000,
      onOutage: (error) => outages.push(error),
    });
    expect(task.status).toBe('completed');
    // The first held read (wait=60) is cut once; the reads after it fit within the gateway.
    expect(cuts).toBe(1);
    expect(outages).toEqual([]);
  });
});

describe('submitAndWait behind a gateway that cuts requests held long', () => {
  it('gets the task its cut submission created, and waits for it', {
    timeout: 60_000,
  }, async () => {
    cuts = 0;
    const client = new ProxyClient({ baseUrl: gatewayUrl });
    const before = await (await fetch(`${proxy.url}/stats`)).json();
    const task = await client.submitAndWait(
      'api/function1',
      { delay_ms: TASK_MS },
      { timeoutMs: 60_000 },
    );
    expect(task.status).toBe('completed');
    const after = await (await fetch(`${proxy.url}/stats`)).json();
    // One task for the call, whatever was cut on the way.
    expect(after.data.totals.submitted - before.data.totals.submitted).toBe(1);
    // The held submission, then the first held read of the wait.
    expect(cuts).toBe(2);
  });
});

describe('getResult behind a gateway that cuts requests held long', () => {
  it('waits for the result with shorter holds once one was cut', { timeout: 60_000 }, async () => {
    const client = new ProxyClient({ baseUrl: gatewayUrl });
    const { taskId } = await client.submit('api/function1', { delay_ms: TASK_MS });
    cuts = 0;
    const result = await client.getResult(taskId, { waitMs: 60_000 });
    expect(result.status).toBe(200);
    expect(result.json()).toMatchObject({ result: 'ok' });
    // Hostile pass: each cut read was retried holding as long (maxRetries), and the next hold
    // was half of all those attempts together, longer than the gateway lets through: cut again.
    expect(cuts).toBe(1);
  });
});
