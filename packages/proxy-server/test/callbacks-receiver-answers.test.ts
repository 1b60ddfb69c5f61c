import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { callbacksOn, dispatcherAnswering, idOf } from './callbacks-harness.js';
import { CERT, KEY } from './self-signed-cert.js';

// Review: every answer but a 2xx was retried alike. A receiver's 410 Gone (Standard Webhooks:
// stop sending) was sent the rest of the attempts, its Retry-After on a 429 or 503 was not
// heeded, and a 302 or an untrusted certificate was logged with nothing an operator could act on.

/** How long the proxy waits after the first delivery, as the callback saved after it says. */
function firstWaitOf(saved: Array<{ nextAt: number | null; deliveries: Array<{ at: number }> }>) {
  const [first] = saved;
  return (first?.nextAt ?? Number.NaN) - (first?.deliveries[0]?.at ?? Number.NaN);
}

async function listening(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a receiver that answers 410 Gone', () => {
  it('is sent no more deliveries: the callback is given up at once, counted and said', async () => {
    const answers = dispatcherAnswering([410]);
    const { clock, saved, settled, warnings } = await callbacksOn('sqlite', 1, answers.dispatcher, {
      maxAttempts: 6,
    });
    clock.advance(0);
    await vi.waitFor(() => expect(settled).toEqual([false]));
    clock.advance(3_600_000);
    expect(answers.requests()).toBe(1);
    expect(saved).toMatchObject([
      { state: 'failed', nextAt: null, deliveries: [{ statusCode: 410 }] },
    ]);
    expect(warnings).toEqual([
      {
        fields: {
          taskId: idOf(0),
          url: 'http://127.0.0.1:9/hook',
          attempts: 1,
          lastOutcome: 'answered 410',
        },
        message: 'callback given up: the receiver answered 410 Gone',
      },
    ]);
  });
});

describe("a receiver's Retry-After", () => {
  // The backoff before the second delivery is 1 s; no wait is longer than 10 minutes. A wait
  // asked for lengthens the backoff and never shortens it (0 would spend every attempt at once).
  it.each([
    [429, '30', 30_000],
    [503, 'Tue, 14 Nov 2023 22:15:20 GMT', 120_000],
    [503, '0', 1_000],
    [429, '86400', 600_000],
    [503, 'soon', 1_000],
    [503, '2.5', 1_000],
    [500, '30', 1_000],
  ])('on a %d, %j, waits %d ms', async (statusCode, header, waitMs) => {
    const answers = dispatcherAnswering([{ statusCode, headers: { 'retry-after': header } }]);
    const { clock, saved } = await callbacksOn('sqlite', 1, answers.dispatcher, { maxAttempts: 3 });
    // Where the date above is 2 minutes ahead.
    expect(clock.now()).toBe(Date.parse('2023-11-14T22:13:20Z'));
    clock.advance(0);
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    expect(firstWaitOf(saved)).toBe(waitMs);
    clock.advance(waitMs - 1);
    expect(answers.requests()).toBe(1);
    clock.advance(1);
    await vi.waitFor(() => expect(answers.requests()).toBe(2));
  });
});

describe('a receiver that redirects', () => {
  it('is not followed, and the callback given up says so', async () => {
    let followed = 0;
    const elsewhere = await listening(
      createHttpServer((_request, response) => {
        followed++;
        response.end();
      }),
    );
    const redirecting = await listening(
      createHttpServer((request, response) => {
        request.resume();
        response.writeHead(302, { location: `http://${elsewhere}/hook` }).end();
      }),
    );
    const { clock, settled, warnings } = await callbacksOn('sqlite', 1, undefined, {
      maxAttempts: 1,
      url: `http://${redirecting}/hook`,
    });
    clock.advance(0);
    await vi.waitFor(() => expect(settled).toEqual([false]));
    expect(followed).toBe(0);
    expect(warnings).toMatchObject([
      {
        fields: { lastOutcome: 'answered 302 (redirects are not followed)' },
        message: 'callback given up',
      },
    ]);
  });
});

describe('a receiver whose TLS certificate the proxy does not trust', () => {
  it('is named, with how to trust its CA', async () => {
    const receiver = await listening(
      createHttpsServer({ key: KEY, cert: CERT }, (_request, response) => response.end()),
    );
    const { clock, saved, settled, warnings } = await callbacksOn('sqlite', 1, undefined, {
      maxAttempts: 1,
      url: `https://${receiver}/hook`,
    });
    clock.advance(0);
    await vi.waitFor(() => expect(settled).toEqual([false]));
    const expected =
      "DEPTH_ZERO_SELF_SIGNED_CERT: the receiver's TLS certificate is not signed by a CA the proxy trusts: start the proxy with NODE_EXTRA_CA_CERTS=/path/to/ca.pem";
    expect(saved[0]?.deliveries[0]?.error).toBe(expected);
    expect(warnings).toMatchObject([{ fields: { lastOutcome: expected } }]);
  });
});
