import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { rawRequest, recordingTarget, stalledRequest, startProxy, statusesOf } from './helper.js';

/** What the target keeps of each request. */
const recorded = (req: IncomingMessage) => ({ url: req.url ?? '', host: req.headers.host });

describe('the path cannot leave the target', () => {
  it.each([
    ['dot segments', '/api/../../etc/passwd'],
    ['encoded slashes', '/api/..%2f..%2fadmin'],
    ['encoded dots', '/api/%2e%2e/%2e%2e/admin'],
    ['an encoded prefix', '/%61pi/../admin'],
    ['encoded dots beside an escape that is no UTF-8', '/api/%2e%2e/caf%E9/../../admin'],
    ['dot segments, even ones that stay under /api/', '/api/a/../b'],
    ['an encoded prefix, outside /api/ to a target that never decodes', '/%61pi/x'],
  ])('%s: %s is refused, nothing is forwarded', async (_kind, requestTarget) => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(
      proxy.url,
      `POST ${requestTarget} HTTP/1.1\r\nHost: x\r\nContent-Length: 0`,
    );
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ success: false, error: 'bad_request' });
    expect(target.seen).toEqual([]);
  });

  it.each([
    ['a dot segment of one dot, and names with dots', '/api/./a..b/.x', '/api/./a..b/.x'],
    ['a host after a double slash', '/api//EVIL/x?y=1', '/api//EVIL/x?y=1'],
    ['encoded double slash', '/api/%2F%2FEVIL/x', '/api/%2F%2FEVIL/x'],
    ['absolute-form', 'http://EVIL/api/x?q=1', '/api/x?q=1'],
    ['absolute-form https without a query', 'https://EVIL/api/y', '/api/y'],
    [
      'an escape that is no UTF-8 (a Latin-1 name)',
      '/api/files/caf%E9.txt?q=%E9',
      '/api/files/caf%E9.txt?q=%E9',
    ],
    ['a percent sign that is no escape', '/api/100%ZZ', '/api/100%ZZ'],
  ])('%s: %s', async (_kind, requestTarget, expectedPath) => {
    const target = await recordingTarget(recorded);
    const evil = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    const raw = requestTarget.replaceAll('EVIL', evil.host);
    const response = await rawRequest(
      proxy.url,
      `POST ${raw} HTTP/1.1\r\nHost: ${evil.host}\r\nContent-Length: 0`,
    );
    expect(response.status).toBe(202);
    const id = JSON.parse(response.body).task_id as string;
    const task = await proxy.finished(id);
    expect(task.status).toBe('completed');

    const expected = expectedPath.replaceAll('EVIL', evil.host);
    expect(task.path).toBe(expected);
    expect(target.seen).toEqual([{ url: expected, host: target.host }]);
    expect(evil.seen).toEqual([]);
  });

  it('a request target starting with // is not a submission at all', async () => {
    const target = await recordingTarget(recorded);
    const evil = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(proxy.url, `GET //${evil.host}/api/x HTTP/1.1\r\nHost: x`);
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ success: false, error: 'not_found' });
    expect(target.seen).toEqual([]);
    expect(evil.seen).toEqual([]);
  });

  it('keeps the target’s base path in front of the submitted path', async () => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(`${target.url}/v1`, { listen: true });
    const response = await rawRequest(
      proxy.url,
      'POST /api/a/./x HTTP/1.1\r\nHost: x\r\nContent-Length: 0',
    );
    await proxy.finished(JSON.parse(response.body).task_id);
    expect(target.seen).toEqual([{ url: '/v1/api/a/./x', host: target.host }]);
  });
});

describe('malformed requests get a 400 envelope', () => {
  it.each([
    ['a bad Content-Length', 'POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: nope'],
    ['a broken request line', 'POST /api/x HTTP/9'],
  ])('%s', async (_kind, head) => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(proxy.url, head);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ success: false, error: 'bad_request' });
    expect(target.seen).toEqual([]);
  });
});

describe('a request line and headers over 16 KiB', () => {
  const TOO_LARGE = {
    success: false,
    error: 'headers_too_large',
    message:
      'The request line and headers are over 16 KiB, the most Node reads: send shorter ones, or start the proxy with NODE_OPTIONS=--max-http-header-size=<bytes> to raise it (HPE_HEADER_OVERFLOW)',
  };

  // Node's parser reports a URL too long as it does headers too large: no 414 is told apart.
  it.each([
    ['a long query', `GET /api/x?${'k=v&'.repeat(5_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['a long header', `GET /api/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(17 * 1024)}\r\n\r\n`],
  ])('%s: 431 saying so, and the connection closed', async (_kind, request) => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    // The client never closes its side: the answer resolves once the proxy closes the connection.
    const response = await stalledRequest(proxy.url, request);
    expect(statusesOf(response)).toEqual([431]);
    expect(response.head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r$/m);
    expect(response.head).toMatch(/^connection: close\r?$/im);
    expect(JSON.parse(response.body)).toEqual(TOO_LARGE);
    expect(target.seen).toEqual([]);
  });

  it('fetch reads the 431', async () => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    const response = await fetch(`${proxy.url}/api/x`, {
      method: 'POST',
      headers: { 'x-big': 'x'.repeat(17 * 1024) },
    });
    expect(response.status).toBe(431);
    expect(await response.json()).toEqual(TOO_LARGE);
    expect(target.seen).toEqual([]);
  });
});

describe('a task id with an escape that decodes to no UTF-8, or is no escape', () => {
  it.each(['caf%E9', '%zz'])('%s is refused as no task id, like any other', async (id) => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(proxy.url, `GET /task/${id} HTTP/1.1\r\nHost: x`);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ success: false, error: 'invalid_task_id' });
  });
});

describe('a path outside the routes with an escape that is no UTF-8', () => {
  it('is a 404 naming the path as sent', async () => {
    const target = await recordingTarget(recorded);
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(proxy.url, 'GET /tasks%E9 HTTP/1.1\r\nHost: x');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'not_found',
      message: 'No route GET /tasks%E9',
    });
  });
});
