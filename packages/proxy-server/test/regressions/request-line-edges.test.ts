import { METHODS } from 'node:http';
import { describe, expect, it } from 'vitest';
import { rawRequest, startProxy, startTarget, tasksSubmitted } from '../helper.js';

// HTTP-input pass: Node's parser reads `HTTP/0.9` and `HTTP/2.0` request lines (it refuses 1.2 or
// 3.0), and each such submission made a task; `GET *` (asterisk-form, which only OPTIONS may
// send) was served as `GET /`, and `OPTIONS *` got a 405 for a route it never asked about.

describe('a request line Node reads but HTTP/1.1 does not allow', () => {
  it.each(['0.9', '2.0'])('HTTP/%s: 400 naming the version, no task', async (version) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(
      proxy.url,
      `POST /api/x HTTP/${version}\r\nHost: x\r\nContent-Length: 2`,
      'hi',
    );
    expect(response.status).toBe(400);
    expect(response.head).toMatch(/^connection: close/im);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'bad_request',
      message: `Malformed HTTP request: the version is not HTTP/1.0 or HTTP/1.1 (HTTP/${version} was sent)`,
    });
    expect(await tasksSubmitted(proxy.url)).toBe(0);
    expect(target.stats().requests).toBe(0);
  });

  it.each(['GET', 'POST', 'DELETE'])(
    '%s *: 400 naming the asterisk-form, no task',
    async (method) => {
      const target = await startTarget();
      const proxy = await startProxy(target.url, { listen: true });
      const response = await rawRequest(proxy.url, `${method} * HTTP/1.1\r\nHost: x`);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        success: false,
        error: 'bad_request',
        message: `${method} *: the request target "*" (asterisk-form) is for OPTIONS only; send a path such as /`,
      });
      expect(await tasksSubmitted(proxy.url)).toBe(0);
    },
  );

  it('OPTIONS *: 204 with Allow, the methods the proxy takes, without the key', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--api-key', 'k'] });
    const response = await rawRequest(proxy.url, 'OPTIONS * HTTP/1.1\r\nHost: x');
    expect(response.status).toBe(204);
    const allow = /^allow: (.*)$/im.exec(response.head)?.[1]?.split(', ');
    expect(allow).toEqual(METHODS.filter((method) => method !== 'CONNECT'));
    expect(target.stats().requests).toBe(0);
  });
});
