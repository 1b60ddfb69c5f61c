import { createServer, type Server } from 'node:net';
import { freePort } from 'test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { isProxyUnreachableError, ProxyClient } from '../../src/index.js';

// ky hands back the last attempt's error only. A submission whose first attempt reached the proxy
// before the proxy died, and whose retries were then refused, was reported as "sent nothing"
// (ECONNREFUSED), though its task may exist: the note with the key must follow every attempt.

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

describe('a submission without an answer, over real sockets', () => {
  it('may have arrived when its first attempt reached a proxy that then went away', async () => {
    let requests = 0;
    server = createServer((socket) => {
      socket.once('data', () => {
        requests++;
        // The request is in; the proxy dies before answering, and stops listening.
        socket.destroy();
        server?.close();
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const proxy = new ProxyClient({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 2 });
    const error = await proxy.submitTask('api/x', { n: 1 }).catch((e: unknown) => e);
    expect(requests).toBe(1);
    expect(isProxyUnreachableError(error)).toBe(true);
    expect(error).toMatchObject({ mayHaveArrived: true });
    expect((error as Error).message).toMatch(/ECONNREFUSED\); the task may have been created/);
  });

  // Hostile pass: retryTask's lost answer said only "could not reach the proxy", though the
  // proxy may have run the task again, and a second retryTask would run it twice.
  it('says where to look when a retryTask may have arrived', async () => {
    server = createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const proxy = new ProxyClient({ baseUrl: `http://127.0.0.1:${port}` });
    const error = await proxy.retryTask('task-1').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProxyUnreachableError', mayHaveArrived: true });
    expect((error as Error).message).toMatch(
      /; task task-1 may have been run again: getTask\('task-1'\) names the new task as retried_as, before any other retryTask$/,
    );
  });

  it('certainly sent nothing when every attempt was refused: no note', async () => {
    const port = await freePort();
    const proxy = new ProxyClient({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 2 });
    const error = await proxy.submitTask('api/x', { n: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProxyUnreachableError', mayHaveArrived: false });
    expect((error as { idempotencyKey?: string }).idempotencyKey).toBeDefined();
    expect((error as Error).message).toMatch(/could not reach the proxy \(ECONNREFUSED\)$/);
  });
});
