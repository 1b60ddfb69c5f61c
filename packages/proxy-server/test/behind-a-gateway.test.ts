import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { DataBody, ServiceInfo, SubmitBody, Task } from 'proxy-client/wire';
import { freePort, spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { launchChromium } from '../scripts/chromium.mjs';
import { prefixOf } from '../src/plugins/forwarded-prefix.js';
import { startProxy, startTarget } from './helper.js';

// The proxy mounted under /proxy by a real HAProxy (Debian's `haproxy`; .ci/run installs it),
// configured by the block docs/operations.md shows: the prefix taken off the path and sent as
// X-Forwarded-Prefix, the caller's address appended to X-Forwarded-For. Callers connect from
// 127.0.0.2 and 127.0.0.3, the gateway from 127.0.0.1, so the proxy can tell them apart. Needs
// `pnpm build`.

const CALLER = '127.0.0.2';
const OTHER_CALLER = '127.0.0.3';

const DOCUMENTED = (() => {
  const operations = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
  const block = /```haproxy\n(frontend gateway\n[\s\S]*?)```/.exec(operations)?.[1];
  if (block === undefined) throw new Error('docs/operations.md has no haproxy block for a prefix');
  return block;
})();

/**
 * The documented block, listening on `listenPort` (plain HTTP) in front of `proxyPort`, ending a
 * request the proxy is silent on for `serverTimeoutS`.
 */
function gatewayConfig(listenPort: number, proxyPort: number, serverTimeoutS: number): string {
  const frontend = DOCUMENTED.replace(/^( *)bind .*$/m, `$1bind 127.0.0.1:${listenPort}`);
  const config = frontend.replace(/127\.0\.0\.1:8080$/m, `127.0.0.1:${proxyPort}`);
  if (!config.includes(`127.0.0.1:${proxyPort}`)) {
    throw new Error('the documented haproxy block no longer names 127.0.0.1:8080');
  }
  return `global
  nbthread 1

defaults
  mode http
  timeout connect 5s
  timeout client 90s
  timeout server ${serverTimeoutS}s

${config}`;
}

/** HAProxy in front of `proxyUrl`, stopped when the test ends; its base URL. */
async function startGateway(proxyUrl: string, serverTimeoutS = 90): Promise<string> {
  if (spawnSync('haproxy', ['-v']).status !== 0) {
    throw new Error('haproxy is missing: apt-get install -y haproxy (.ci/run does)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'gateway-'));
  const config = join(dir, 'haproxy.cfg');
  const port = await freePort();
  await writeFile(config, gatewayConfig(port, Number(new URL(proxyUrl).port), serverTimeoutS));
  const gateway = spawn('haproxy', ['-f', config, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  gateway.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  onTestFinished(async () => {
    gateway.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  await waitFor(
    () => {
      if (gateway.exitCode !== null) throw new Error(`haproxy exited: ${errors}`);
      return new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket.end() !== undefined));
        socket.on('error', () => resolve(false));
      });
    },
    { timeoutMs: 10_000, what: 'haproxy to listen' },
  );
  return `http://127.0.0.1:${port}`;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One call from the caller's own address, as a client elsewhere would make it. */
function callFrom(
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
  localAddress = CALLER,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method, headers, localAddress }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    sent.on('error', reject);
    sent.end();
  });
}

/** The reference page's "Try it out" of `operation` (`service-getHealth`): the answer it got. */
async function tryItOut(page: Page, operation: string) {
  const block = page.locator(`#operations-${operation}`);
  await block.locator('.opblock-summary').click();
  await block.locator('button.try-out__btn').click();
  const [answer] = await Promise.all([
    page.waitForResponse((response) => response.request().resourceType() === 'fetch'),
    block.locator('button.execute').click(),
  ]);
  // The answer's headers are in, its body may not be: a page left now fails the call (a loaded
  // Node 24 run saw /health end as a failed request when the test went on to the dashboard).
  expect(await answer.finished()).toBeNull();
  return answer;
}

describe('behind a gateway that mounts the proxy under /proxy', () => {
  it('gives out URLs under the prefix, and logs the caller, with --trust-proxy naming the gateway', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: [
        '--target-url',
        target.url,
        '--store',
        'memory',
        '--trust-proxy',
        '127.0.0.1',
        '--log-level',
        'debug',
        '--log-format',
        'json',
      ],
    });
    onTestFinished(() => proxy.stop().then(() => undefined));
    const gateway = await startGateway(proxy.url);

    const submitted = await callFrom(`${gateway}/proxy/api/function1`, 'POST');
    expect(submitted.status).toBe(202);
    const { task_id: id, data } = JSON.parse(submitted.body) as SubmitBody;
    expect(submitted.headers.location).toBe(`/proxy/task/${id}`);
    expect(data.status_url).toBe(`/proxy/task/${id}`);
    // The URL given out, resolved as a client resolves it, reaches the task through the gateway.
    const read = await callFrom(`${new URL(data.status_url, gateway).href}?wait=10`);
    expect(read.status).toBe(200);
    expect((JSON.parse(read.body) as DataBody<Task>).data).toMatchObject({
      task_id: id,
      status: 'completed',
    });

    const addresses = proxy
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('"remoteAddress"'))
      .map((line) => (JSON.parse(line) as { req?: { remoteAddress?: string } }).req?.remoteAddress);
    expect(addresses.length).toBeGreaterThan(0);
    expect(new Set(addresses)).toEqual(new Set([CALLER]));
  });

  it('believes neither header from a peer --trust-proxy does not name, nor without it', async () => {
    const target = await startTarget();
    for (const flags of [[], ['--trust-proxy', '10.0.0.0/8']]) {
      const proxy = await spawnProxyServer({
        args: ['--target-url', target.url, '--store', 'memory', '--fair-key', 'ip', ...flags],
      });
      onTestFinished(() => proxy.stop().then(() => undefined));
      const gateway = `${await startGateway(proxy.url)}/proxy`;
      for (const [base, caller] of [
        [gateway, '127.0.0.1'],
        [proxy.url, CALLER],
      ] as const) {
        const submitted = await callFrom(`${base}/api/function1`, 'POST', {
          'x-forwarded-prefix': '/elsewhere',
          'x-forwarded-for': '203.0.113.9',
        });
        expect(submitted.status, `${flags} ${base}`).toBe(202);
        const { task_id: id } = JSON.parse(submitted.body) as SubmitBody;
        expect(submitted.headers.location, `${flags} ${base}`).toBe(`/task/${id}`);
        const read = await callFrom(`${proxy.url}/task/${id}`);
        expect((JSON.parse(read.body) as DataBody<Task>).data.tenant, `${flags} ${base}`).toBe(
          caller,
        );
      }
    }
  });

  it('takes turns by the callers’ addresses through the gateway (--fair-key ip)', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: [
        ...['--target-url', target.url, '--store', 'memory', '--fair-key', 'ip'],
        ...['--trust-proxy', '127.0.0.1', '--max-concurrent', '1', '--num-workers', '1'],
      ],
    });
    onTestFinished(() => proxy.stop().then(() => undefined));
    const gateway = await startGateway(proxy.url);
    const submitFrom = async (caller: string, path: string) => {
      const answer = await callFrom(`${gateway}/proxy${path}`, 'POST', {}, caller);
      expect(answer.status).toBe(202);
      return (JSON.parse(answer.body) as SubmitBody).task_id;
    };
    const read = async (id: string, query = '') =>
      (JSON.parse((await callFrom(`${gateway}/proxy/task/${id}${query}`)).body) as DataBody<Task>)
        .data;

    // One call holds the only slot while the first caller queues four more, then the other one.
    const holding = await submitFrom(CALLER, '/api/long?seconds=60');
    await waitFor(async () => (await read(holding)).status === 'processing');
    const queued: string[] = [];
    for (let n = 0; n < 4; n++) queued.push(await submitFrom(CALLER, '/api/function1'));
    const other = await submitFrom(OTHER_CALLER, '/api/function1');
    expect((await read(holding)).tenant).toBe(CALLER);
    expect((await read(other)).tenant).toBe(OTHER_CALLER);
    // Its turn comes after the first caller's next task, not after all four.
    expect((await read(other)).queue_position).toBe(2);
    expect((await read(queued[3] ?? '')).queue_position).toBe(5);

    // A retry is the tenant of the caller who asks for it.
    await callFrom(`${gateway}/proxy/task/${holding}`, 'DELETE');
    expect((await read(other, '?wait=10')).status).toBe('completed');
    const retried = await callFrom(`${gateway}/proxy/task/${other}/retry`, 'POST');
    expect(retried.status).toBe(202);
    expect((await read((JSON.parse(retried.body) as SubmitBody).task_id)).tenant).toBe(CALLER);
  });

  it('serves the API reference (the page, its assets, its document and its server) and the dashboard under the prefix', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--store', 'memory', '--trust-proxy', 'loopback'],
    });
    onTestFinished(() => proxy.stop().then(() => undefined));
    const gateway = await startGateway(proxy.url);

    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failures.push(`${response.status()} ${response.url()}`);
    });
    page.on('requestfailed', (failed) =>
      failures.push(
        `failed ${failed.resourceType()} ${failed.url()}: ${failed.failure()?.errorText ?? '?'}`,
      ),
    );
    page.on('pageerror', (error) => failures.push(error.message));

    await page.goto(`${gateway}/proxy/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(`${gateway}/proxy/docs/`);
    // "Try it out" calls the document's server: the prefix, through the gateway.
    expect(await page.locator('.servers select option').allTextContents()).toEqual([
      expect.stringContaining('/proxy'),
    ]);
    expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
    const tried = await tryItOut(page, 'service-getHealth');
    expect(tried.url()).toBe(`${gateway}/proxy/health`);
    expect(tried.status()).toBe(200);

    // The dashboard, whose URLs are its own, relative ones: live, with a task from outside.
    await page.goto(`${gateway}/proxy/ui`);
    await page.locator('#live[data-state="live"]').waitFor();
    const submitted = await callFrom(`${gateway}/proxy/api/function1`, 'POST');
    const { task_id: id } = JSON.parse(submitted.body) as SubmitBody;
    await page.locator(`#task-table tr[data-id="${id}"][data-status="completed"]`).waitFor();
    expect(failures).toEqual([]);
    // A browser rendering Swagger UI: slow on a busy machine.
  }, 60_000);

  // Review: without --trust-proxy the document's server was `/`, which the page resolved against
  // the gateway's root: "Try it out" of /proxy/docs called the gateway's /health, not the proxy.
  it('lets the API reference\'s "Try it out" reach the proxy under the prefix without --trust-proxy, and without the gateway', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--store', 'memory'],
    });
    onTestFinished(() => proxy.stop().then(() => undefined));
    const gateway = await startGateway(proxy.url);

    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    for (const base of [`${gateway}/proxy`, proxy.url]) {
      await page.goto(`${base}/docs`);
      await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
      const tried = await tryItOut(page, 'service-getHealth');
      expect(tried.url(), base).toBe(`${base}/health`);
      expect(tried.status(), base).toBe(200);
    }
  }, 60_000);
});

