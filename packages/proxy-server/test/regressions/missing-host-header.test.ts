import { describe, expect, it } from 'vitest';
import { rawRequest, startProxy, startTarget, tasksSubmitted } from '../helper.js';

// Hostile-input audit: an HTTP/1.1 request without Host got Node's bare `400 Bad Request` with an
// empty body, answered before Fastify saw it; the SPEC wants the JSON envelope on every error.

const REFUSAL = {
  success: false,
  error: 'bad_request',
  message: 'An HTTP/1.1 request must have a Host header',
};

describe('an HTTP/1.1 request without a Host header', () => {
  it.each([
    ['a submission', 'POST /api/text HTTP/1.1\r\nContent-Length: 2', 'hi'],
    ['a route of the proxy', 'GET /stats HTTP/1.1', ''],
    ['no route at all', 'GET /nowhere HTTP/1.1', ''],
  ])('%s: 400 with the envelope, no task', async (_what, head, body) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(proxy.url, head, body);
    expect(response.status).toBe(400);
    expect(response.head).toMatch(/^content-type: application\/json/im);
    expect(JSON.parse(response.body)).toEqual(REFUSAL);
    expect(await tasksSubmitted(proxy.url)).toBe(0);
    expect(target.stats().requests).toBe(0);
  });

  it('is refused before the API key is asked for', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--api-key', 'k'] });
    const response = await rawRequest(proxy.url, 'GET /stats HTTP/1.1');
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual(REFUSAL);
  });

  it('HTTP/1.0 needs none, and an empty Host is one: both are served as before', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    for (const head of ['POST /api/text HTTP/1.0', 'POST /api/text HTTP/1.1\r\nHost:']) {
      const response = await rawRequest(proxy.url, head);
      expect(response.status).toBe(202);
      expect((await proxy.finished(JSON.parse(response.body).task_id)).status).toBe('completed');
    }
  });
});
