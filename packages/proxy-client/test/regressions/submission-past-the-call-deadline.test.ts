import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProxyUnreachableError, ProxyClient, WaitTimeoutError } from '../../src/index.js';

/**
 * `run` and `submitAndWait` against a proxy that accepts connections and never answers. The held
 * submission ran out at the call's deadline, and a second one went out anyway, with a budget of
 * `Math.max(1, …)`: 1 ms. The error then said `within 1 ms`, or with a client `timeoutMs` below
 * the call's, what was left of the limit unrounded (`within 485.4027579999997 ms`), never the
 * limit the caller set.
 */
let silent: Server;
let baseUrl: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

/** A client whose every request is counted as fetch is asked for it. */
function countingClient(options: { timeoutMs?: number } = {}) {
  const sent: string[] = [];
  const client = new ProxyClient({
    baseUrl,
    ...options,
    fetch: (input, init) => {
      // ky hands fetch a Request, its method and URL in it.
      const method = input instanceof Request ? input.method : (init?.method ?? 'GET');
      sent.push(`${method} ${input instanceof Request ? input.url : String(input)}`);
      return fetch(input, init);
    },
  });
  return { client, sent };
}

describe('a submission of run or submitAndWait that gets no answer by the call deadline', () => {
  it('sends nothing more once the deadline passed, and names the limit the caller set', async () => {
    const { client, sent } = countingClient();
    const error = await client.run('x', { n: 1 }, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(isProxyUnreachableError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'response_timeout', mayHaveArrived: true });
    const key = (error as { idempotencyKey?: string }).idempotencyKey;
    expect(key).toEqual(expect.any(String));
    expect((error as Error).message).toContain(
      `no answer from the proxy within the call's timeoutMs (2000 ms); the task may have been created: submit again with idempotencyKey '${key}'`,
    );
    expect(sent).toEqual([`POST ${baseUrl}/api/x`]);
  });

  it("names the call's limit, not what was left of it, after a resubmission", async () => {
    // The client's own 500 ms (plus the hold) ends the held submission before the call's
    // deadline: the one sent again without a hold has what is left, and runs the call out.
    const { client } = countingClient({ timeoutMs: 500 });
    const error = await client
      .submitAndWait('x', { n: 1 }, { timeoutMs: 2000 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProxyUnreachableError', code: 'response_timeout' });
    expect((error as Error).message).toContain(
      "no answer from the proxy within the call's timeoutMs (2000 ms); the task may have been created",
    );
    expect((error as Error).message).not.toMatch(/\d\.\d+ ms/);
  });

  it('says the task may have been created when the submission carried no key', async () => {
    const { client, sent } = countingClient();
    const error = await client
      .run('x', { n: 1 }, { timeoutMs: 300, maxRetries: 0 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'ProxyUnreachableError',
      code: 'response_timeout',
      idempotencyKey: undefined,
    });
    expect((error as Error).message).toMatch(
      /within the call's timeoutMs \(300 ms\); the task may have been created$/,
    );
    expect(sent).toHaveLength(1);
  });
});

describe('a time limit in a message', () => {
  it('is in whole milliseconds, however it was computed', async () => {
    expect(new WaitTimeoutError('t1', 1234.5678, undefined).message).toBe(
      'Task t1 did not finish within 1235 ms; no read of it succeeded in that time, so whether it exists is unknown',
    );
    const error = await new ProxyClient({ baseUrl, timeoutMs: 100.4 })
      .getStats()
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `GET ${baseUrl}/stats: no answer from the proxy within 100 ms`,
    );
  });
});
