import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_CLEANUP_AGE_HOURS, MAX_PAGE_SIZE, ProxyClient } from '../src/index.js';
import { dataReply, makeTask, submitReply, TASK_ID, taskReply } from './helpers/fixtures.js';
import { BASE_URL, createTestServer } from './helpers/test-server.js';

const server = createTestServer();
const client = () => new ProxyClient({ baseUrl: BASE_URL });

describe('constructor', () => {
  it('keeps the base URL without a trailing slash', () => {
    expect(new ProxyClient({ baseUrl: 'http://localhost:8080/' }).baseUrl).toBe(
      'http://localhost:8080',
    );
  });

  it.each(['localhost:8080', 'ftp://host', 'not a url', 'http://host/?q=1'])(
    'rejects the base URL %j at once',
    (baseUrl) => {
      expect(() => new ProxyClient({ baseUrl })).toThrow(TypeError);
    },
  );

  it.each([{ maxRetries: -1 }, { maxRetries: 1.5 }, { timeoutMs: 0 }, { timeout: -5 }])(
    'rejects %j',
    (options) => {
      expect(() => new ProxyClient({ baseUrl: BASE_URL, ...options })).toThrow(RangeError);
    },
  );

  it.each([
    ['localhost:8080', 'baseUrl must be an http(s) URL, got "localhost:8080"'],
    ['127.0.0.1:8080/proxy', 'baseUrl must be an absolute http(s) URL, got "127.0.0.1:8080/proxy"'],
    ['[::1]:8080', 'baseUrl must be an absolute http(s) URL, got "[::1]:8080"'],
  ])('refuses %j, an address without its scheme, naming the URL it means', (baseUrl, said) => {
    expect(() => new ProxyClient({ baseUrl })).toThrow(
      `${said} (did you mean "http://${baseUrl}"?)`,
    );
  });

  it('refuses a base URL with credentials, without repeating them', () => {
    expect(() => new ProxyClient({ baseUrl: 'http://user:pw-secret@localhost:8080' })).toThrow(
      /must not carry credentials.*"http:\/\/localhost:8080\/"/,
    );
    try {
      new ProxyClient({ baseUrl: 'http://user:pw-secret@localhost:8080' });
    } catch (error) {
      expect(String(error)).not.toContain('pw-secret');
    }
  });

  // SDK pass: a key with a space (or Latin-1) was sent, to be answered 401 by every proxy.
  it.each(['sec\nret', 'ключ', '', 'tab\there', 'my secret key', ' k-123', 'clé'])(
    'refuses the API key %j without showing it',
    (apiKey) => {
      let thrown: unknown;
      try {
        new ProxyClient({ baseUrl: BASE_URL, apiKey });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect(String(thrown)).toMatch(/apiKey must be a non-empty string/);
      if (apiKey !== '') expect(String(thrown)).not.toContain(apiKey);
    },
  );

  it('sends the API key, extra headers and JSON accept on every request', async () => {
    const route = server.on('get', '/stats', dataReply({}));
    const proxy = new ProxyClient({
      baseUrl: BASE_URL,
      apiKey: 's3cret',
      headers: { 'x-app': 'a' },
    });
    await proxy.getStats();
    const { headers } = route.calls[0]!;
    expect(headers.get('authorization')).toBe('Bearer s3cret');
    expect(headers.get('x-app')).toBe('a');
    expect(headers.get('accept')).toBe('application/json');
  });

  it('keeps a path prefix of the base URL', async () => {
    const route = server.on('get', '/proxy/stats', dataReply({}));
    await new ProxyClient({ baseUrl: `${BASE_URL}/proxy/` }).getStats();
    expect(route.calls).toHaveLength(1);
  });

  it('uses the fetch and hooks it is given', async () => {
    server.on('get', '/stats', dataReply({ seen: true }));
    const fetched: string[] = [];
    const hooked: string[] = [];
    const proxy = new ProxyClient({
      baseUrl: BASE_URL,
      fetch: (input, init) => {
        fetched.push(input instanceof Request ? input.url : String(input));
        return fetch(input, init);
      },
      hooks: { beforeRequest: [(request) => void hooked.push(request.method)] },
    });
    expect(await proxy.getStats()).toEqual({ seen: true });
    expect(fetched).toEqual([`${BASE_URL}/stats`]);
    expect(hooked).toEqual(['GET']);
  });
});

describe('submitTask', () => {
  it.each([
    ['api/function1', '/api/function1'],
    ['/api/function1', '/api/function1'],
    ['function1', '/api/function1'],
    ['nested/path', '/api/nested/path'],
  ])('sends %j to %s and answers the task id', async (path, expected) => {
    const route = server.on('all', '/api/*', submitReply());
    expect(await client().submitTask(path, { param1: 'value1' })).toBe(TASK_ID);
    const call = route.calls[0]!;
    expect(call.method).toBe('POST');
    expect(call.path).toBe(expected);
    expect(JSON.parse(call.body)).toEqual({ param1: 'value1' });
    expect(call.headers.get('content-type')).toBe('application/json');
  });

  it('forwards method, headers and query, keeping a query already in the path', async () => {
    const route = server.on('put', '/api/report', submitReply());
    await client().submitTask('api/report?year=2026', 'plain text', {
      method: 'put',
      headers: { 'x-trace': 't1', 'content-type': 'text/plain' },
      query: { page: 2, draft: true, q: 'a b' },
    });
    const call = route.calls[0]!;
    expect(call.method).toBe('PUT');
    expect(call.url.search).toBe('?year=2026&page=2&draft=true&q=a+b');
    expect(call.headers.get('x-trace')).toBe('t1');
    expect(call.headers.get('content-type')).toBe('text/plain');
    expect(call.body).toBe('plain text');
  });

  it.each([
    ['an object', { q: { a: 1 } }, 'query.q must be a string, number or boolean, got object'],
    ['null', { q: null }, 'query.q must be a string, number or boolean, got null'],
    ['an array', { q: [1, 2] }, 'query.q must be a string, number or boolean, got an array'],
    ['a URLSearchParams', new URLSearchParams('a=1'), 'query must be a plain object'],
  ])(
    'refuses a query holding %s, which String() would send as text',
    async (_what, query, message) => {
      const route = server.on('all', '/api/*', submitReply());
      await expect(client().submitTask('x', undefined, { query: query as never })).rejects.toThrow(
        new TypeError(message),
      );
      expect(route.calls).toHaveLength(0);
    },
  );

  it('sends bytes, ArrayBuffers and Blobs as they are', async () => {
    const route = server.on('post', '/api/echo', submitReply());
    const bytes = new Uint8Array([0, 1, 2, 255]);
    await client().submitTask('echo', bytes);
    await client().submitTask('echo', bytes.buffer);
    await client().submitTask('echo', new Blob([bytes]));
    const sent = route.calls.map((call) => [...call.bytes]);
    expect(sent).toEqual([
      [0, 1, 2, 255],
      [0, 1, 2, 255],
      [0, 1, 2, 255],
    ]);
  });

  it('sends form bodies as they are, with the content type fetch gives them', async () => {
    const route = server.on('post', '/api/form', submitReply());
    await client().submitTask('form', new URLSearchParams({ a: '1', b: 'x y' }));
    expect(route.calls[0]!.body).toBe('a=1&b=x+y');
    expect(route.calls[0]!.headers.get('content-type')).toContain(
      'application/x-www-form-urlencoded',
    );
  });

  it('sends no body for undefined and JSON for null', async () => {
    const route = server.on('post', '/api/echo', submitReply());
    await client().submitTask('echo');
    await client().submitTask('echo', null);
    expect(route.calls.map((call) => call.body)).toEqual(['', 'null']);
  });

  it('submits a GET without a body and refuses one with a body', async () => {
    const route = server.on('get', '/api/function1', submitReply());
    await client().submitTask('function1', undefined, { method: 'GET' });
    expect(route.calls).toHaveLength(1);
    await expect(client().submitTask('function1', { a: 1 }, { method: 'GET' })).rejects.toThrow(
      TypeError,
    );
  });

  it('refuses an empty path', async () => {
    await expect(client().submitTask('/')).rejects.toThrow(TypeError);
  });

  it.each([
    'api/../tasks/cleanup',
    '..',
    '../task',
    'api/%2e%2e/stats',
    '%2E%2e/stats',
    'api/./x/../../stats',
    'api/x/..?q=1',
    'api\\..\\stats',
    'api/.\t./tasks/cleanup',
    'api/..\n/stats',
    'api/x/.\r./../stats',
    'api/.. ',
    'api/..\u0000',
    ' ../stats',
  ])('refuses %j, which the URL parser would take out of api/, before sending', async (path) => {
    await expect(client().submitTask(path)).rejects.toThrow(TypeError);
    expect(server.calls).toEqual([]);
  });

  it.each(['api/x#frag', 'search?q=C#', '#'])(
    'refuses %j, whose fragment fetch would drop, naming %23',
    async (path) => {
      await expect(client().submitTask(path)).rejects.toThrow(
        /A "#" in the path starts a fragment, which fetch never sends: write a # meant as data as %23/,
      );
      expect(server.calls).toEqual([]);
    },
  );

  // New user pass: a URL given as the path went to the target as /api/http://..., where the CLI
  // refuses it.
  it.each(['http://127.0.0.1:1/api/x', 'https://proxy.example.com/api/report', '/HTTPS://x'])(
    'refuses the URL %j as a path, naming baseUrl',
    async (path) => {
      await expect(client().submitTask(path)).rejects.toThrow(
        /submitTask takes a path such as "api\/function1", not a URL: the proxy's URL goes in baseUrl/,
      );
      expect(server.calls).toEqual([]);
    },
  );

  it('keeps a colon that starts no URL', async () => {
    const route = server.on('all', '/api/*', submitReply());
    await client().submitTask('api/time:12:00/x?at=http://example.com');
    expect(route.calls[0]!.path).toBe('/api/time:12:00/x');
  });

  it('keeps dots that are not whole segments, and dots in the query', async () => {
    const route = server.on('all', '/api/*', submitReply());
    await client().submitTask('api/v1..2/file.tar.gz?range=1..5');
    expect(route.calls[0]!.path).toBe('/api/v1..2/file.tar.gz');
    expect(route.calls[0]!.url.search).toBe('?range=1..5');
  });

  it.each([123, null, { path: 'x' }])('names a path that is not a string: %j', async (path) => {
    await expect(client().submitTask(path as unknown as string)).rejects.toThrow(
      /needs a path as a string/,
    );
  });

  it.each(['FOO BAR', 'CONNECT', 'trace', 'GET\r\n', ''])(
    'refuses the method %j before sending',
    async (method) => {
      await expect(client().submitTask('function1', undefined, { method })).rejects.toThrow(
        TypeError,
      );
      expect(server.calls).toEqual([]);
    },
  );

  it.each([
    ['a BigInt', { n: 1n }],
    [
      'a cycle',
      (() => {
        const cyclic: Record<string, unknown> = {};
        cyclic['self'] = cyclic;
        return cyclic;
      })(),
    ],
    ['a symbol', Symbol('x')],
    ['a function', () => 1],
  ])('refuses a body JSON cannot carry (%s) before sending', async (_, body) => {
    await expect(client().submitTask('function1', body)).rejects.toThrow(/cannot be sent as JSON/);
    expect(server.calls).toEqual([]);
  });

  it.each([
    ['a Node stream', Readable.from(['a']), /a Node stream.*Readable\.toWeb/],
    ['a Map', new Map([['a', 1]]), /a Map, whose JSON is \{\}.*Object\.fromEntries/],
    ['a Set', new Set([1]), /a Set, whose JSON is \{\}/],
  ])(
    'refuses a body whose JSON would not hold it (%s) before sending',
    async (_, body, message) => {
      await expect(client().submitTask('function1', body)).rejects.toThrow(message);
      expect(server.calls).toEqual([]);
    },
  );

  it.each(['content-length', 'Transfer-Encoding'])(
    'refuses a %s header, which the SDK sets from the body',
    async (name) => {
      await expect(
        client().submitTask('function1', { a: 1 }, { headers: { [name]: '10' } }),
      ).rejects.toThrow(/must not set/);
      expect(server.calls).toEqual([]);
    },
  );

  it('reads the task id of a HEAD submission from Location, and asks for no held answer', async () => {
    const route = server.on('all', '/api/*', {
      status: 202,
      headers: { location: `/task/${TASK_ID}` },
    });
    const submission = await client().submit('api/probe', undefined, {
      method: 'HEAD',
      waitMs: 5000,
    });
    expect(submission).toMatchObject({ taskId: TASK_ID, status: 'pending', replayed: false });
    expect(route.calls[0]!.method).toBe('HEAD');
    expect(route.calls[0]!.headers.get('prefer')).toBeNull();
  });

  it('answers a HEAD submission whose Location is no task path as invalid_response', async () => {
    server.on('all', '/api/*', { status: 202, headers: { location: '/task/%E0' } });
    await expect(client().submit('api/probe', undefined, { method: 'HEAD' })).rejects.toMatchObject(
      { code: 'invalid_response' },
    );
  });

  it("reads a replayed HEAD submission's status from the task", async () => {
    server.on('all', '/api/*', {
      status: 202,
      headers: { location: `/task/${TASK_ID}`, 'idempotent-replayed': 'true' },
    });
    server.on('get', `/task/${TASK_ID}`, taskReply(makeTask({ status: 'completed' })));
    const submission = await client().submit('api/probe', undefined, {
      method: 'HEAD',
      idempotencyKey: 'k1',
    });
    expect(submission).toMatchObject({ taskId: TASK_ID, status: 'completed', replayed: true });
  });

  it('rejects an answer without a task id as invalid_response', async () => {
    server.on('post', '/api/function1', { status: 202, json: { success: true } });
    await expect(client().submitTask('function1', {})).rejects.toMatchObject({
      name: 'ProxyError',
      code: 'invalid_response',
    });
  });
});

describe('getTask', () => {
  it('reads one task, escaping the id in the path', async () => {
    const task = makeTask({ status: 'processing' });
    const route = server.on('get', '/task/:id', taskReply(task));
    expect(await client().getTask('a/b')).toEqual(task);
    expect(route.calls[0]!.url.pathname).toBe('/task/a%2Fb');
  });

  it.each(['', '.', '..'])('refuses the id %j, which names no task path', async (id) => {
    await expect(client().getTask(id)).rejects.toThrow(TypeError);
    expect(server.calls).toEqual([]);
  });

  it('rejects a body that is not a task as invalid_response', async () => {
    server.on('get', '/task/:id', dataReply({ nope: 1 }));
    await expect(client().getTask(TASK_ID)).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('rejects a body that is not JSON as invalid_response', async () => {
    server.on('get', '/task/:id', { text: '<html>hello</html>' });
    await expect(client().getTask(TASK_ID)).rejects.toMatchObject({ code: 'invalid_response' });
  });
});

describe('listTasks and iterateTasks', () => {
  it('passes filter and pagination as query parameters', async () => {
    const list = { tasks: [makeTask()], total: 1, limit: 10, offset: 5 };
    const route = server.on('get', '/tasks', dataReply(list));
    expect(await client().listTasks({ status: 'pending', limit: 10, offset: 5 })).toEqual(list);
    expect(Object.fromEntries(route.calls[0]!.query)).toEqual({
      status: 'pending',
      limit: '10',
      offset: '5',
    });
  });

  it('sends no query parameters it was not given', async () => {
    const route = server.on(
      'get',
      '/tasks',
      dataReply({ tasks: [], total: 0, limit: 50, offset: 0 }),
    );
    await client().listTasks();
    expect(route.calls[0]!.url.search).toBe('');
  });

  it('rejects a list without tasks as invalid_response', async () => {
    server.on('get', '/tasks', dataReply({ total: 0 }));
    await expect(client().listTasks()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('walks every page once, skipping tasks pushed onto the next page', async () => {
    const ids = ['t1', 't2', 't3', 't4', 't5'];
    const route = server.on('get', '/tasks', (call) => {
      const offset = Number(call.query.get('offset'));
      const limit = Number(call.query.get('limit'));
      // A new task arrived after the first page, pushing t2 onto the second page again.
      const all = call.query.get('offset') === '0' ? ids : ['t0', ...ids];
      const tasks = all.slice(offset, offset + limit).map((id) => makeTask({ task_id: id }));
      return dataReply({ tasks, total: all.length, limit, offset });
    });
    const seen: string[] = [];
    for await (const task of client().iterateTasks({ pageSize: 2, status: 'completed' })) {
      seen.push(task.task_id);
    }
    expect(seen).toEqual(['t1', 't2', 't3', 't4', 't5']);
    expect(route.calls.map((call) => call.query.get('offset'))).toEqual(['0', '2', '4']);
    expect(route.calls.every((call) => call.query.get('status') === 'completed')).toBe(true);
  });

  // Hostile pass: aborting the signal between two tasks of a page it held went on yielding the
  // rest of the page, where every other call rejects with the signal's reason at once.
  it("rejects with the signal's reason once it aborts, though a page is still in hand", async () => {
    const tasks = ['t1', 't2', 't3'].map((id) => makeTask({ task_id: id }));
    server.on('get', '/tasks', dataReply({ tasks, total: 3, limit: 100, offset: 0 }));
    const controller = new AbortController();
    const seen: string[] = [];
    const walk = async () => {
      for await (const task of client().iterateTasks({ signal: controller.signal })) {
        seen.push(task.task_id);
        controller.abort(new Error('enough'));
      }
    };
    await expect(walk()).rejects.toThrow('enough');
    expect(seen).toEqual(['t1']);
  });

  it('stops on an empty page even when the total says more', async () => {
    const route = server.on(
      'get',
      '/tasks',
      dataReply({ tasks: [], total: 10, limit: 100, offset: 0 }),
    );
    const seen = [];
    for await (const task of client().iterateTasks()) seen.push(task);
    expect(seen).toEqual([]);
    expect(route.calls).toHaveLength(1);
  });

  it('refuses a status it does not know before any request', async () => {
    const route = server.on('get', '/tasks', dataReply({ tasks: [], total: 0 }));
    const unknown = { status: 'done' as never };
    await expect(client().listTasks(unknown)).rejects.toThrow(
      new TypeError(
        'status must be one of pending, processing, completed, failed, cancelled, expired, got "done"',
      ),
    );
    await expect(client().iterateTasks(unknown).next()).rejects.toThrow(TypeError);
    expect(route.calls).toHaveLength(0);
  });

  it('refuses a page size that is not a positive integer', async () => {
    await expect(client().iterateTasks({ pageSize: 0 }).next()).rejects.toThrow(RangeError);
  });

  it('refuses a page size above the most the proxy lists at once, before any request', async () => {
    const route = server.on('get', '/tasks', dataReply({ tasks: [], total: 0 }));
    await expect(
      client()
        .iterateTasks({ pageSize: MAX_PAGE_SIZE + 1 })
        .next(),
    ).rejects.toThrow(
      new RangeError(`pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE}, got 1001`),
    );
    expect(route.calls).toHaveLength(0);
  });

  // SDK consumer pass: listTasks sent a limit past the proxy's, to be answered 400 invalid_query,
  // where the docs said the proxy would cap it.
  it('refuses a listTasks limit the proxy would refuse, before any request', async () => {
    const route = server.on('get', '/tasks', dataReply({ tasks: [], total: 0 }));
    await expect(client().listTasks({ limit: 5000 })).rejects.toThrow(
      new RangeError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got 5000`),
    );
    await expect(client().listTasks({ limit: 0 })).rejects.toThrow(RangeError);
    await expect(client().listTasks({ limit: '20' as unknown as number })).rejects.toThrow(
      `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got '20', a string`,
    );
    expect(route.calls).toHaveLength(0);
  });
});

describe('getStats, cleanupTasks, health, info', () => {
  it('getStats answers the data', async () => {
    server.on('get', '/stats', dataReply({ queue_size: 3 }));
    expect(await client().getStats()).toEqual({ queue_size: 3 });
  });

  it.each(['getStats', 'health', 'info'] as const)(
    '%s refuses a 202, the answer of a base URL under /api/, as invalid_response',
    async (method) => {
      server.on('all', '/api/*', submitReply());
      const proxy = new ProxyClient({ baseUrl: `${BASE_URL}/api` });
      await expect(proxy[method]()).rejects.toMatchObject({
        code: 'invalid_response',
        message: expect.stringMatching(/base URL ends under the proxy's \/api\//),
      });
    },
  );

  it('cleanupTasks sends DELETE with max_age_hours and answers the count', async () => {
    const route = server.on('delete', '/tasks/cleanup', dataReply({ removed: 4 }));
    expect(await client().cleanupTasks({ maxAgeHours: 2 })).toEqual({ removed: 4 });
    expect(route.calls[0]!.query.get('max_age_hours')).toBe('2');
    await client().cleanupTasks();
    expect(route.calls[1]!.url.search).toBe('');
  });

  it('cleanupTasks writes a few milliseconds in decimal digits, which the proxy reads', async () => {
    const route = server.on('delete', '/tasks/cleanup', dataReply({ removed: 0 }));
    await client().cleanupTasks({ maxAgeMs: 1 });
    expect(route.calls[0]!.query.get('max_age_hours')).toBe('0.000000277778');
    await client().cleanupTasks({ maxAgeMs: 90 * 60_000 });
    expect(route.calls[1]!.query.get('max_age_hours')).toBe('1.5');
  });

  // Review: an age past the proxy's most was sent as it was, 1e21 hours as '1e+21', and the
  // proxy's 400 named max_age_hours, which the caller never wrote.
  it('cleanupTasks sends an age beyond a hundred years as that, which removes the same', async () => {
    const route = server.on('delete', '/tasks/cleanup', dataReply({ removed: 0 }));
    await client().cleanupTasks({ maxAgeMs: Number.MAX_SAFE_INTEGER });
    await client().cleanupTasks({ maxAgeHours: 1e21 });
    expect(route.calls.map((call) => call.query.get('max_age_hours'))).toEqual([
      String(MAX_CLEANUP_AGE_HOURS),
      String(MAX_CLEANUP_AGE_HOURS),
    ]);
  });

  it('cleanupTasks rejects an answer without a count', async () => {
    server.on('delete', '/tasks/cleanup', dataReply({}));
    await expect(client().cleanupTasks()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('health answers the body as it is', async () => {
    const body = {
      success: true,
      status: 'ok',
      target: { url: 'x', reachable: true, latency_ms: 3 },
    };
    server.on('get', '/health', { json: body });
    expect(await client().health()).toEqual(body);
  });

  it('health rejects a body that is not a health answer', async () => {
    server.on('get', '/health', { json: { hello: 1 } });
    await expect(client().health()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('info answers the service description', async () => {
    const info = { name: 'proxy-server', version: '0.1.0', target: 'http://t:8000', endpoints: [] };
    server.on('get', '/', dataReply(info));
    expect(await client().info()).toEqual(info);
  });

  it('info rejects something that is not a proxy', async () => {
    server.on('get', '/', { json: { success: true, data: { hello: 1 } } });
    await expect(client().info()).rejects.toMatchObject({ code: 'invalid_response' });
  });
});

describe('run', () => {
  it('submits, waits and answers the result body', async () => {
    server.on('post', '/api/function1', submitReply());
    server.on('get', '/task/:id', taskReply(makeTask({ status: 'completed' })));
    expect(await client().run<{ ok: boolean }>('function1', { a: 1 })).toEqual({ ok: true });
  });

  it('rejects with TaskFailedError carrying the task when it failed', async () => {
    const failed = makeTask({
      status: 'failed',
      result: { status_code: 500, headers: {}, body: 'boom', body_encoding: 'text', body_bytes: 4 },
    });
    server.on('post', '/api/fail', submitReply());
    server.on('get', '/task/:id', taskReply(failed));
    const error = await client()
      .run('fail')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TaskFailedError', code: 'task_failed', task: failed });
    expect(String(error)).toContain('the target answered 500');
  });
});
