import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type {
  DataBody,
  ErrorBody,
  ServiceInfo,
  Stats,
  SubmitBody,
  TaskList,
} from 'proxy-client/wire';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/index.js';
import { rawRequest, startProxy, startTarget } from './helper.js';

/** A port nothing listens on: connections are refused at once. */
const CLOSED_TARGET = 'http://127.0.0.1:9';

describe('GET /', () => {
  it('describes the service, its target and its endpoints', async () => {
    const { app } = await startProxy(CLOSED_TARGET);
    const response = await app.inject('/');
    expect(response.statusCode).toBe(200);
    const body = response.json<DataBody<ServiceInfo>>();
    expect(body.success).toBe(true);
    expect(body.data).toMatchObject({
      name: 'proxy-server',
      version: VERSION,
      target: CLOSED_TARGET,
    });
    expect(body.data.endpoints.map((e) => `${e.method} ${e.path}`)).toEqual([
      'GET /',
      'ANY /api/*',
      'GET /task/:id',
      'GET /task/:id/result',
      'GET /task/:id/events',
      'DELETE /task/:id',
      'POST /task/:id/retry',
      'GET /tasks',
      'GET /events',
      'DELETE /tasks/cleanup',
      'GET /stats',
      'GET /health',
      'GET /metrics',
      'GET /openapi.json',
      'GET /docs',
      'GET /ui',
    ]);
    // Each one a route the server has.
    for (const { method, path } of body.data.endpoints) {
      expect(app.hasRoute({ method: method === 'ANY' ? 'POST' : method, url: path }), path).toBe(
        true,
      );
    }
  });
});

