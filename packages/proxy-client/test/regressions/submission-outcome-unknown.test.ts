import { describe, expect, it } from 'vitest';
import { isProxyUnreachableError, ProxyClient } from '../../src/index.js';
import { BASE_URL, createTestServer } from '../helpers/test-server.js';

// A submission whose answer never came (the connection broke after the request went out, or the
// answer took too long) may have created its task. The key the SDK made for the call was the
// only way to ask for that task without starting another, and the error did not carry it.

const server = createTestServer();

describe('a submission that ends without an answer', () => {
  it('names the idempotency key it sent, the one the SDK made, after its retries', async () => {
    const route = server.on('post', '/api/x', { network: true });
    const proxy = new ProxyClient({ baseUrl: BASE_URL, maxRetries: 1 });
    const error = await proxy.submitTask('x', { n: 1 }).catch((e: unknown) => e);
    expect(isProxyUnreachableError(error)).toBe(true);
    const sent = route.calls.map((call) => call.headers.get('idempotency-key'));
    expect(new Set(sent).size).toBe(1);
    const key = (error as { idempotencyKey?: string }).idempotencyKey;
    expect(`"${key}"`).toBe(sent[0]);
    expect((error as Error).message).toContain(`idempotencyKey '${key}'`);
  });

  it("names the caller's key when no answer came in time", async () => {
    server.on(
      'post',
      '/api/x',
      (call) =>
        new Promise((_, reject) => {
          call.signal.addEventListener('abort', () => reject(call.signal.reason));
        }),
    );
    const proxy = new ProxyClient({ baseUrl: BASE_URL, timeoutMs: 50 });
    const error = await proxy
      .submit('x', {}, { idempotencyKey: 'order-42' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'ProxyUnreachableError',
      code: 'response_timeout',
      idempotencyKey: 'order-42',
    });
  });

  it('names no key when the submission carried none (retries off)', async () => {
    server.on('post', '/api/x', { network: true });
    const proxy = new ProxyClient({ baseUrl: BASE_URL, maxRetries: 0 });
    const error = await proxy.submitTask('x').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProxyUnreachableError', idempotencyKey: undefined });
    expect((error as Error).message).not.toContain('idempotencyKey');
  });

  it('a read that fails names no key', async () => {
    server.on('get', '/task/:id', { network: true });
    const proxy = new ProxyClient({ baseUrl: BASE_URL, maxRetries: 0 });
    const error = await proxy.getTask('t1').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProxyUnreachableError', idempotencyKey: undefined });
  });
});
