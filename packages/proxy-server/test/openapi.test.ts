import { isDeepStrictEqual } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { RouteOptions } from 'fastify';
import {
  type DataBody,
  ErrorBodySchema,
  IDEMPOTENT_REPLAYED_HEADER,
  LAST_EVENT_ID_HEADER,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  SUBMIT_HEADERS,
  type SubmitBody,
  SubmitBodySchema,
  TASK_ID_HEADER,
  type Task,
  TaskBodySchema,
  WAIT_MAX_HEADER,
} from 'proxy-client/wire';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildServer, LocalBackend, MemoryRepository } from '../src/index.js';
import { FaultyRepository } from './engine/harness.js';
import { configFor, rawRequest, startProxy, startTarget } from './helper.js';

type Parameter = { in: string; name: string; required?: boolean };
type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<
    string,
    {
      description: string;
      content?: Record<string, { schema: object }>;
      headers?: Record<string, unknown>;
    }
  >;
  security?: unknown[];
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, object> };
  security?: unknown[];
};
type Schema = { $ref?: string; properties?: Record<string, unknown>; required?: string[] };

/** `schema`, or the named schema it references. */
function resolved(document: Document, schema: Schema | undefined): Schema | undefined {
  const name = schema?.$ref?.replace('#/components/schemas/', '');
  return name === undefined ? schema : (document.components?.schemas?.[name] as Schema);
}

const OPENAPI_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SUBMIT_MEDIA_TYPES = ['application/json', 'text/plain', 'application/octet-stream', '*/*'];

/** The proxy as a Fastify app, with every route it registers (hooked in before they load). */
async function proxyWithRoutes(flags: string[] = []) {
  const app = buildServer(configFor('http://127.0.0.1:1', flags));
  onTestFinished(() => app.close());
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  await app.ready();
  return { app, routes };
}

async function documentOf(
  app: Awaited<ReturnType<typeof proxyWithRoutes>>['app'],
  headers: Record<string, string> = {},
) {
  const response = await app.inject({ url: '/openapi.json', headers });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  return response.json() as Document;
}

