import { connect } from 'node:net';
import { waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import { rawRequest, startProxy, startTarget, tasksSubmitted } from '../helper.js';

// Issue 16, item 9: `Expect: foo` got 417 with an empty body; with --cors-origin, an OPTIONS
// request without Origin got a plain-text 400; a client aborting mid-body was logged as an error
// of ours, stack trace and all.

describe('Expect', () => {
  it('anything but 100-continue: 417 expectation_failed, no task', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(
      proxy.url,
      'POST /api/echo HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Length: 2',
      '{}',
    );
    expect(response.status).toBe(417);
    expect(response.head).toMatch(/^content-type: application\/json/im);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'expectation_failed',
      message: expect.any(String),
    });
    expect(await tasksSubmitted(proxy.url)).toBe(0);
  });

  it('100-continue still submits', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(
      proxy.url,
      'POST /api/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2',
      '{}',
    );
    expect(response.head).toBe('HTTP/1.1 100 Continue');
    expect(response.body).toMatch(/^HTTP\/1\.1 202 /);
  });
});

describe('OPTIONS with --cors-origin', () => {
  const corsProxy = async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--cors-origin', 'https://app.example'],
    });
    return { target, proxy };
  };

  it('without Origin, on /api/*: not a preflight, so a submission as without CORS', async () => {
    const { target, proxy } = await corsProxy();
    const response = await fetch(`${proxy.url}/api/echo`, { method: 'OPTIONS' });
    expect(response.status).toBe(202);
    const task = await proxy.finished(((await response.json()) as { task_id: string }).task_id);
    expect(task).toMatchObject({ status: 'completed', method: 'OPTIONS' });
    expect(target.stats().requests).toBe(1);
  });

  it.each([
    ['without Origin', { 'access-control-request-method': 'GET' }],
    ['without Access-Control-Request-Method', { origin: 'https://app.example' }],
  ])('%s, elsewhere: the envelope of a method the route does not take', async (_kind, headers) => {
    const { proxy } = await corsProxy();
    const response = await fetch(`${proxy.url}/stats`, { method: 'OPTIONS', headers });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(await response.json()).toMatchObject({ success: false, error: 'method_not_allowed' });
  });

  it('a real preflight is still answered 204', async () => {
    const { target, proxy } = await corsProxy();
    const response = await fetch(`${proxy.url}/api/echo`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(target.stats().requests).toBe(0);
  });
});

describe('a client that aborts mid-body', () => {
  it('is logged at debug, without a stack, and nothing at warn or above', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      // Equal, so that the start logs no warning about them.
      flags: ['--log-level', 'debug', '--num-workers', '5', '--max-concurrent', '5'],
      deps: { logStream: { write: (line) => lines.push(JSON.parse(line)) } },
    });
    const { hostname, port } = new URL(proxy.url);
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write('POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc');
    });
    socket.on('error', () => {});
    await waitFor(() => lines.some((line) => line.msg === 'incoming request'), {
      what: 'the request to reach a route',
    });
    socket.destroy();

    const closed = await waitFor(
      () => lines.find((line) => line.msg === 'connection closed mid-request'),
      { what: 'the abort to be logged' },
    );
    expect(closed).toMatchObject({ level: 20, method: 'POST', url: '/api/echo' });
    expect(JSON.stringify(lines)).not.toContain('stack');
    expect(lines.filter((line) => Number(line.level) >= 40)).toEqual([]);
  });
});