// Heroku's router ends a request silent for 30 s, AWS API Gateway one longer than 29 s, and
// neither can be told otherwise. Here a gateway gives up after 4 s and the target takes 6 s: held
// reads, held submissions and event streams each pass 4 s of waiting, and must not be cut.
describe('behind a gateway that ends silent requests sooner than 60 s, with --max-wait below it', () => {
  it('answers held reads and held submissions before the gateway gives up, and keeps event streams alive', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--store', 'memory', '--max-wait', '1'],
    });
    onTestFinished(() => proxy.stop().then(() => undefined));
    const gateway = await startGateway(proxy.url, 4);
    const slow = `${gateway}/proxy/api/function1?delay_ms=6000`;

    const submitted = await callFrom(slow, 'POST', { prefer: 'wait=60' });
    expect(submitted.status).toBe(202);
    const { task_id: id } = JSON.parse(submitted.body) as SubmitBody;
    const read = await callFrom(`${gateway}/proxy/task/${id}?wait=60`);
    expect(read.status).toBe(200);
    expect(read.headers['x-proxy-wait-max']).toBe('1');
    expect((JSON.parse(read.body) as DataBody<Task>).data.status).toBe('processing');
    // The stream ends after the task's last event, 6 s in: heartbeats kept the gateway from
    // taking it for a dead request at 4 s.
    const stream = await callFrom(`${gateway}/proxy/task/${id}/events`);
    expect(stream.status).toBe(200);
    expect(stream.body).toContain(': heartbeat');
    expect(stream.body).toMatch(/"status":"completed"/);
  });
});

