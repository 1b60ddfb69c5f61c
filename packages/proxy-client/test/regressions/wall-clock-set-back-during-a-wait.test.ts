import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProxyClient } from '../../src/index.js';
import { makeTask, TASK_ID } from '../helpers/fixtures.js';
import { BASE_URL, createTestServer, useFakeClock } from '../helpers/test-server.js';

const HOUR_MS = 3_600_000;

/**
 * `waitForTask` timed its pauses between reads with `Date.now()`: a wall clock set back an hour
 * (NTP, an operator) while a read was out made the next pause an hour longer, so the wait (and
 * `proxy-cli --wait`) sat silent for an hour after the task had finished. A clock stepped
 * forward as much cut a proxy outage short.
 */
const server = createTestServer();

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

describe('a wall clock set back an hour during a read', () => {
  it('delays the next read of a wait no longer than its schedule', async () => {
    const pending = { json: { success: true, data: makeTask({ status: 'pending' }) } };
    const route = server.on(
      'get',
      '/task/:id',
      () => {
        vi.setSystemTime(Date.now() - HOUR_MS);
        return pending;
      },
      pending,
      { json: { success: true, data: makeTask({ status: 'completed' }) } },
    );
    const client = new ProxyClient({ baseUrl: BASE_URL });
    const wait = client.waitForTask(TASK_ID, { pollIntervalMs: 1_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(route.calls).toHaveLength(3);
    expect((await wait).status).toBe('completed');
  });
});