describe('GET /openapi.json', () => {
  it.each([
    ['without an API key', []],
    ['with an API key, docs public', ['--api-key', 'k3y', '--public-docs', '--public-metrics']],
  ])('is a valid OpenAPI 3.1 document (%s)', async (_, flags) => {
    const { app } = await proxyWithRoutes(flags);
    const document = await documentOf(app);
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(result).toEqual({ valid: true });
  });

  it('documents every route the proxy serves, each with a summary, a tag and an operation id of its own', async () => {
    const { app, routes } = await proxyWithRoutes();
    const document = await documentOf(app);
    const served = routes
      // The reference page's own files (/docs is documented), and what a route hides (/ui/,
      // a redirect to /ui).
      .filter((route) => !route.url.startsWith('/docs/'))
      .filter((route) => (route.schema as { hide?: boolean } | undefined)?.hide !== true)
      .flatMap((route) =>
        (Array.isArray(route.method) ? route.method : [route.method]).map((method) => ({
          method: method.toLowerCase(),
          url: route.url,
        })),
      )
      // HEAD twins of GET routes.
      .filter(({ method, url }) => method !== 'head' || url === '/api/*')
      .filter(({ method }) => OPENAPI_METHODS.includes(method));
    expect(served.length).toBeGreaterThan(20);
    const inDocument = (url: string) =>
      url.replace(/:(\w+)/g, '{$1}').replace(/^\/api\/\*$/, '/api/{path}');
    const missing = served.filter(
      ({ method, url }) => document.paths[inDocument(url)]?.[method] === undefined,
    );
    expect(missing).toEqual([]);
    const operationIds: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect(operation.summary, `${method} ${path}`).toBeTruthy();
        expect(operation.tags?.length, `${method} ${path}`).toBe(1);
        // Generated clients name their functions by it (openapi-generator, orval, Redocly lint).
        expect(operation.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
        operationIds.push(operation.operationId ?? '');
      }
    }
    expect(new Set(operationIds).size).toBe(operationIds.length);
    expect(document.paths['/api/{path}']?.post?.operationId).toBe('submitTaskPost');
    expect(document.paths['/task/{id}']?.delete?.operationId).toBe('cancelTask');
    expect(Object.keys(document.paths['/api/{path}'] ?? {}).sort()).toEqual(
      [...OPENAPI_METHODS].sort(),
    );
    for (const path of ['/metrics', '/openapi.json', '/docs', '/ui', '/health', '/stats']) {
      expect(document.paths[path]?.get, path).toBeDefined();
    }
  });

  it('describes the bodies with the wire schemas, the request headers, the streams and the raw result', async () => {
    const { app } = await proxyWithRoutes();
    const document = await documentOf(app);
    const { paths } = document;
    const submit = paths['/api/{path}']?.post;
    const headers = (operation: Operation | undefined) =>
      (operation?.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers(submit)).toEqual(Object.values(SUBMIT_HEADERS));
    expect(Object.keys(submit?.requestBody?.content ?? {})).toEqual(SUBMIT_MEDIA_TYPES);
    const json = (operation: Operation | undefined, code: string) =>
      resolved(document, operation?.responses[code]?.content?.['application/json']?.schema);
    expect(json(submit, '202')?.required).toEqual(SubmitBodySchema.required);
    expect(json(submit, '200')?.required).toEqual(TaskBodySchema.required);
    expect(json(submit, '503')?.required).toEqual(ErrorBodySchema.required);
    expect(submit?.responses['202']).toMatchObject({ headers: { location: expect.anything() } });
    // A known Idempotency-Key with Prefer: wait=N answers 200 with the header too.
    for (const code of ['200', '202']) {
      expect(Object.keys(submit?.responses[code]?.headers ?? {}), code).toContain(
        IDEMPOTENT_REPLAYED_HEADER,
      );
    }
    expect(headers(paths['/task/{id}/retry']?.post)).toEqual([SUBMIT_HEADERS.prefer]);
    for (const stream of ['/events', '/task/{id}/events']) {
      const operation = paths[stream]?.get;
      expect(headers(operation), stream).toEqual([LAST_EVENT_ID_HEADER]);
      expect(Object.keys(operation?.responses['200']?.content ?? {}), stream).toEqual([
        'text/event-stream',
      ]);
    }
    // The docs audit: `Last-Event-ID: end` answers 204, which the document left out.
    expect(paths['/task/{id}/events']?.get?.responses['204']).toBeDefined();
    expect(paths['/events']?.get?.responses['204']).toBeUndefined();
    expect(Object.keys(paths['/task/{id}/result']?.get?.responses['200']?.content ?? {})).toEqual([
      '*/*',
    ]);
    expect(Object.keys(paths['/metrics']?.get?.responses['200']?.content ?? {})).toEqual([
      'text/plain; version=0.0.4; charset=utf-8',
    ]);
  });

  // Browser pass: with the body documented as */* only, Swagger UI's "Try it out" sent the target
  // `Content-Type: */*`.
  it('offers JSON first for a submission body, and takes any body of any type still', async () => {
    const { app } = await proxyWithRoutes();
    const item = (await documentOf(app)).paths['/api/{path}'] ?? {};
    for (const [method, operation] of Object.entries(item)) {
      const content = (operation.requestBody?.content ?? {}) as Record<string, { schema: object }>;
      expect(Object.keys(content), method).toEqual(SUBMIT_MEDIA_TYPES);
      // No type: a generated client takes any value (openapi-typescript's `unknown`).
      for (const { schema } of Object.values(content)) expect(schema).not.toHaveProperty('type');
    }
  });

  // Browser pass: a preflight of a submission is answered 204 by the proxy itself, with CORS on
  // or off, which the document did not say.
  it.each([
    ['without CORS', []],
    ['with CORS', ['--cors-origin', 'https://app.example']],
  ])('documents the 204 a preflight gets on OPTIONS /api/{path} only (%s)', async (_, flags) => {
    const { app } = await proxyWithRoutes(flags);
    const item = (await documentOf(app)).paths['/api/{path}'] ?? {};
    expect(item.options?.responses['204']?.description).toMatch(/preflight/);
    expect(item.options?.responses['204']?.content).toBeUndefined();
    expect(item.options?.responses['202']).toBeDefined();
    for (const method of OPENAPI_METHODS.filter((name) => name !== 'options')) {
      expect(item[method]?.responses['204'], method).toBeUndefined();
    }
  });

  it.each([
    ['without an API key', []],
    ['with an API key', ['--api-key', 'k3y']],
  ])('names the main shapes in components.schemas and references them (%s)', async (_, flags) => {
    const { app } = await proxyWithRoutes(flags);
    const document = await documentOf(app, { authorization: 'Bearer k3y' });
    const schemas = document.components?.schemas ?? {};
    expect(Object.keys(schemas).sort()).toEqual(
      ['Cleanup', 'ErrorBody', 'HealthBody', 'ServiceInfo', 'Stats', 'SubmitBody']
        .concat(['Task', 'TaskAttempt', 'TaskList', 'TaskSummary'])
        .sort(),
    );
    expect((schemas.Task as Schema).required).toEqual(TaskBodySchema.properties.data.required);
    expect((schemas.ErrorBody as Schema).required).toEqual(ErrorBodySchema.required);
    const reference = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    const json = (path: string, method: string, code: string) =>
      document.paths[path]?.[method]?.responses[code]?.content?.['application/json']?.schema as
        | Schema
        | undefined;
    expect(json('/task/{id}', 'get', '200')?.properties?.data).toEqual(reference('Task'));
    expect(json('/tasks', 'get', '200')?.properties?.data).toEqual(reference('TaskList'));
    expect(json('/stats', 'get', '200')?.properties?.data).toEqual(reference('Stats'));
    expect(json('/health', 'get', '200')).toEqual(reference('HealthBody'));
    expect(json('/api/{path}', 'post', '202')).toEqual(reference('SubmitBody'));
    expect(json('/tasks', 'get', '4XX')).toEqual(reference('ErrorBody'));

    // Every named shape is referenced, and spelt out nowhere else: an inline copy would be a
    // type of its own in a generated client, and a place for the two to drift apart.
    const text = JSON.stringify(document);
    const inline: string[] = [];
    const walk = (value: unknown, at: string) => {
      if (typeof value !== 'object' || value === null) return;
      for (const [name, schema] of Object.entries(schemas)) {
        if (at !== `components.schemas.${name}` && isDeepStrictEqual(value, schema)) {
          inline.push(`${name} at ${at}`);
        }
      }
      for (const [key, item] of Object.entries(value)) walk(item, at === '' ? key : `${at}.${key}`);
    };
    walk(document, '');
    expect(inline).toEqual([]);
    for (const name of Object.keys(schemas)) {
      expect(text, name).toContain(JSON.stringify(reference(name)));
    }
  });

  it('says which routes need the API key', async () => {
    const { app } = await proxyWithRoutes(['--api-key', 'k3y', '--public-docs']);
    const document = await documentOf(app);
    expect(document.security).toEqual([{ apiKey: [] }]);
    for (const open of ['/health', '/openapi.json', '/docs', '/ui']) {
      expect(document.paths[open]?.get?.security, open).toEqual([]);
    }
    for (const closed of ['/metrics', '/stats', '/tasks']) {
      expect(document.paths[closed]?.get?.security, closed).toBeUndefined();
    }
  });

  it('says outright that no route needs credentials when the proxy has no key', async () => {
    const { app } = await proxyWithRoutes();
    expect((await documentOf(app)).security).toEqual([]);
  });

  // The server was `/`, the root of whatever host served the document: behind a gateway that
  // mounts the proxy under /proxy without --trust-proxy, the page's "Try it out" called the
  // gateway's root. Relative to the document, it is the proxy's root however it is mounted.
  it('names as its server the root of the proxy relative to where it is read, or the trusted prefix', async () => {
    const { app } = await proxyWithRoutes(['--trust-proxy', '1']);
    const serversAt = async (url: string, headers: Record<string, string> = {}) =>
      ((await app.inject({ url, headers })).json() as { servers?: unknown }).servers;
    expect(await serversAt('/openapi.json')).toEqual([{ url: '.', description: 'This proxy' }]);
    // Where the reference page reads it.
    expect(await serversAt('/docs/json')).toEqual([{ url: '..', description: 'This proxy' }]);
    const prefixed = [{ url: '/proxy', description: 'This proxy, behind its gateway' }];
    for (const url of ['/openapi.json', '/docs/json']) {
      expect(await serversAt(url, { 'x-forwarded-prefix': '/proxy' }), url).toEqual(prefixed);
    }
  });

  it('declares the refusals (401 without the key) of the document and the page, and the page as HTML', async () => {
    const { app } = await proxyWithRoutes(['--api-key', 'k3y']);
    const document = await documentOf(app, { authorization: 'Bearer k3y' });
    for (const path of ['/openapi.json', '/docs/']) {
      expect(Object.keys(document.paths[path]?.get?.responses ?? {}), path).toEqual(
        expect.arrayContaining(['200', '400', '401', '417', '431', '4XX']),
      );
    }
    expect(Object.keys(document.paths['/docs/']?.get?.responses['200']?.content ?? {})).toEqual([
      'text/html',
    ]);
    expect(Object.keys(document.paths['/docs']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['302', '401']),
    );
  });
});

