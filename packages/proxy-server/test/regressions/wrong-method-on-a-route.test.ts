import { describe, expect, it } from 'vitest';
import { rawRequest, startProxy, startTarget, tasksSubmitted } from '../helper.js';

// `curl -X POST /stats` got `404 not_found, No route POST /stats`, as though /stats did not
// exist. A path the proxy has a route for, asked with another method, is a 405 whose `Allow`
// names the methods it takes (RFC 9110 §15.5.6 requires the header), body or no body.

async function proxy() {
  const target = await startTarget();
  return startProxy(target.url, { listen: true });
}

describe('a method a route of the proxy does not take', () => {
  it.each([
    ['POST', '/stats', 'GET, HEAD'],
    ['PUT', '/task/00000000-0000-4000-8000-000000000000', 'DELETE, GET, HEAD'],
    // The id is checked by the route, which this request never reaches.
    ['PATCH', '/task/not-a-uuid', 'DELETE, GET, HEAD'],
    ['GET', '/task/00000000-0000-4000-8000-000000000000/retry', 'POST'],
    ['GET', '/tasks/cleanup?max_age_hours=1', 'DELETE'],
    ['DELETE', '/tasks', 'GET, HEAD'],
    ['POST', '/', 'GET, HEAD'],
  ])('%s %s is 405 with Allow: %s', async (method, path, allow) => {
    const { url } = await proxy();
    const response = await rawRequest(url, `${method} ${path} HTTP/1.1\r\nHost: x`);
    expect(response.status).toBe(405);
    expect(response.head).toMatch(new RegExp(`^allow: ${allow}\r?$`, 'im'));
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'method_not_allowed',
      message: `${method} ${path}: this route takes ${allow}${path === '/' ? '; requests for the target go under /api/: POST /api/<path on the target>' : ''}`,
    });
  });

  it('is a 405 with a body too, the body left unread', async () => {
    const { url } = await proxy();
    const response = await fetch(`${url}/stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(await response.json()).toMatchObject({ error: 'method_not_allowed' });
    expect(await tasksSubmitted(url)).toBe(0);
  });

  it('is told only to a caller with the API key: without it, 401 and no Allow', async () => {
    const target = await startTarget();
    const { url } = await startProxy(target.url, { listen: true, flags: ['--api-key', 'k-1'] });
    const response = await rawRequest(url, 'POST /stats HTTP/1.1\r\nHost: x');
    expect(response.status).toBe(401);
    expect(response.head).not.toMatch(/^allow:/im);
  });

  it('leaves a path no route has at 404', async () => {
    const { url } = await proxy();
    const response = await rawRequest(url, 'POST /statistics HTTP/1.1\r\nHost: x');
    expect(response.status).toBe(404);
    expect(response.head).not.toMatch(/^allow:/im);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'not_found' });
  });

  it('does not name OPTIONS, which answers only CORS preflights', async () => {
    const target = await startTarget();
    const { url } = await startProxy(target.url, {
      listen: true,
      flags: ['--cors-origin', 'https://app.example'],
    });
    const wrong = await rawRequest(url, 'PUT /stats HTTP/1.1\r\nHost: x');
    expect(wrong.status).toBe(405);
    expect(wrong.head).toMatch(/^allow: GET, HEAD\r?$/im);
    const nowhere = await rawRequest(url, 'PUT /statistics HTTP/1.1\r\nHost: x');
    expect(nowhere.status).toBe(404);
  });
});
