import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { StoreUnavailableError } from '../src/engine/store-unavailable.js';
import type { TaskBackend } from '../src/engine/task-backend.js';
import type { CallbackState } from '../src/engine/task-record.js';
import { Callbacks } from '../src/proxy/callbacks.js';
import type { TaskViews } from '../src/proxy/task-views.js';
import { FakeClock } from './engine/harness.js';

// Code review: a delivery whose record the store refused (a moment of disk full) was never
// tried again while the process ran: the next delivery was scheduled only once it was saved.

const ID = '00000000-0000-4000-8000-000000000001';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A receiver that answers each delivery with the next status of `statuses`. */
async function receiver(statuses: number[]) {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    response.statusCode = statuses[requests++] ?? 200;
    response.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests: () => requests,
  };
}

/** A backend that holds one task's callback and refuses the first `failures` saves of it. */
function backendRefusing(url: string, failures: number, lasting = false) {
  const saved: CallbackState[] = [];
  let refused = 0;
  const asked = () => refused;
  const backend = {
    subscribe: () => ({ close: () => undefined }),
    pendingCallbacks: async () => [
      { id: ID, callback: { url, state: 'pending', deliveries: [], nextAt: null } },
    ],
    setCallback: async (_id: string, callback: CallbackState) => {
      if (refused++ < failures) {
        throw new StoreUnavailableError('saving a callback: database or disk is full', {
          lasting,
        });
      }
      saved.push(callback);
      return true;
    },
  } as unknown as TaskBackend;
  return { backend, saved, asked };
}

async function callbacksOn(backend: TaskBackend, clock: FakeClock) {
  const errors: string[] = [];
  const log = {
    error: (_fields: unknown, message: string) => errors.push(message),
    warn: () => undefined,
    info: () => undefined,
  } as unknown as FastifyBaseLogger;
  const tasks = { get: async () => ({ id: ID, status: 'completed' }) } as unknown as TaskViews;
  const callbacks = new Callbacks({
    backend,
    tasks,
    clock,
    log,
    secret: SECRET,
    maxAttempts: 3,
    allows: () => true,
    firstRetryMs: 1_000,
  });
  onTestFinished(() => callbacks.stop());
  await callbacks.start();
  return { errors };
}

describe('callback deliveries the store would not record', () => {
  it('go on: the next delivery is made, and its record holds the one not saved', async () => {
    const hook = await receiver([503, 200]);
    const { backend, saved } = backendRefusing(hook.url, 1);
    const clock = new FakeClock();
    const { errors } = await callbacksOn(backend, clock);
    clock.advance(0);
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(hook.requests()).toBe(1);
    await vi.waitFor(() => {
      clock.advance(1_000);
      expect(saved.at(-1)?.state).toBe('delivered');
    });
    expect(hook.requests()).toBe(2);
    expect(saved.at(-1)?.deliveries.map((delivery) => delivery.statusCode)).toEqual([503, 200]);
  });

  it('that ended it: the save alone is tried again, and the callback is saved as delivered', async () => {
    const hook = await receiver([200, 200]);
    const { backend, saved } = backendRefusing(hook.url, 1);
    const clock = new FakeClock();
    const { errors } = await callbacksOn(backend, clock);
    clock.advance(0);
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    await vi.waitFor(() => {
      clock.advance(1_000);
      expect(saved.at(-1)?.state).toBe('delivered');
    });
    // Review: the whole step was taken again, a delivery every 5 s for as long as the store
    // failed; the receiver has had its delivery.
    expect(hook.requests()).toBe(1);
  });

  it('that ended it, on a store that will not mend: left to the next start', async () => {
    const hook = await receiver([200]);
    const { backend, saved, asked } = backendRefusing(hook.url, Number.POSITIVE_INFINITY, true);
    const clock = new FakeClock();
    const { errors } = await callbacksOn(backend, clock);
    clock.advance(0);
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    // Real time between the steps: room for a delivery's round trip, had one been scheduled.
    for (let step = 0; step < 5; step++) {
      clock.advance(5_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(asked()).toBe(1);
    expect(errors).toHaveLength(1);
    expect(hook.requests()).toBe(1);
    expect(saved).toEqual([]);
  });
});