// OpenAPI audit: the document let X-Proxy-Max-Attempts be 0 and X-Proxy-Timeout be -1 or abc, all
// refused by the proxy with 400; a client generated from it validated values the proxy refuses.
describe('the submit headers as documented', () => {
  it.each([
    [SUBMIT_HEADERS.maxAttempts, ['1', '3', '01'], ['0', '00', '-1', '1.5', 'abc', '']],
    [SUBMIT_HEADERS.timeout, ['1', '0.5', '.5', '2.'], ['-1', 'abc', '1e3', '1,5', '']],
    [SUBMIT_HEADERS.maxQueueTime, ['30', '0.25'], ['-1', 'abc', '0x10', '']],
    // The longest key, bare and quoted (escapes included), is accepted; one character more is not.
    [
      SUBMIT_HEADERS.idempotencyKey,
      [
        'order-42',
        '"quoted key"',
        'a"b',
        'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH),
        `"${'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH)}"`,
        `"${'\\"'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH)}"`,
      ],
      [
        '',
        '""',
        '"a"b',
        '"a\\b"',
        'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1),
        `"${'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1)}"`,
        `"${'\\"'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1)}"`,
      ],
    ],
  ])('%s: what the proxy refuses (400) fails the documented pattern', async (name, good, bad) => {
    const { app } = await proxyWithRoutes();
    const { paths } = await documentOf(app);
    const parameter = paths['/api/{path}']?.post?.parameters?.find((p) => p.name === name) as
      | (Parameter & { schema: { pattern?: string; minLength?: number; maxLength?: number } })
      | undefined;
    const pattern = new RegExp(parameter?.schema.pattern ?? '');
    const documented = (value: string) =>
      pattern.test(value) &&
      value.length >= (parameter?.schema.minLength ?? 0) &&
      value.length <= (parameter?.schema.maxLength ?? Number.POSITIVE_INFINITY);
    for (const value of [...good, ...bad]) {
      const answer = await app.inject({
        method: 'POST',
        url: '/api/x',
        headers: { [name]: value },
      });
      const accepted = answer.statusCode === 202;
      expect(accepted, `${name}: ${value} got ${answer.statusCode}`).toBe(good.includes(value));
      expect(documented(value), `${name}: '${value}' documented`).toBe(accepted);
    }
  });
});

