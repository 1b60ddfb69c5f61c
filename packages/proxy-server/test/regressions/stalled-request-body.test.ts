import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { stalledRequest, startProxy, startTarget, statusesOf, tasksSubmitted } from '../helper.js';

// Issue 16, item 1: a request body that stalled was never timed out, so 40 clients each holding
// 10 MiB minus one byte kept ~400 MiB, and ~1,000 of them ran the process out of descriptors.

const TIMEOUT_S = 0.3;

const openConnections = (app: FastifyInstance) =>
  new Promise<number>((resolve, reject) =>
    app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );

async function proxyWithShortTimeout(flags: string[] = []) {
  const target = await startTarget();
  return startProxy(target.url, {
    listen: true,
    flags: ['--request-timeout', String(TIMEOUT_S), ...flags],
  });
}

describe('--request-timeout', () => {
  it.each([
    [
      'a body that stalls one byte short',
      `POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 + 1}\r\n\r\n${'x'.repeat(64 * 1024)}`,
    ],
    [
      'headers that never end',
      'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n',
    ],
    ['a connection that sends nothing', ''],
    [
      'a chunked body on a route of the proxy’s own',
      'GET /stats HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
    ],
  ])('%s: 408 request_timeout, then the connection is closed', async (_kind, bytes) => {
    const proxy = await proxyWithShortTimeout();
    const answer = await stalledRequest(proxy.url, bytes);

    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toEqual({
      success: false,
      error: 'request_timeout',
      message: expect.any(String),
    });
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 20);
    expect(answer.elapsedMs).toBeLessThan(5_000);
    await waitFor(async () => (await openConnections(proxy.app)) === 0, {
      what: 'the proxy to let go of the connection',
    });
    expect(await tasksSubmitted(proxy.url)).toBe(0);
  });

  // Security pass: a request answered from its head (401 without the key, 400 for its path) had
  // its body read on, and when that stalled the same request got a second answer, 408.
  it.each([
    ['401, without the key', 'POST /api/echo', 401],
    ['400, for its path', 'POST /api/../echo', 400],
  ])(
    'a body that stalls after an answer from the head (%s): that answer alone, then the connection is closed',
    async (_kind, requestLine, status) => {
      const proxy = await proxyWithShortTimeout(['--api-key', 'k-123']);
      const key = status === 400 ? 'Authorization: Bearer k-123\r\n' : '';
      const answer = await stalledRequest(
        proxy.url,
        `${requestLine} HTTP/1.1\r\nHost: x\r\n${key}Content-Length: 1000\r\n\r\nx`,
      );
      expect(statusesOf(answer)).toEqual([status]);
      await waitFor(async () => (await openConnections(proxy.app)) === 0, {
        what: 'the proxy to let go of the connection',
      });
    },
  );

  it('releases many stalled bodies at once, and keeps serving', async () => {
    const proxy = await proxyWithShortTimeout();
    const head = `POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${1024 * 1024}\r\n\r\n`;
    const almostAll = Buffer.concat([Buffer.from(head), Buffer.alloc(1024 * 1024 - 1, 0x61)]);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => stalledRequest(proxy.url, almostAll)),
    );

    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 408));
    await waitFor(async () => (await openConnections(proxy.app)) === 0, {
      what: 'the proxy to let go of every connection',
    });
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
  });

  it('leaves a request alone that arrives in time, however it is split', async () => {
    const proxy = await proxyWithShortTimeout();
    const answer = await new Promise<string>((resolve, reject) => {
      const { hostname, port } = new URL(proxy.url);
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.write('POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab');
        setTimeout(() => socket.end('cd'), (TIMEOUT_S * 1000) / 3);
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 202 /);
  });
});

describe('--max-connections', () => {
  /** Opens a connection that sends nothing; resolves once it is established. */
  const idleConnection = (url: string) =>
    new Promise<Socket>((resolve) => {
      const { hostname, port } = new URL(url);
      const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
      socket.on('error', () => {});
      onTestFinished(() => {
        socket.destroy();
      });
    });

  it('closes a connection over the cap unanswered, and takes new ones once others end', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--max-connections', '2'] });
    const held = [await idleConnection(proxy.url), await idleConnection(proxy.url)];
    await waitFor(async () => (await openConnections(proxy.app)) === 2, {
      what: 'both connections to be accepted',
    });

    const refused = await stalledRequest(proxy.url, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(refused.status).toBe(0);

    for (const socket of held) socket.destroy();
    await waitFor(async () => (await openConnections(proxy.app)) === 0, {
      what: 'the held connections to close',
    });
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
  });
});