describe('submitting', () => {
  it('answers 202 with Location and the submit body, for any method', async () => {
    const target = await startTarget();
    const { app } = await startProxy(target.url);
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      const response = await app.inject({ method, url: '/api/function1?x=1' });
      expect(response.statusCode).toBe(202);
      const body = response.json<SubmitBody>();
      expect(body).toEqual({
        success: true,
        task_id: body.task_id,
        status: 'pending',
        message: 'Task created',
        data: { task_id: body.task_id, status_url: `/task/${body.task_id}` },
      });
      expect(body.task_id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(response.headers.location).toBe(`/task/${body.task_id}`);
    }
  });

  it('refuses a body over the limit with 413 and creates no task', async () => {
    const { app } = await startProxy(CLOSED_TARGET, { flags: ['--body-limit', '1kb'] });
    const response = await app.inject({
      method: 'POST',
      url: '/api/x',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(1025),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json<ErrorBody>()).toMatchObject({
      success: false,
      error: 'payload_too_large',
    });
    const stats = (await app.inject('/stats')).json<DataBody<Stats>>().data;
    expect(stats.tasks.total).toBe(0);
    const atLimit = await app.inject({ method: 'POST', url: '/api/x', body: Buffer.alloc(1024) });
    expect(atLimit.statusCode).toBe(202);
  });
});

describe('bad input on the proxy’s own routes gets a 4xx envelope', () => {
  const unknownId = randomUUID();
  it.each([
    ['GET', '/task/not-a-uuid', 400, 'invalid_task_id'],
    ['GET', '/task/1234', 400, 'invalid_task_id'],
    ['GET', `/task/${unknownId}`, 404, 'task_not_found'],
    ['GET', `/task/${unknownId}?wait=61`, 400, 'invalid_query'],
    ['GET', `/task/${unknownId}?wait=-1`, 400, 'invalid_query'],
    ['GET', `/task/${unknownId}?wait=soon`, 400, 'invalid_query'],
    ['GET', '/tasks?status=sleeping', 400, 'invalid_query'],
    ['GET', '/tasks?limit=0', 400, 'invalid_query'],
    ['GET', '/tasks?limit=1001', 400, 'invalid_query'],
    ['GET', '/tasks?limit=ten', 400, 'invalid_query'],
    ['GET', '/tasks?offset=-1', 400, 'invalid_query'],
    ['DELETE', '/tasks/cleanup?max_age_hours=-1', 400, 'invalid_query'],
    ['DELETE', '/tasks/cleanup?max_age_hours=old', 400, 'invalid_query'],
    ['GET', '/nowhere', 404, 'not_found'],
    ['POST', '/stats', 405, 'method_not_allowed'],
    ['GET', '/api', 404, 'not_found'],
  ] as const)('%s %s → %i %s', async (method, url, status, code) => {
    const { app } = await startProxy(CLOSED_TARGET);
    const response = await app.inject({ method, url });
    expect(response.statusCode).toBe(status);
    const body = response.json<ErrorBody>();
    expect(body).toEqual({ success: false, error: code, message: expect.any(String) });
    expect(body.message.length).toBeGreaterThan(0);
  });

  it.each([
    [
      '/tasks?status=sleeping',
      'status must be one of pending, processing, completed, failed, cancelled, expired, got "sleeping"',
    ],
    ['/tasks?limit=1001', 'limit must be <= 1000, got 1001'],
    ['/tasks?limit=Infinity', "limit must be a whole number in decimal digits, got 'Infinity'"],
    ['/tasks?offset=-Infinity', "offset must be a whole number in decimal digits, got '-Infinity'"],
    // Number() reads these too; the contract's numbers are decimal.
    ['/tasks?limit=0x10', "limit must be a whole number in decimal digits, got '0x10'"],
    ['/tasks?limit=%2B5', "limit must be a whole number in decimal digits, got '+5'"],
    ['/tasks?limit=1e1', "limit must be a whole number in decimal digits, got '1e1'"],
    [
      '/task/00000000-0000-4000-8000-000000000000?wait=0x3',
      "wait must be a number in decimal digits, got '0x3'",
    ],
    [
      '/events?status=pending,sleeping',
      'status must be one or more of pending, processing, completed, failed, cancelled, expired, comma-separated, got "pending,sleeping"',
    ],
    // What was sent, not what Ajv coerced it to: this offset is no double's.
    ['/tasks?offset=9007199254740993', 'offset must be <= 9007199254740991, got 9007199254740993'],
    ['/task/00000000-0000-4000-8000-000000000000?wait=61.50', 'wait must be <= 60, got 61.50'],
    // A negative number is decimal digits too: its sign is what is wrong.
    ['/tasks?offset=-1', "offset must be 0 or more, got '-1'"],
    // limit's least is 1: '0 or more' would send the caller to ?limit=0, refused in turn.
    ['/tasks?limit=-1', "limit must be 1 or more, got '-1'"],
    ['/task/00000000-0000-4000-8000-000000000000?wait=-.5', "wait must be 0 or more, got '-.5'"],
    ['/tasks?limit=', "limit must be a whole number in decimal digits, got ''"],
    ['/tasks?limit=--1', "limit must be a whole number in decimal digits, got '--1'"],
    // A repeated parameter is no single value to check; say so rather than "must be integer".
    ['/tasks?limit=10&limit=20', 'limit must be sent once, got it 2 times'],
    ['/tasks?status=failed&status=cancelled', 'status must be sent once, got it 2 times'],
    [
      '/events?status=failed&status=expired&status=failed',
      'status must be sent once, got it 3 times',
    ],
  ])('GET %s names the field, what was sent and what it may be', async (url, message) => {
    const { app } = await startProxy(CLOSED_TARGET);
    const body = (await app.inject(url)).json<ErrorBody>();
    expect(body).toEqual({ success: false, error: 'invalid_query', message });
  });

  it('every GET /task answer says the longest wait it supports', async () => {
    const { app } = await startProxy(CLOSED_TARGET);
    const id = (await app.inject({ method: 'POST', url: '/api/x' })).json<SubmitBody>().task_id;
    for (const url of [
      `/task/${id}`,
      '/task/bad',
      `/task/${randomUUID()}`,
      `/task/${id}?wait=99`,
    ]) {
      expect((await app.inject(url)).headers['x-proxy-wait-max']).toBe('60');
    }
  });
});

// Newcomer pass: 'curl localhost:8080/tasks/' answered 'No route GET /tasks/' and left the
// reader to spot the slash.
describe('a route written with a trailing slash', () => {
  it.each([
    ['GET', '/tasks/', 'No route GET /tasks/; the route is GET /tasks, without the trailing slash'],
    [
      'GET',
      '/stats/?x=1',
      'No route GET /stats/?x=1; the route is GET /stats, without the trailing slash',
    ],
    [
      'DELETE',
      '/tasks/cleanup/',
      'No route DELETE /tasks/cleanup/; the route is DELETE /tasks/cleanup, without the trailing slash',
    ],
    // GET's route without the slash: the method is the mistake as much as the slash.
    ['POST', '/stats/', 'No route POST /stats/; did you mean GET /stats?'],
    [
      'GET',
      '/nowhere/',
      'No route GET /nowhere/; requests for the target go under /api/: GET /api/nowhere/',
    ],
    // A malformed escape names no route: the router hands it to its handler of bad URLs.
    ['GET', '/stats%E9/', 'No route GET /stats%E9/'],
    ['GET', '/tasks%ZZ/', 'No route GET /tasks%ZZ/'],
    ['GET', '/%/', 'No route GET /%/'],
  ])('%s %s is a 404 that names the route meant', async (method, url, message) => {
    const { app } = await startProxy(CLOSED_TARGET);
    const response = await app.inject({ method: method as 'GET', url });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ success: false, error: 'not_found', message });
  });
});