/** The status of a GET, its body read to the end (else the server waits to finish writing it). */
async function statusOf(url: string | URL, init: RequestInit = {}): Promise<number> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response.status;
}

describe('/openapi.json and /docs', () => {
  it('need the API key unless --public-docs', async () => {
    const target = await startTarget();
    const closed = await startProxy(target.url, { listen: true, flags: ['--api-key', 'k3y'] });
    for (const path of [
      '/openapi.json',
      '/docs',
      '/docs/',
      '/docs/json',
      '/docs/static/index.html',
    ]) {
      expect(await statusOf(closed.url + path), path).toBe(401);
    }
    const auth = { authorization: 'Bearer k3y' };
    expect(await statusOf(`${closed.url}/openapi.json`, { headers: auth })).toBe(200);
    expect(await statusOf(`${closed.url}/docs/`, { headers: auth })).toBe(200);

    const open = await startProxy(target.url, {
      listen: true,
      flags: ['--api-key', 'k3y', '--public-docs'],
    });
    expect(await statusOf(`${open.url}/openapi.json`)).toBe(200);
    const page = await fetch(`${open.url}/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    // Everything the page loads comes from the proxy: no CDN, works offline.
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(sources.length).toBeGreaterThan(3);
    expect(sources.filter((source) => /^(https?:)?\/\//.test(source))).toEqual([]);
    for (const source of sources) {
      expect(await statusOf(new URL(source, `${open.url}/docs/`)), source).toBe(200);
    }
    expect(page.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    // The rest still needs the key.
    expect(await statusOf(`${open.url}/stats`)).toBe(401);
  });

  it('sends /docs, with a query or without, to /docs/, where its assets and the document are found', async () => {
    const { app } = await startProxy('http://127.0.0.1:9', { flags: ['--public-docs'] });
    for (const [url, page] of [
      // Relative: behind a gateway's prefix, /proxy/docs must stay under /proxy/.
      ['/docs', 'docs/'],
      ['/docs?utm_source=readme', 'docs/'],
      ['/docs/?x=1&y=2', './'],
    ] as const) {
      const answer = await app.inject(url);
      expect(answer.statusCode, url).toBe(302);
      expect(answer.headers.location).toBe(page);
      const documented = (await documentOf(app)).paths[url.replace(/\?.*/, '')]?.get;
      expect(documented?.responses['302']?.headers?.location, url).toEqual({
        required: true,
        schema: { type: 'string', const: page },
      });
    }
    expect((await app.inject('/docs/json?x=1')).statusCode).toBe(200);
    expect((await app.inject('/docs/')).statusCode).toBe(200);
  });
});

// OpenAPI audit: the proxy's own 400, 401, 404 and 417 were documented only under 4XX, so a client
// generated from the document could not tell a missing key from a missing task by its type; and
// x-proxy-wait-max was documented on the 200 of GET /task/{id} only, though the route sends it on
// its errors too (not on a 417, which is answered before any route is reached).
describe("the proxy's own refusals as documented", () => {
  const id = '00000000-0000-4000-8000-000000000000';
  const key = 'Authorization: Bearer k3y';
  const get = (path: string, ...headers: string[]) =>
    [`GET ${path} HTTP/1.1`, 'Host: x', ...headers].join('\r\n');

  it('documents each under its own code, with the headers it is sent with', async () => {
    const target = await startTarget();
    const repository = new FaultyRepository(new MemoryRepository());
    const backend = new LocalBackend(repository, {
      concurrency: 1,
      maxQueueSize: 10,
      longTaskThresholdMs: 300_000,
      maxRequeues: 0,
    });
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--api-key', 'k3y'],
      deps: { backend },
    });
    const document = (await (
      await fetch(`${proxy.url}/openapi.json`, { headers: { authorization: 'Bearer k3y' } })
    ).json()) as Document;
    const requests: [path: string, method: string, head: string, body?: string][] = [
      ['/task/{id}', 'get', get(`/task/${id}`, key)],
      ['/task/{id}', 'get', get(`/task/${id}`)],
      ['/task/{id}', 'get', get('/task/not-a-uuid', key)],
      ['/task/{id}', 'get', get(`/task/${id}?wait=999`, key)],
      ['/task/{id}', 'get', get(`/task/${id}`, key, 'Content-Length: 1'), 'x'],
      ['/task/{id}', 'get', get(`/task/${id}`, key, 'Expect: foo')],
      ['/task/{id}', 'delete', get(`/task/${id}`, key).replace('GET', 'DELETE')],
      ['/task/{id}/retry', 'post', get(`/task/${id}/retry`, key).replace('GET', 'POST')],
      ['/task/{id}/events', 'get', get(`/task/${id}/events`, key)],
      ['/tasks', 'get', get('/tasks?limit=0', key)],
      ['/stats', 'get', get('/stats')],
      ['/health', 'get', get('/health', 'Expect: foo')],
      ['/ui/{file}', 'get', get('/ui/nope.js')],
      ['/api/{path}', 'post', get('/api/x', 'X-Proxy-Timeout: abc', key).replace('GET', 'POST')],
      ['/api/{path}', 'post', get('/api/x').replace('GET', 'POST')],
      ['/task/{id}', 'get', get(`/task/${id}`, key, `X-Big: ${'x'.repeat(17 * 1024)}`)],
    ];
    const statuses: number[] = [];
    for (const [path, method, head, body] of requests) {
      const answer = await rawRequest(proxy.url, head, body);
      statuses.push(answer.status);
      const label = `${head.split('\r\n')[0]} (${answer.status})`;
      const documented = document.paths[path]?.[method]?.responses[String(answer.status)];
      expect(documented?.content?.['application/json']?.schema, label).toEqual({
        $ref: '#/components/schemas/ErrorBody',
      });
      expect(JSON.parse(answer.body), label).toMatchObject({ success: false });
      for (const name of [WAIT_MAX_HEADER, 'www-authenticate']) {
        const sent = new RegExp(`^${name}:`, 'im').test(answer.head);
        expect(Object.keys(documented?.headers ?? {}).includes(name), `${label}: ${name}`).toBe(
          sent,
        );
      }
    }
    expect(statuses).toEqual(
      [404, 401, 400, 400, 400, 417, 404, 404, 404, 400, 401, 417, 404].concat([400, 401, 431]),
    );

    // A failing store: 503, which the range documents, with the route's header.
    repository.failNext('get');
    const failed = await rawRequest(proxy.url, get(`/task/${id}`, key));
    expect(failed.status).toBe(503);
    expect(failed.head).toMatch(new RegExp(`^${WAIT_MAX_HEADER}: `, 'im'));
    expect(Object.keys(document.paths['/task/{id}']?.get?.responses['5XX']?.headers ?? {})).toEqual(
      [WAIT_MAX_HEADER],
    );
    expect(Object.keys(document.paths['/task/{id}']?.get?.responses['4XX']?.headers ?? {})).toEqual(
      [],
    );
  });

  it('documents 401 only where the key is needed', async () => {
    const codes = (document: Document, path: string) =>
      Object.keys(document.paths[path]?.get?.responses ?? {});
    const open = await documentOf((await proxyWithRoutes()).app);
    for (const [path, item] of Object.entries(open.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect(Object.keys(operation.responses), `${method} ${path}`).not.toContain('401');
      }
    }
    const keyed = await documentOf(
      (await proxyWithRoutes(['--api-key', 'k3y', '--public-docs'])).app,
    );
    expect(codes(keyed, '/stats')).toContain('401');
    for (const path of ['/health', '/openapi.json', '/docs', '/ui']) {
      expect(codes(keyed, path), path).not.toContain('401');
    }
  });

  it("leaves the result route's codes as they were: any of them may be the target's own", async () => {
    const { app } = await proxyWithRoutes(['--api-key', 'k3y', '--public-docs']);
    const document = await documentOf(app);
    expect(Object.keys(document.paths['/task/{id}/result']?.get?.responses ?? {})).toEqual([
      ...['200', '206', '404', '409', '416'],
      ...['4XX', '5XX', 'default'],
    ]);
  });
});

// Operator pass: the document gave the result's 416 an application/json body, but the route
// answers it with no body at all (and the target's Content-Type), so a client generated from
// the document failed parsing JSON out of nothing. The document promises no JSON there.
describe('the result route as documented', () => {
  it('answers 416 with no body, and the document promises no JSON', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const id = await proxy.submit('/api/echo');
    await proxy.finished(id);
    const response = await fetch(`${proxy.url}/task/${id}/result`, {
      headers: { range: 'bytes=1000000-' },
    });
    expect(response.status).toBe(416);
    expect((await response.arrayBuffer()).byteLength).toBe(0);

    const document = (await (await fetch(`${proxy.url}/openapi.json`)).json()) as Document;
    const documented = document.paths['/task/{id}/result']?.get?.responses['416'];
    expect(documented?.description).toMatch(/Content-Range/);
    // Any body: none from the proxy, the target's own when it answered 416 itself.
    expect(Object.keys(documented?.content ?? {})).toEqual(['*/*']);
  });
});

// --max-wait was named only on GET /task/{id}: a held submission cut short came back 202 with
// nothing saying why, and the result route's hold was as silent.
describe('x-proxy-wait-max as documented', () => {
  it('is sent and documented on a held submission and on every answer of the result route', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--max-wait', '7'] });
    const document = (await (await fetch(`${proxy.url}/openapi.json`)).json()) as Document;
    const documented = (path: string, method: string, status: number) =>
      Object.keys(document.paths[path]?.[method]?.responses[String(status)]?.headers ?? {});

    const held = await fetch(`${proxy.url}/api/function1?delay_ms=5000`, {
      method: 'POST',
      headers: { prefer: 'wait=0.2' },
    });
    expect(held.status).toBe(202);
    expect(held.headers.get(WAIT_MAX_HEADER)).toBe('7');
    expect(documented('/api/{path}', 'post', 202)).toContain(WAIT_MAX_HEADER);
    const done = await fetch(`${proxy.url}/api/echo`, {
      method: 'POST',
      headers: { prefer: 'wait=5' },
    });
    expect(done.status).toBe(200);
    expect(done.headers.get(WAIT_MAX_HEADER)).toBe('7');
    expect(documented('/api/{path}', 'post', 200)).toContain(WAIT_MAX_HEADER);
    const unheld = await fetch(`${proxy.url}/api/echo`, { method: 'POST' });
    expect(unheld.status).toBe(202);
    expect(unheld.headers.get(WAIT_MAX_HEADER)).toBeNull();
    // A wait of 0 is a wait asked for, as docs/http-api.md has it: its 202 names the longest hold.
    const noHold = await fetch(`${proxy.url}/api/echo`, {
      method: 'POST',
      headers: { prefer: 'wait=0' },
    });
    expect(noHold.status).toBe(202);
    expect(noHold.headers.get(WAIT_MAX_HEADER)).toBe('7');

    const { task_id: id } = (await held.json()) as SubmitBody;
    const unfinished = await fetch(`${proxy.url}/task/${id}/result`);
    expect(unfinished.status).toBe(409);
    expect(unfinished.headers.get(WAIT_MAX_HEADER)).toBe('7');
    const echoed = (await done.json()) as DataBody<Task>;
    const result = await fetch(`${proxy.url}/task/${echoed.data.task_id}/result`);
    expect(result.status).toBe(200);
    expect(result.headers.get(WAIT_MAX_HEADER)).toBe('7');
    for (const status of [200, 206, 404, 409, 416]) {
      expect(documented('/task/{id}/result', 'get', status), String(status)).toContain(
        WAIT_MAX_HEADER,
      );
    }
  });
});

// OpenAPI audit: the route replays the target's status as it was, but the document gave every 4XX
// and 5XX the proxy's error body, so a client generated from it read a target's own 404 or 503 as
// a proxy error it was not, and rejected it.
describe("the result route's answers, each as its code is documented", () => {
  type Documented = { content?: Record<string, { schema: { required?: string[] } }> };

  /** The documented response for a status: its own code, else its range (4XX), else default. */
  function documentedFor(responses: Record<string, Documented>, status: number) {
    const documented =
      responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    expect(documented, `status ${status}`).toBeDefined();
    return documented as Documented & { headers?: Record<string, unknown> };
  }

  it("allows the target's own answers, whatever their status, and the proxy's errors", async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const document = (await (await fetch(`${proxy.url}/openapi.json`)).json()) as Document;
    const responses = document.paths['/task/{id}/result']?.get?.responses as Record<
      string,
      Documented
    >;
    const answers: Response[] = [];
    const submitted = ['/api/nope', '/api/fail?status=503', '/api/fail?status=201', '/api/text'];
    for (const path of [...submitted, '/api/fail?status=403']) {
      const id = await proxy.submit(path);
      await proxy.finished(id);
      answers.push(await fetch(`${proxy.url}/task/${id}/result`));
    }
    answers.push(await fetch(`${proxy.url}/task/00000000-0000-4000-8000-000000000000/result`));
    answers.push(await fetch(`${proxy.url}/task/not-an-id/result`));
    expect(answers.map((answer) => answer.status)).toEqual([404, 503, 201, 200, 403, 404, 400]);

    for (const answer of answers) {
      const documented = documentedFor(responses, answer.status);
      const mediaType = answer.headers.get('content-type')?.split(';')[0] ?? '';
      const media = documented.content?.[mediaType] ?? documented.content?.['*/*'];
      expect(media, `${answer.status} ${mediaType}`).toBeDefined();
      const body = await answer.text();
      const required = resolved(document, media?.schema)?.required ?? [];
      if (required.length > 0)
        expect(Object.keys(JSON.parse(body))).toEqual(expect.arrayContaining(required));
      for (const name of [TASK_ID_HEADER, WAIT_MAX_HEADER]) {
        if (!answer.headers.has(name)) continue;
        expect(Object.keys(documented.headers ?? {}), `${answer.status}: ${name}`).toContain(name);
      }
    }
  });
});

// OpenAPI audit: the document left its submission route's wire unsaid: Location, sent on every
// task answer, was not required; HEAD was promised a body it never gets; the query forwarded to
// the target was declared nowhere.
describe('the submission route as documented', () => {
  type Header = { required?: boolean; schema?: { required?: unknown } };
  const headersOf = (operation: Operation | undefined, code: string) =>
    (operation?.responses[code]?.headers ?? {}) as Record<string, Header>;

  it('marks Location required on each answer that always sends it, and only there', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const document = (await (await fetch(`${proxy.url}/openapi.json`)).json()) as Document;
    const submitted = await fetch(`${proxy.url}/api/echo`, { method: 'POST' });
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('location')).toMatch(/^\/task\//);
    const held = await fetch(`${proxy.url}/api/echo`, {
      method: 'POST',
      headers: { prefer: 'wait=5' },
    });
    expect(held.status).toBe(200);
    expect(held.headers.get('location')).toMatch(/^\/task\//);

    const submissions = [
      ...OPENAPI_METHODS.map((method) => document.paths['/api/{path}']?.[method]),
      document.paths['/task/{id}/retry']?.post,
    ];
    for (const operation of submissions) {
      for (const code of ['200', '202']) {
        expect(headersOf(operation, code).location?.required, code).toBe(true);
      }
      // Not every 503 has it: store_unavailable of a damaged task file is sent without.
      expect(headersOf(operation, '503')['retry-after']?.required).toBeUndefined();
    }
    // `required` of a header is the header's, never a schema's (where it lists properties).
    const misplaced = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).flatMap(([method, operation]) =>
        Object.keys(operation.responses).flatMap((code) =>
          Object.entries(headersOf(operation, code))
            .filter(([, header]) => typeof header.schema?.required === 'boolean')
            .map(([name]) => `${method} ${path} ${code} ${name}`),
        ),
      ),
    );
    expect(misplaced).toEqual([]);
  });

  it('answers HEAD without a body, and documents none', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const answer = await rawRequest(proxy.url, 'HEAD /api/echo HTTP/1.1\r\nHost: x');
    expect(answer.status).toBe(202);
    expect(answer.body).toBe('');
    const document = (await (await fetch(`${proxy.url}/openapi.json`)).json()) as Document;
    const head = document.paths['/api/{path}']?.head;
    expect(Object.keys(head?.responses ?? {})).toContain('202');
    for (const [code, response] of Object.entries(head?.responses ?? {})) {
      expect(response.content, code).toBeUndefined();
    }
    expect(headersOf(head, '202').location?.required).toBe(true);
    expect(document.paths['/api/{path}']?.get?.responses['202']?.content).toBeDefined();
  });

  it('declares the query it forwards to the target, on every method', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const id = await proxy.submit('/api/echo?a=1&b=x%20y');
    await proxy.finished(id);
    const echoed = (await (await fetch(`${proxy.url}/task/${id}/result`)).json()) as {
      url: string;
    };
    expect(echoed.url).toBe('/api/echo?a=1&b=x%20y');

    const document = (await (await fetch(`${proxy.url}/openapi.json`)).json()) as Document;
    for (const method of OPENAPI_METHODS) {
      const queries = (document.paths['/api/{path}']?.[method]?.parameters ?? []).filter(
        (parameter) => parameter.in === 'query',
      );
      expect(queries, method).toEqual([
        expect.objectContaining({
          required: false,
          style: 'form',
          explode: true,
          schema: { type: 'object', additionalProperties: { type: 'string' } },
        }),
      ]);
    }
  });
});
