import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from 'test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isProxyError,
  ProxyClient,
  ProxyResponseError,
  ProxyUnreachableError,
} from '../src/index.js';
import { makeTask, TASK_ID } from './helpers/fixtures.js';

// These go through Node's real fetch, with no MSW in the way, to see what a user sees.
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port that was just free: nothing listens there, so connections are refused at once. */
const closedPort = async (): Promise<string> => `http://127.0.0.1:${await freePort()}`;

describe('over a real socket', () => {
  it('a refused connection is a ProxyUnreachableError naming ECONNREFUSED', async () => {
    const proxy = new ProxyClient({ baseUrl: await closedPort(), maxRetries: 0 });
    const error = await proxy.health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyUnreachableError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('a port fetch will not connect to is named as such, not as a proxy not running', async () => {
    const proxy = new ProxyClient({ baseUrl: 'http://127.0.0.1:6667', maxRetries: 0 });
    const error = await proxy.health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyUnreachableError);
    expect(error).toMatchObject({ code: 'blocked_port' });
    expect((error as Error).message).toContain(
      'fetch refuses to connect to port 6667, one browsers block: run the proxy on another port',
    );
  });

  it('a port fetch will not connect to is asked once, whatever maxRetries says', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls += 1;
      return fetch(input, init);
    };
    const baseUrl = 'http://127.0.0.1:6667';
    const proxy = new ProxyClient({ baseUrl, maxRetries: 3, fetch: counting });
    await expect(proxy.health()).rejects.toMatchObject({ code: 'blocked_port' });
    await expect(proxy.submitTask('report', {}, { idempotencyKey: 'k-1' })).rejects.toMatchObject({
      code: 'blocked_port',
    });
    expect(calls).toBe(2);
  });

  // Hostile pass: in Chromium, a blocked port is a bare TypeError('Failed to fetch') with no
  // cause, so it was `unreachable`, retried twice and said to have maybe arrived.
  it("a browser's bare refusal of a blocked port is blocked_port too, asked once", async () => {
    let calls = 0;
    const browserFetch: typeof fetch = async () => {
      calls += 1;
      throw new TypeError('Failed to fetch');
    };
    const proxy = new ProxyClient({
      baseUrl: 'http://127.0.0.1:6000',
      maxRetries: 3,
      fetch: browserFetch,
    });
    await expect(proxy.health()).rejects.toMatchObject({
      code: 'blocked_port',
      mayHaveArrived: false,
    });
    await expect(proxy.submitTask('report', {})).rejects.toMatchObject({
      code: 'blocked_port',
      mayHaveArrived: false,
    });
    expect(calls).toBe(2);
    const elsewhere = new ProxyClient({
      baseUrl: 'http://127.0.0.1:6001',
      maxRetries: 0,
      fetch: browserFetch,
    });
    await expect(elsewhere.health()).rejects.toMatchObject({ code: 'unreachable' });
  });

  // Browser pass: a CORS refusal is the same bare "Failed to fetch", and the message only asked
  // whether the proxy ran.
  it("a browser's bare network error names the CORS refusal that looks the same", async () => {
    const proxy = new ProxyClient({
      baseUrl: 'http://127.0.0.1:6001',
      maxRetries: 0,
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    await expect(proxy.health()).rejects.toThrow(
      /could not reach the proxy \(Failed to fetch; in a browser a proxy that does not allow this page's origin \(its --cors-origin\) fails the same way: the console says which\)/,
    );
    const bugged = new ProxyClient({
      baseUrl: 'http://127.0.0.1:6001',
      maxRetries: 0,
      fetch: async () => {
        throw new TypeError('Cannot read properties of undefined');
      },
    });
    await expect(bugged.health()).rejects.toThrow(/\(Cannot read properties of undefined\)$/);
  });

  it('a socket dropped mid-answer is retried for reads, then reported', async () => {
    let requests = 0;
    const url = await listen((request) => {
      requests += 1;
      request.socket.destroy();
    });
    const proxy = new ProxyClient({ baseUrl: url, maxRetries: 1 });
    await expect(proxy.getStats()).rejects.toBeInstanceOf(ProxyUnreachableError);
    expect(requests).toBe(2);
  });

  // Hostile pass: a gzip body that was no gzip read as "could not reach the proxy", whose hint
  // asks whether the proxy runs, though it answered.
  it.each([
    ['gzip', 'incorrect header check'],
    ['br', 'Decompression failed'],
  ])(
    'a %s body that does not decompress is an invalid_response, not unreachable',
    async (encoding, why) => {
      const url = await listen((_request, response) => {
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': encoding,
        });
        response.end('not compressed at all');
      });
      const error = await new ProxyClient({ baseUrl: url, maxRetries: 0 })
        .getStats()
        .catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(ProxyUnreachableError);
      expect(error).toMatchObject({
        code: 'invalid_response',
        message: `GET ${url}/stats: unexpected answer (its ${encoding} body does not decompress: ${why}); is this a proxy-server?`,
      });
    },
  );

  it('an answer whose body stalls after its headers is a response_timeout within timeoutMs', async () => {
    const url = await listen((_request, response) => {
      // The headers and the first byte, then nothing: a connection gone quiet mid-answer.
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{');
      // Past the test's own limit, so a client still waiting gets an error rather than a hang.
      setTimeout(() => response.destroy(), 5000).unref();
    });
    const proxy = new ProxyClient({ baseUrl: url, timeoutMs: 300, maxRetries: 0 });
    const startedAt = performance.now();
    const error = await proxy.getStats().catch((e: unknown) => e);
    expect(performance.now() - startedAt).toBeLessThan(3000);
    expect(error).toBeInstanceOf(ProxyUnreachableError);
    expect(error).toMatchObject({ code: 'response_timeout' });
    expect((error as Error).message).toBe(
      `GET ${url}/stats: no answer from the proxy within 300 ms`,
    );
  });

  // SDK pass: a proxy that took every read and answered none read as a task still running.
  it('a wait on a proxy that never answers says no read succeeded, not that the task runs long', async () => {
    const url = await listen((_request, response) => {
      setTimeout(() => response.destroy(), 5000).unref();
    });
    const proxy = new ProxyClient({ baseUrl: url, maxRetries: 0 });
    const error = await proxy.waitForTask(TASK_ID, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'WaitTimeoutError', lastTask: undefined });
    expect((error as Error).message).toBe(
      `Task ${TASK_ID} did not finish within 300 ms; no read of it succeeded in that time, so whether it exists is unknown`,
    );
  });

  // Review: after a 202 named the task, the same timeout said whether it exists is unknown.
  it('a wait after the proxy took the task says so, when no read of it answered', async () => {
    const url = await listen((request, response) => {
      if (request.method !== 'POST') return void setTimeout(() => response.destroy(), 5000).unref();
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end(
        `{"success":true,"task_id":"${TASK_ID}","status":"pending","message":"ok","data":{"task_id":"${TASK_ID}","status_url":"/task/${TASK_ID}"}}`,
      );
    });
    const proxy = new ProxyClient({ baseUrl: url, maxRetries: 0 });
    const error = await proxy.submitAndWait('x', {}, { timeoutMs: 400 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'WaitTimeoutError', lastTask: undefined, timeoutMs: 400 });
    expect((error as Error).message).toBe(
      `Task ${TASK_ID} did not finish within 400 ms; the proxy took it, but no read of it succeeded in that time`,
    );
  });

  // Review: the body's share of timeoutMs was counted from the first attempt, so after a wait
  // for Retry-After an accepted submission read as a timeout, and the caller would send it again.
  it("gives a body what is left of its own attempt's timeoutMs, not of the first attempt's", async () => {
    let calls = 0;
    const url = await listen((_request, response) => {
      calls += 1;
      if (calls === 1) {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        response.end(JSON.stringify({ success: false, error: 'queue_full', message: 'full' }));
        return;
      }
      response.writeHead(202, { 'content-type': 'application/json' });
      response.write('{"success":true,');
      setTimeout(() => {
        response.end(
          `"task_id":"${TASK_ID}","status":"pending","message":"ok","data":{"task_id":"${TASK_ID}","status_url":"/task/${TASK_ID}"}}`,
        );
      }, 30);
    });
    const proxy = new ProxyClient({ baseUrl: url, timeoutMs: 500 });
    await expect(proxy.submitTask('x', {}, { queueFullRetries: 1 })).resolves.toBe(TASK_ID);
    expect(calls).toBe(2);
  });

  // Review: an error answer's body was read with no limit, so a 500 whose body stalled held the
  // call for undici's five minutes.
  it('an error answer whose body stalls is its status alone, not a hang', async () => {
    const url = await listen((_request, response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.write('{');
      setTimeout(() => response.destroy(), 20_000).unref();
    });
    const error = await new ProxyClient({ baseUrl: url, maxRetries: 0 })
      .getStats()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyResponseError);
    expect(error).toMatchObject({ code: 'http_500', status: 500 });
  }, 15_000);

  it.each([301, 302, 303])(
    'a %i from the base URL is an error naming where it points, and is not followed',
    async (status) => {
      const reached: string[] = [];
      const elsewhere = await listen((request, response) => {
        reached.push(request.method ?? '');
        response.writeHead(202).end();
      });
      const url = await listen((_request, response) => {
        response.writeHead(status, { location: `${elsewhere}/api/echo` }).end();
      });
      const proxy = new ProxyClient({ baseUrl: url, maxRetries: 0 });
      const error = await proxy.submitTask('echo', { important: 'payload' }).catch((e) => e);
      expect(error).toBeInstanceOf(ProxyResponseError);
      expect(error).toMatchObject({ code: `http_${status}`, status });
      expect((error as Error).message).toContain(`a redirect to ${elsewhere}/api/echo`);
      expect(reached).toEqual([]);
    },
  );

  it("leaves its JSON accept off a submission, whose headers reach the target, and keeps the caller's", async () => {
    const accepts: Array<string | undefined> = [];
    const url = await listen((request, response) => {
      accepts.push(request.headers.accept);
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ success: true, task_id: TASK_ID, status: 'pending' }));
    });
    await new ProxyClient({ baseUrl: url }).submitTask('report', {});
    await new ProxyClient({ baseUrl: url }).submitTask(
      'report',
      {},
      { headers: { Accept: 'text/csv' } },
    );
    await new ProxyClient({ baseUrl: url, headers: { accept: 'text/csv' } }).submitTask(
      'report',
      {},
    );
    // The first is fetch's own, which asks for nothing in particular.
    expect(accepts).toEqual(['*/*', 'text/csv', 'text/csv']);
  });

  it('an event stream cut mid-way is resumed with Last-Event-ID', async () => {
    const asked: Array<string | undefined> = [];
    const url = await listen((request, response) => {
      asked.push(request.headers['last-event-id'] as string | undefined);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (asked.length === 1) {
        response.write(
          `event: task\ndata: ${JSON.stringify(makeTask({ status: 'processing' }))}\n\n`,
        );
        response.write(
          `id: 7\nevent: task\ndata: ${JSON.stringify(makeTask({ status: 'processing' }))}\n\n`,
        );
        // Half a message, then the connection breaks.
        response.write('id: 8\nevent: ta');
        setImmediate(() => request.socket.destroy());
      } else {
        response.end(
          `id: 9\nevent: task\ndata: ${JSON.stringify(makeTask({ status: 'completed' }))}\n\n`,
        );
      }
    });
    const seen: string[] = [];
    for await (const task of new ProxyClient({ baseUrl: url }).watchTask(TASK_ID)) {
      seen.push(task.status);
    }
    expect(seen).toEqual(['processing', 'completed']);
    expect(asked).toEqual([undefined, '7']);
  });

  it('leaving a watch early closes its connection', async () => {
    let closed: () => void = () => {};
    const gone = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const url = await listen((request, response) => {
      request.socket.on('close', closed);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`event: task\ndata: ${JSON.stringify(makeTask({ status: 'pending' }))}\n\n`);
    });
    for await (const task of new ProxyClient({ baseUrl: url }).watchTask(TASK_ID)) {
      expect(task.status).toBe('pending');
      break;
    }
    await gone;
  });
});

