import { describe, expect, it } from 'vitest';
import { rawRequest, startProxy, startTarget, tasksSubmitted } from '../helper.js';

// Hostile-input pass: `/api/search?q=C#` sent raw (a client that encodes nothing) became a task
// whose target saw the `#` and what followed, though no request target may carry a fragment.

describe('a "#" in the request target', () => {
  it.each(['/api/x#frag', '/api/search?q=C#', '/task/x#y'])(
    '%s: 400 naming the "#", no task',
    async (target) => {
      const upstream = await startTarget();
      const proxy = await startProxy(upstream.url, { listen: true });
      const response = await rawRequest(proxy.url, `GET ${target} HTTP/1.1\r\nHost: x`);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        success: false,
        error: 'bad_request',
        message:
          'The request target has a "#": a fragment is never sent to a server, and a # meant as data is sent as %23',
      });
      expect(await tasksSubmitted(proxy.url)).toBe(0);
      expect(upstream.stats().requests).toBe(0);
    },
  );

  it('%23 is data, and reaches the target as sent', async () => {
    const upstream = await startTarget();
    const proxy = await startProxy(upstream.url, { listen: true });
    const response = await rawRequest(proxy.url, 'GET /api/echo?q=C%23 HTTP/1.1\r\nHost: x');
    expect(response.status).toBe(202);
    const task = await proxy.finished(JSON.parse(response.body).task_id);
    expect(task.status).toBe('completed');
    expect(task.path).toBe('/api/echo?q=C%23');
  });
});