// First-hour pass: a job sent to the target's own path, without /api/, answered only
// 'No route POST /function1' (or, at /, that / takes GET), never saying where jobs go.
describe('a request for the target sent outside /api/', () => {
  it.each([
    [
      'POST',
      '/function1?x=1',
      404,
      'No route POST /function1?x=1; requests for the target go under /api/: POST /api/function1?x=1',
    ],
    [
      'POST',
      '/api',
      404,
      'No route POST /api; requests for the target go under /api/: POST /api/<path on the target>',
    ],
    [
      'POST',
      '/',
      405,
      'POST /: this route takes GET, HEAD; requests for the target go under /api/: POST /api/<path on the target>',
    ],
  ])('%s %s answers %i naming /api/', async (method, url, status, message) => {
    const { app } = await startProxy(CLOSED_TARGET);
    const response = await app.inject({ method: method as 'POST', url, payload: {} });
    expect(response.statusCode).toBe(status);
    expect(response.json<ErrorBody>().message).toBe(message);
  });
});

// First-hour pass: 'GET /stat' answered with '/api/stat', sending a typo on to the target.
describe('a path near one of the proxy routes', () => {
  it.each([
    ['GET', '/stat', 'did you mean GET /stats?'],
    ['GET', '/Stats', 'did you mean GET /stats?'],
    ['GET', '/heath', 'did you mean GET /health?'],
    ['GET', '/metric?x=1', 'did you mean GET /metrics?x=1?'],
    ['GET', '/event', 'did you mean GET /events?'],
    ['GET', '/task', 'did you mean GET /task/:id or DELETE /task/:id?'],
    ['POST', '/tasks/', 'did you mean GET /tasks?'],
    ['GET', '/task/abc/cancle', 'did you mean GET /task/abc or DELETE /task/abc?'],
    ['POST', '/task/abc/retyr', 'did you mean POST /task/abc/retry?'],
    ['GET', '/tasks/abc', 'did you mean GET /task/abc or DELETE /task/abc?'],
    ['PUT', '/apis/x', 'did you mean PUT /api/x?'],
    ['POST', '/ap/v1/chat', 'did you mean POST /api/v1/chat?'],
  ])('%s %s is a 404 that names the route meant', async (method, url, hint) => {
    const { app } = await startProxy(CLOSED_TARGET);
    const response = await app.inject({ method: method as 'GET', url });
    expect(response.statusCode).toBe(404);
    expect(response.json<ErrorBody>()).toEqual({
      success: false,
      error: 'not_found',
      message: `No route ${method} ${url}; ${hint}`,
    });
  });

  // The route named keeps the query string, as the /api/ hint does, so it is the request to send.
  it.each([
    ['GET', '/stat?x=1&y=%C3%BC', 'did you mean GET /stats?x=1&y=%C3%BC?'],
    ['GET', '/task?wait=5', 'did you mean GET /task/:id?wait=5 or DELETE /task/:id?wait=5?'],
    ['POST', '/task/abc/retyr?x=1', 'did you mean POST /task/abc/retry?x=1?'],
  ])(
    '%s %s, over a socket, names the route meant with the query sent',
    async (method, url, hint) => {
      const proxy = await startProxy(CLOSED_TARGET, { listen: true });
      const response = await fetch(proxy.url + url, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        success: false,
        error: 'not_found',
        message: `No route ${method} ${url}; ${hint}`,
      });
    },
  );

  it.each([
    ['POST', '/function1'],
    ['POST', '/v1/chat/completions'],
    ['GET', '/state/of/things'],
    ['GET', '/uid'],
  ])('%s %s, unlike any of them, is sent under /api/', async (method, url) => {
    const { app } = await startProxy(CLOSED_TARGET);
    const response = await app.inject({ method: method as 'GET', url });
    expect(response.statusCode).toBe(404);
    expect(response.json<ErrorBody>().message).toBe(
      `No route ${method} ${url}; requests for the target go under /api/: ${method} /api${url}`,
    );
  });
});