describe('X-Forwarded-Prefix from a trusted gateway', () => {
  it.each([
    ['/proxy', '/proxy'],
    ['/proxy/', '/proxy'],
    ['/', ''],
    ['/a, /b/', '/a/b'],
    ['/v1/queue%20a', '/v1/queue%20a'],
  ])('reads %j as %j', (header, prefix) => {
    expect(prefixOf(header)).toBe(prefix);
  });

  it.each([
    '//evil.example',
    '/proxy/%2e%2e',
    '/a/%2E/b',
    'https://evil.example/x',
    'proxy',
    '/a/../b',
    '/a/./b',
    '/a?x=1',
    '/a#x',
    '/a b',
    '/%zz',
    '',
    `/${'a'.repeat(1024)}`,
  ])('refuses %j', (header) => {
    expect(prefixOf(header)).toBeUndefined();
  });

  it('is refused with a 400 naming it, before any task is taken', async () => {
    const { app } = await startProxy('http://127.0.0.1:9', { flags: ['--trust-proxy', '1'] });
    const answer = await app.inject({
      method: 'POST',
      url: '/api/x',
      headers: { 'x-forwarded-prefix': '//evil.example' },
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toEqual({
      success: false,
      error: 'bad_request',
      message: 'X-Forwarded-Prefix "//evil.example" from the gateway is not a path such as /proxy',
    });
    expect((await app.inject('/stats')).json().data.totals.submitted).toBe(0);
  });

  it('puts the endpoints GET / lists under it', async () => {
    const { app } = await startProxy('http://127.0.0.1:9', { flags: ['--trust-proxy', '1'] });
    const paths = async (headers: Record<string, string>) => {
      const answer = await app.inject({ url: '/', headers });
      const { endpoints } = answer.json().data as ServiceInfo;
      return endpoints.map((endpoint) => endpoint.path);
    };
    const plain = await paths({});
    expect(plain).toContain('/api/*');
    expect(await paths({ 'x-forwarded-prefix': '/proxy/' })).toEqual(
      plain.map((path) => `/proxy${path}`),
    );
    expect(await paths({ 'x-forwarded-prefix': '/' })).toEqual(plain);
  });
});

describe('--fair-key ip', () => {
  it('names an IPv4 caller of a dual-stack listener by its IPv4 address', async () => {
    const { app } = await startProxy('http://127.0.0.1:9', { flags: ['--fair-key', 'ip'] });
    const tenantOf = async (remoteAddress: string) => {
      const submitted = await app.inject({ method: 'POST', url: '/api/x', remoteAddress });
      const id = (submitted.json() as SubmitBody).task_id;
      return ((await app.inject(`/task/${id}`)).json() as DataBody<Task>).data.tenant;
    };
    expect(await tenantOf('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(await tenantOf('2001:db8::7')).toBe('2001:db8::/64');
  });

  // Review: whatever X-Forwarded-For said became the tenant: a gateway that adds the port made
  // each connection a tenant of its own, and through a hop count a caller named itself anything.
  it('takes one name per caller from X-Forwarded-For, and refuses what is no address', async () => {
    const { app } = await startProxy('http://127.0.0.1:9', {
      flags: ['--fair-key', 'ip/128', '--trust-proxy', '1'],
    });
    const submit = (forwardedFor: string) =>
      app.inject({ method: 'POST', url: '/api/x', headers: { 'x-forwarded-for': forwardedFor } });
    const tenantOf = async (forwardedFor: string) => {
      const id = ((await submit(forwardedFor)).json() as SubmitBody).task_id;
      return ((await app.inject(`/task/${id}`)).json() as DataBody<Task>).data.tenant;
    };
    expect(await tenantOf('203.0.113.7:5555')).toBe('203.0.113.7');
    expect(await tenantOf('[2001:DB8:0::7]:443')).toBe('2001:db8::7');
    expect(await tenantOf('2001:0db8::0007')).toBe('2001:db8::7');
    expect(await tenantOf('[2001:db8::7]')).toBe('2001:db8::7');
    expect(await tenantOf('0:0:0:0:0:FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(await tenantOf('::ffff:cb00:7107')).toBe('203.0.113.7');
    // Squid's way of hiding its callers: all of them one tenant, the nameless one.
    expect(await tenantOf('unknown')).toBe('');
    const refused = await submit('tenant-of-my-choice');
    expect(refused.statusCode).toBe(400);
    expect(refused.json().message).toBe(
      'The caller\'s address "tenant-of-my-choice" (from X-Forwarded-For) is not an IP address: --fair-key ip needs one',
    );
    expect((await app.inject('/stats')).json().data.totals.submitted).toBe(7);
  });
});
