import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it, onTestFinished, vi } from 'vitest';
import type { TaskBackend } from '../src/engine/task-backend.js';
import { Callbacks } from '../src/proxy/callbacks.js';
import type { TaskViews } from '../src/proxy/task-views.js';
import { keptLog } from './callbacks-harness.js';
import { FakeClock } from './engine/harness.js';

// Soak pass: a task removed by --retention while its callback waited for its next delivery
// took the callback with it unsaid: no "callback given up" line, /stats counted no failure.

const ID = '00000000-0000-4000-8000-000000000001';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

it('gives up, counted and said, the callback of a task removed before it was delivered', async () => {
  let deliveries = 0;
  const server = createServer((_request, response) => {
    deliveries++;
    response.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=secret`;
  const backend = {
    subscribe: () => ({ close: () => undefined }),
    // Due since a previous run: two deliveries failed, the third is due now.
    pendingCallbacks: async () => [
      {
        id: ID,
        callback: {
          url,
          state: 'pending',
          deliveries: [
            { attempt: 1, at: 0, ok: false, statusCode: 500, error: null },
            { attempt: 2, at: 1, ok: false, statusCode: 500, error: null },
          ],
          nextAt: null,
        },
      },
    ],
    setCallback: async () => false,
  } as unknown as TaskBackend;
  const { log, warnings } = keptLog();
  const settled: boolean[] = [];
  const clock = new FakeClock();
  const callbacks = new Callbacks({
    backend,
    // The task is gone.
    tasks: { get: async () => undefined } as unknown as TaskViews,
    clock,
    log,
    secret: SECRET,
    maxAttempts: 6,
    allows: () => true,
    onSettled: (delivered) => settled.push(delivered),
  });
  onTestFinished(() => callbacks.stop());
  await callbacks.start();
  clock.advance(0);
  await vi.waitFor(() => expect(settled).toEqual([false]));
  expect(warnings).toEqual([
    {
      fields: { taskId: ID, url: url.replace('?token=secret', ''), attempts: 2 },
      message: 'callback given up: its task was removed before a delivery went through',
    },
  ]);
  expect(deliveries).toBe(0);
});