// First-hour pass: `GET /./api/x` was told to send `GET /api/./api/x`, the dot segment kept.
describe('a path with dot segments', () => {
  it.each([
    ['GET', '/./api/x', '; did you mean GET /api/x?'],
    ['POST', '/%2e/api/x?y=1', '; did you mean POST /api/x?y=1?'],
    ['GET', '/../stats', '; did you mean GET /stats?'],
    ['GET', '/tasks/../stats/.', '; did you mean GET /stats?'],
    ['GET', '/./nowhere', ''],
  ])(
    '%s %s, sent as is, names the path without them if it is a route',
    async (method, url, hint) => {
      const proxy = await startProxy(CLOSED_TARGET, { listen: true });
      const response = await rawRequest(proxy.url, `${method} ${url} HTTP/1.1\r\nHost: x`);
      expect(response.status).toBe(404);
      expect(JSON.parse(response.body)).toEqual({
        success: false,
        error: 'not_found',
        message: `No route ${method} ${url}${hint}`,
      });
    },
  );
});

describe('GET /tasks', () => {
  it('pages newest first with a default and a maximum page size, filtered by status', async () => {
    const { app, finished } = await startProxy(CLOSED_TARGET, {
      flags: ['--max-queue-size', '100'],
    });
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      ids.push(
        (await app.inject({ method: 'POST', url: `/api/n${i}` })).json<SubmitBody>().task_id,
      );
    }
    for (const id of ids) await finished(id);
    const list = async (query: string) =>
      (await app.inject(`/tasks${query}`)).json<DataBody<TaskList>>().data;

    const first = await list('');
    expect(first.limit).toBe(50);
    expect(first.offset).toBe(0);
    expect(first.total).toBe(60);
    expect(first.tasks.map((t) => t.task_id)).toEqual(ids.slice(-50).reverse());

    const second = await list('?limit=20&offset=50');
    expect(second.tasks.map((t) => t.task_id)).toEqual(ids.slice(0, 10).reverse());

    const failed = await list('?status=failed&limit=1000');
    expect(failed.total).toBe(60);
    expect(
      failed.tasks.every((t) => t.status === 'failed' && t.error?.code === 'upstream_refused'),
    ).toBe(true);
    expect((await list('?status=completed')).total).toBe(0);
  });
});

describe('GET /stats', () => {
  it('reports counts, limits and totals', async () => {
    const { app, finished } = await startProxy(CLOSED_TARGET, {
      flags: ['--max-concurrent', '3', '--num-workers', '2', '--max-queue-size', '7'],
    });
    const id = (await app.inject({ method: 'POST', url: '/api/x' })).json<SubmitBody>().task_id;
    await finished(id);
    const stats = (await app.inject('/stats')).json<DataBody<Stats>>().data;
    expect(stats).toMatchObject({
      tasks: { pending: 0, processing: 0, completed: 0, failed: 1, total: 1 },
      queue_size: 0,
      max_queue_size: 7,
      max_concurrent: 3,
      num_workers: 2,
      effective_concurrency: 2,
      in_flight: 0,
      long_tasks: 0,
      totals: { submitted: 1, completed: 0, failed: 1, rejected_queue_full: 0, removed: 0 },
      target: CLOSED_TARGET,
      version: VERSION,
    });
    expect(stats.avg_processing_ms).toEqual(expect.any(Number));
    expect(stats.uptime_s).toBeGreaterThanOrEqual(0);
    expect(Date.parse(stats.started_at)).not.toBeNaN();
  });

  // Behind a load balancer the totals and uptime were some instance's, and nothing said whose.
  it('names the instance that answered as its metrics do: --metrics-instance', async () => {
    const { app } = await startProxy(CLOSED_TARGET, { flags: ['--metrics-instance', 'proxy-a'] });
    const stats = (await app.inject('/stats')).json<DataBody<Stats>>().data;
    expect(stats.instance).toBe('proxy-a');
    expect(await app.inject('/metrics').then((r) => r.body)).toContain('instance="proxy-a"');
  });

  it('names the instance <hostname>:<listen port> by default, the port it listens on', async () => {
    const proxy = await startProxy(CLOSED_TARGET, { listen: true });
    const stats = (await (await fetch(`${proxy.url}/stats`)).json()) as DataBody<Stats>;
    expect(stats.data.instance).toBe(`${hostname()}:${new URL(proxy.url).port}`);
  });
});

describe('GET /health', () => {
  it('is 200 whether or not the target answers, and says which', async () => {
    const target = await startTarget();
    const up = await startProxy(target.url);
    const down = await startProxy(CLOSED_TARGET);
    const upBody = (await up.app.inject('/health')).json();
    expect(upBody).toMatchObject({
      success: true,
      status: 'ok',
      target: { url: target.url, reachable: true },
    });
    expect(upBody.target.latency_ms).toEqual(expect.any(Number));
    const response = await down.app.inject('/health');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      success: true,
      status: 'degraded',
      target: {
        url: CLOSED_TARGET,
        reachable: false,
        latency_ms: null,
        message: expect.stringContaining('ECONNREFUSED'),
      },
      store: { kind: 'memory', available: true, message: null },
    });
  });
});
