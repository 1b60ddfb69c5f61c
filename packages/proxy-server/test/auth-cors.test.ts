import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataBody, SubmitBody, Task } from 'proxy-client/wire';
import { waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startProxy, startTarget } from './helper.js';

const KEY = 'k3y-for-tests';
const CLOSED_TARGET = 'http://127.0.0.1:9';

describe('--api-key', () => {
  it.each([
    ['no header', undefined, 401],
    ['a wrong key', `Bearer nope`, 401],
    ['a longer wrong key', `Bearer ${KEY}x`, 401],
    ['another scheme', `Basic ${KEY}`, 401],
    ['the key', `Bearer ${KEY}`, 200],
    ['the key, scheme in lower case', `bearer ${KEY}`, 200],
  ])('GET /stats with %s → %i', async (_kind, authorization, status) => {
    const { app } = await startProxy(CLOSED_TARGET, { flags: ['--api-key', KEY] });
    const response = await app.inject({
      url: '/stats',
      headers: authorization ? { authorization } : {},
    });
    expect(response.statusCode).toBe(status);
    if (status === 401) {
      expect(response.json()).toMatchObject({ success: false, error: 'unauthorized' });
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('guards every route but /health', async () => {
    const { app } = await startProxy(CLOSED_TARGET, { flags: ['--api-key', KEY] });
    for (const [method, url] of [
      ['GET', '/'],
      ['POST', '/api/x'],
      ['GET', '/task/0b7a6a2e-1d6c-4f3e-9b0a-2f4c8d9e1a7b'],
      ['GET', '/tasks'],
      ['DELETE', '/tasks/cleanup'],
      ['GET', '/no-such-route'],
    ] as const) {
      expect((await app.inject({ method, url })).statusCode, `${method} ${url}`).toBe(401);
    }
    expect((await app.inject('/health')).statusCode).toBe(200);
  });

  it('still tells clients about waiting reads on a refused GET /task', async () => {
    const { app } = await startProxy(CLOSED_TARGET, { flags: ['--api-key', KEY] });
    const response = await app.inject('/task/0b7a6a2e-1d6c-4f3e-9b0a-2f4c8d9e1a7b');
    expect(response.statusCode).toBe(401);
    expect(response.headers['x-proxy-wait-max']).toBe('60');
  });

  it('does not forward the proxy’s own key to the target', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--api-key', KEY] });
    const id = await proxy.submit('/api/echo', { headers: { authorization: `Bearer ${KEY}` } });
    const response = await fetch(`${proxy.url}/task/${id}?wait=10`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    const task = ((await response.json()) as DataBody<Task>).data;
    expect(task.status).toBe('completed');
    const echo = task.result?.body as { headers: Record<string, string> };
    expect(echo.headers.authorization).toBeUndefined();
  });

  it('keeps the proxy’s own key out of the store: a restart without --api-key cannot forward it', async () => {
    const target = await startTarget();
    const dataDir = await mkdtemp(join(tmpdir(), 'proxy-key-at-rest-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const store = ['--store', 'sqlite', '--data-dir', dataDir];
    const keyed = await startProxy(target.url, {
      listen: true,
      flags: [...store, '--api-key', KEY],
    });
    const auth = { authorization: `Bearer ${KEY}` };
    const id = await keyed.submit('/api/echo', { headers: auth });
    await waitFor(async () => {
      const response = await fetch(`${keyed.url}/task/${id}`, { headers: auth });
      return ((await response.json()) as DataBody<Task>).data.status === 'completed';
    });
    await keyed.app.close();
    for (const file of await readdir(dataDir)) {
      // SQLite removes -wal and -shm once the last statement of the closed database is freed,
      // which may be after close() (libsql frees them on garbage collection): gone, it holds no key.
      const bytes = await readFile(join(dataDir, file)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return Buffer.alloc(0);
        throw error;
      });
      expect(bytes.includes(KEY), file).toBe(false);
    }

    // The key is taken off, or changed: tasks stored under the old key run again without it.
    const open = await startProxy(target.url, { listen: true, flags: store });
    const retry = await fetch(`${open.url}/task/${id}/retry`, { method: 'POST' });
    expect(retry.status).toBe(202);
    const task = await open.finished(((await retry.json()) as SubmitBody).task_id);
    expect(task.status).toBe('completed');
    const echo = task.result?.body as { headers: Record<string, string> };
    expect(echo.headers.authorization).toBeUndefined();
  });

  it('names a retry’s tenant by the key, as its original’s (--fair-key api-key)', async () => {
    const target = await startTarget();
    const flags = ['--api-key', KEY, '--fair-key', 'api-key'];
    const proxy = await startProxy(target.url, { listen: true, flags });
    const auth = { authorization: `Bearer ${KEY}` };
    const read = async (id: string) => {
      const response = await fetch(`${proxy.url}/task/${id}?wait=10`, { headers: auth });
      return ((await response.json()) as DataBody<Task>).data;
    };
    const original = await read(await proxy.submit('/api/echo', { headers: auth }));
    const retry = await fetch(`${proxy.url}/task/${original.task_id}/retry`, {
      method: 'POST',
      headers: auth,
    });
    const again = await read(((await retry.json()) as SubmitBody).task_id);
    expect(original.tenant).toMatch(/^key:/);
    expect(again.tenant).toBe(original.tenant);
  });
});

describe('--cors-origin', () => {
  it('answers preflights before auth and exposes the headers clients read', async () => {
    const { app } = await startProxy(CLOSED_TARGET, {
      flags: ['--cors-origin', 'https://app.example', '--api-key', KEY],
    });
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/api/x',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('PUT');

    const read = await app.inject({
      url: '/stats',
      headers: { origin: 'https://app.example', authorization: `Bearer ${KEY}` },
    });
    expect(read.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(read.headers['access-control-expose-headers']).toBe(
      'location, retry-after, x-proxy-wait-max, preference-applied, idempotent-replayed, x-proxy-task-id, allow, www-authenticate',
    );

    const stranger = await app.inject({
      url: '/stats',
      headers: { origin: 'https://other.example', authorization: `Bearer ${KEY}` },
    });
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
  });

  // Interoperability pass: a page on another origin that read GET /task/:id/result saw only the
  // CORS-safelisted headers of the target's answer (Content-Type, Content-Length...) and the
  // proxy's own: ETag, Content-Disposition or a target's X-Request-Id were there on the wire and
  // hidden from its script, though the route replays them for it.
  it('exposes the replayed headers of a result, and not those it does not replay', async () => {
    const server = createServer((_request, response) => {
      response.setHeader('etag', '"v1"');
      response.setHeader('content-disposition', 'attachment; filename="r.csv"');
      response.setHeader('x-request-id', 'abc');
      response.setHeader('set-cookie', 'a=1');
      // The proxy's own names: its values stand (review).
      response.setHeader('x-proxy-task-id', 'theirs');
      response.setHeader('x-proxy-wait-max', 'theirs');
      response.end('a,b');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const proxy = await startProxy(target, { flags: ['--cors-origin', 'https://app.example'] });
    const id = await proxy.submit('/api/report');
    await proxy.finished(id);

    const replay = await proxy.app.inject({
      url: `/task/${id}/result`,
      headers: { origin: 'https://app.example' },
    });
    expect(replay.headers['x-request-id']).toBe('abc');
    expect(replay.headers['x-proxy-task-id']).toBe(id);
    expect(replay.headers['x-proxy-wait-max']).toBe('60');
    const exposed = String(replay.headers['access-control-expose-headers']).split(', ');
    expect(exposed.filter((name) => name.startsWith('x-proxy-'))).toEqual([
      'x-proxy-wait-max',
      'x-proxy-task-id',
    ]);
    expect(exposed).toEqual(expect.arrayContaining(['x-proxy-task-id', 'location']));
    expect(exposed).toEqual(
      expect.arrayContaining(['etag', 'content-disposition', 'x-request-id']),
    );
    expect(exposed).not.toContain('set-cookie');

    const noCors = await startProxy(target);
    const plainId = await noCors.submit('/api/report');
    await noCors.finished(plainId);
    const plain = await noCors.app.inject({
      url: `/task/${plainId}/result`,
      headers: { origin: 'https://app.example' },
    });
    expect(plain.headers['x-request-id']).toBe('abc');
    expect(plain.headers['access-control-expose-headers']).toBeUndefined();
  });

  // Docs audit: the route's own Vary (a submission's Prefer, the target's replayed one, the
  // dashboard's Accept-Encoding) took the place of the Origin that CORS had put there, so a
  // cache could hand one origin's answer, its Access-Control-Allow-Origin with it, to another.
  it('adds Origin to every Vary while the allowed origin is the request’s', async () => {
    const server = createServer((_request, response) => {
      response.setHeader('vary', 'Accept-Encoding, origin');
      response.setHeader('cache-control', 'public, max-age=600');
      response.end('shared');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const proxy = await startProxy(target, {
      flags: ['--cors-origin', 'https://a.example,https://b.example'],
    });
    const origin = { origin: 'https://b.example' };
    const submitted = await proxy.app.inject({ method: 'POST', url: '/api/r', headers: origin });
    expect(submitted.statusCode).toBe(202);
    expect(submitted.headers['access-control-allow-origin']).toBe('https://b.example');
    expect(submitted.headers.vary).toBe('Origin, Prefer');
    const id = (submitted.json() as SubmitBody).task_id;
    await proxy.finished(id);
    const replay = await proxy.app.inject({ url: `/task/${id}/result`, headers: origin });
    expect(replay.body).toBe('shared');
    expect(replay.headers.vary).toBe('Origin, Accept-Encoding');
    const page = await proxy.app.inject({ url: '/ui', headers: origin });
    expect(page.statusCode).toBe(200);
    expect(page.headers.vary).toBe('Origin, accept-encoding');
  });

  // Browser pass: a page on another origin whose POST needs a preflight made the proxy queue the
  // OPTIONS as a task and call the target with it, whose answer no browser reads.
  it('answers a preflight without CORS headers, and makes no task of it, when off', async () => {
    const recorded: string[] = [];
    const server = createServer((request, response) => {
      recorded.push(request.method ?? '');
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const flags of [[], ['--api-key', KEY]]) {
      const proxy = await startProxy(target, { flags });
      const preflight = await proxy.app.inject({
        method: 'OPTIONS',
        url: '/api/x',
        headers: {
          origin: 'https://page.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(preflight.statusCode, flags.join(' ')).toBe(204);
      expect(preflight.body).toBe('');
      const cors = Object.keys(preflight.headers).filter((name) =>
        name.startsWith('access-control-'),
      );
      expect(cors).toEqual([]);
      const auth = { authorization: `Bearer ${KEY}` };
      const tasks = await proxy.app.inject({ url: '/tasks', headers: auth });
      expect(tasks.json().data.total, flags.join(' ')).toBe(0);

      // An OPTIONS that is no preflight is a submission, as before.
      await proxy.submit('/api/x', { method: 'OPTIONS', headers: auth });
      await waitFor(() => recorded.length === 1);
      expect(recorded.splice(0)).toEqual(['OPTIONS']);
    }
  });

  // Browser pass: a page could not read Allow on a 405, nor WWW-Authenticate on a 401.
  it('exposes Allow and WWW-Authenticate to pages', async () => {
    const { app } = await startProxy(CLOSED_TARGET, {
      flags: ['--cors-origin', 'https://app.example', '--api-key', KEY],
    });
    const origin = { origin: 'https://app.example' };
    const refused = await app.inject({ url: '/stats', headers: origin });
    expect(refused.statusCode).toBe(401);
    const exposed = (answer: { headers: Record<string, unknown> }) =>
      String(answer.headers['access-control-expose-headers']).split(', ');
    expect(exposed(refused)).toEqual(expect.arrayContaining(['www-authenticate', 'allow']));
    const wrongMethod = await app.inject({
      method: 'PUT',
      url: '/stats',
      headers: { ...origin, authorization: `Bearer ${KEY}` },
    });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBeDefined();
    expect(exposed(wrongMethod)).toEqual(expect.arrayContaining(['www-authenticate', 'allow']));
  });

  // Browser pass: without a max age Chromium asks again after 5 s, doubling a polling page's
  // requests.
  it('lets browsers keep a preflight’s answer for 10 minutes', async () => {
    const { app } = await startProxy(CLOSED_TARGET, {
      flags: ['--cors-origin', 'https://app.example'],
    });
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/task/0b7a6a2e-1d6c-4f3e-9b0a-2f4c8d9e1a7b',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-max-age']).toBe('600');
  });

  it('is off without the flag', async () => {
    const { app } = await startProxy(CLOSED_TARGET);
    const response = await app.inject({
      url: '/stats',
      headers: { origin: 'https://app.example' },
    });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
