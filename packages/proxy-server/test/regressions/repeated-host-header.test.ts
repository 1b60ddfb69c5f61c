import { describe, expect, it } from 'vitest';
import { rawRequest, startProxy, startTarget, tasksSubmitted } from '../helper.js';

// Hostile-input pass: a request with two Host headers was served, Node keeping the first. RFC
// 9112 §3.2 asks for a 400: a proxy in front could route by one while this one reads the other.

describe('a request with more than one Host header', () => {
  it.each([
    ['a submission', 'POST /api/text HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 0'],
    ['the same host twice', 'POST /api/text HTTP/1.1\r\nHost: a\r\nhost: a\r\nContent-Length: 0'],
    ['a route of the proxy', 'GET /stats HTTP/1.1\r\nHost: a\r\nHOST: b'],
  ])('%s: 400 with the envelope, no task', async (_what, head) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(proxy.url, head);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'bad_request',
      message: 'The request has more than one Host header',
    });
    expect(await tasksSubmitted(proxy.url)).toBe(0);
    expect(target.stats().requests).toBe(0);
  });

  it('one Host, and a header whose name merely starts with it, are served', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(
      proxy.url,
      'POST /api/text HTTP/1.1\r\nHost: a\r\nHostname: b\r\nContent-Length: 0',
    );
    expect(response.status).toBe(202);
    expect((await proxy.finished(JSON.parse(response.body).task_id)).status).toBe('completed');
  });
});
