import type { DataBody, Task } from 'proxy-client/wire';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildServer, type Clock, systemClock } from '../../src/index.js';
import { configFor } from '../helper.js';

/** A clock a millisecond further on at every reading, as a busy machine's can be. */
function tickingClock(): Clock {
  let now = Date.parse('2026-12-01T00:00:00.000Z');
  return { ...systemClock, now: () => now++ };
}

describe('a deadline set at submit', () => {
  it('is exactly its offset after created_at, however the clock moves during the submit', async () => {
    const app = buildServer(configFor('http://127.0.0.1:1', ['--max-queue-time', '60']), {
      clock: tickingClock(),
    });
    onTestFinished(() => app.close());
    const submitted = await app.inject({
      method: 'POST',
      url: '/api/slow',
      headers: { 'x-proxy-max-queue-time': '30' },
    });
    expect(submitted.statusCode).toBe(202);
    const { task_id } = submitted.json() as { task_id: string };
    const { data: task } = (await app.inject({ url: `/task/${task_id}` })).json() as DataBody<Task>;
    expect(Date.parse(task.deadline_at ?? '') - Date.parse(task.created_at)).toBe(30_000);
  });
});