/*
 * Review: a ReadableStream body that failed was reported as a proxy out of reach ("could not
 * reach the proxy (disk gone); the task may have been created"), and retried. fetch reads such a
 * body as it sends it (ky keeps a copy for retries), and reports its failure as "fetch failed",
 * the TypeError of a broken connection: only the real fetch shows that, MSW reads bodies its way.
 */
describe('a ReadableStream body that fails, over a real socket', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  /** A stream that gives `first` (when set), then fails with `error`. */
  function failingStream(error: unknown, first?: string): ReadableStream<Uint8Array> {
    return new ReadableStream({
      start(controller) {
        if (first !== undefined) controller.enqueue(bytes(first));
      },
      pull(controller) {
        controller.error(error);
      },
    });
  }

  /** A proxy that answers 202 once a whole body has come. */
  const proxy = () =>
    listen((request, response) => {
      request.on('error', () => {});
      request.resume();
      request.on('end', () => {
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ success: true, task_id: TASK_ID, status: 'pending' }));
      });
    });

  it.each([
    ['at once', undefined],
    ['after some bytes', 'some bytes'],
  ])(
    '%s rejects with its own error as the cause, not retried, not unreachable',
    async (_when, first) => {
      const baseUrl = await proxy();
      const retries: unknown[] = [];
      const client = new ProxyClient({
        baseUrl,
        hooks: { beforeRetry: [({ error }) => void retries.push(error)] },
      });
      const diskGone = new Error('disk gone');
      const error = await client
        .submitTask('api/echo', failingStream(diskGone, first))
        .catch((e: unknown) => e);
      expect(isProxyError(error)).toBe(false);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).cause).toBe(diskGone);
      expect((error as Error).message).toBe(
        `POST ${baseUrl}/api/echo: the body's ReadableStream failed (disk gone), so the request was not sent whole`,
      );
      expect(retries).toEqual([]);
    },
  );

  it('that fails with a TypeError of its own is not taken for a broken connection', async () => {
    const baseUrl = await proxy();
    const failure = new TypeError('not a file');
    const error = await new ProxyClient({ baseUrl })
      .submitTask('api/echo', failingStream(failure))
      .catch((e: unknown) => e);
    expect(isProxyError(error)).toBe(false);
    expect((error as Error).cause).toBe(failure);
  });

  it('that ends is sent whole; a refused connection stays unreachable', async () => {
    const baseUrl = await proxy();
    const streamOf = (text: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes(text));
          controller.close();
        },
      });
    await expect(new ProxyClient({ baseUrl }).submitTask('api/echo', streamOf('ok'))).resolves.toBe(
      TASK_ID,
    );
    const refused = await new ProxyClient({ baseUrl: await closedPort(), maxRetries: 0 })
      .submitTask('api/echo', streamOf('ok'))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'unreachable' });
    expect((refused as Error).message).toContain('ECONNREFUSED');
  });
});
