import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { binaryPattern } from 'slow-target';
import { describe, expect, it } from 'vitest';
import { startProxy, startTarget } from './helper.js';

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  body_base64: string;
  body_sha256: string;
}

/** Submits with node:http, which sends exactly the headers given (repeats and hop-by-hop too). */
function submitRaw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  body?: Buffer,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode !== 202) reject(new Error(`status ${res.statusCode}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString()).task_id);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('forwarding fidelity', () => {
  it.each([
    ['JSON', 'POST', 'application/json', Buffer.from(JSON.stringify({ name: 'é ✓', n: [1, 2] }))],
    ['text', 'PUT', 'text/plain; charset=utf-8', Buffer.from('line one\nline two\r\n')],
    ['binary', 'PATCH', 'application/octet-stream', binaryPattern(4096)],
    ['no body', 'DELETE', undefined, undefined],
  ])(
    '%s: method, path, query, headers and body bytes arrive unchanged',
    async (_kind, method, type, body) => {
      const target = await startTarget();
      const proxy = await startProxy(target.url, { listen: true });
      const path = '/api/echo?a=1&b=two%20words&a=3&empty=';
      const headers: Record<string, string | string[]> = {
        'X-Custom': 'Mixed Case Value',
        'x-repeated': ['one', 'two'],
        authorization: 'Bearer for-the-target',
        ...(type ? { 'content-type': type } : {}),
      };
      const id = await submitRaw(proxy.url, method, path, headers, body);
      const task = await proxy.finished(id);

      expect(task).toMatchObject({ status: 'completed', method, path, error: null });
      expect(task.result?.body_encoding).toBe('json');
      const echo = task.result?.body as Echo;
      expect(echo.method).toBe(method);
      expect(echo.url).toBe(path);
      expect(echo.headers['x-custom']).toBe('Mixed Case Value');
      expect(echo.headers['x-repeated']).toBe('one, two');
      expect(echo.headers.authorization).toBe('Bearer for-the-target');
      expect(echo.headers.host).toBe(new URL(target.url).host);
      if (type) expect(echo.headers['content-type']).toBe(type);
      const sent = body ?? Buffer.alloc(0);
      expect(Buffer.from(echo.body_base64, 'base64').equals(sent)).toBe(true);
      expect(echo.body_sha256).toBe(createHash('sha256').update(sent).digest('hex'));
    },
  );

  it('drops hop-by-hop headers, including those named in Connection', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const id = await submitRaw(proxy.url, 'POST', '/api/echo', {
      connection: 'keep-alive, x-hop',
      'x-hop': 'connection-only',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'proxy-authorization': 'Basic eA==',
      'x-end-to-end': 'kept',
    });
    const echo = (await proxy.finished(id)).result?.body as Echo;
    expect(echo.headers['x-end-to-end']).toBe('kept');
    for (const name of ['x-hop', 'keep-alive', 'te', 'proxy-authorization']) {
      expect(echo.headers[name]).toBeUndefined();
    }
  });

  it('sends to the target’s base path when --target-url has one', async () => {
    const target = await startTarget();
    const proxy = await startProxy(`${target.url}/base`, { listen: true });
    const id = await proxy.submit('/api/echo?q=1');
    const task = await proxy.finished(id);
    expect(task.path).toBe('/api/echo?q=1');
    expect(task.result?.status_code).toBe(404);
    expect(task.result?.body).toMatchObject({ path: '/base/api/echo' });
  });
});

describe('the target’s answer comes back in result', () => {
  it.each([
    [
      'JSON parsed',
      '/api/function1?k=v',
      'json',
      (body: unknown) => expect(body).toMatchObject({ result: 'ok', params: { k: 'v' } }),
    ],
    [
      'text as text',
      '/api/text?text=h%C3%A9llo',
      'text',
      (body: unknown) => expect(body).toBe('héllo'),
    ],
    [
      'binary as base64',
      '/api/binary?bytes=1000',
      'base64',
      (body: unknown) =>
        expect(Buffer.from(body as string, 'base64').equals(binaryPattern(1000))).toBe(true),
    ],
  ])('%s', async (_kind, path, encoding, checkBody) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const task = await proxy.finished(await proxy.submit(path));
    expect(task.status).toBe('completed');
    expect(task.result?.status_code).toBe(200);
    expect(task.result?.body_encoding).toBe(encoding);
    expect(task.result?.headers['content-type']).toBeDefined();
    // Hop-by-hop: they described the proxy's connection to the target, not the answer.
    expect(task.result?.headers).not.toHaveProperty('connection');
    expect(task.result?.headers).not.toHaveProperty('keep-alive');
    expect(task.result?.headers['content-type']).toEqual(expect.any(String));
    checkBody(task.result?.body);
  });

  it('fails a task whose answer is over the result size limit', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--result-size-limit', '1kb'],
    });
    const small = await proxy.finished(await proxy.submit('/api/binary?bytes=1024'));
    const big = await proxy.finished(await proxy.submit('/api/binary?bytes=1025'));
    expect(small.status).toBe('completed');
    expect(big).toMatchObject({
      status: 'failed',
      result: null,
      error: { code: 'result_too_large' },
    });
  });
});
