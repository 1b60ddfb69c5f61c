import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../engine/harness.js';
import { startProxy, startTarget } from '../helper.js';

// Found measuring submissions with 2,000 calls of 400 s in flight: --store memory accepted about
// half as many as SQLite. Its default --max-tasks (100,000, against SQLite's 1,000,000) filled,
// and each refused submission read the backend's counts for its Retry-After: a walk over every
// call in flight (a round trip on Redis), so a 503 cost over three times an admission. The
// reads of queue estimates for pending tasks were already shared for a second; refusals now
// share the same read.
describe('refused submissions under calls in flight', () => {
  it.each([
    ['queue_full', ['--max-queue-size', '1']],
    ['tasks_full', ['--max-queue-size', '100', '--max-tasks', '2']],
  ])(
    '%s: one read of the calls in flight serves every refusal and poll of a second',
    async (_reason, flags) => {
      const target = await startTarget();
      const clock = new FakeClock();
      const proxy = await startProxy(target.url, {
        flags: ['--max-concurrent', '1', '--num-workers', '1', ...flags],
        deps: { clock },
      });
      const counts = vi.spyOn(proxy.app.proxy.backend, 'counts');
      await proxy.submit('/api/function1?delay_ms=60000');
      const queued = await proxy.submit('/api/function1?delay_ms=60000');
      await vi.waitFor(() => expect(target.stats().requests).toBe(1));

      // Both refusals are queue_full on the wire, with a Retry-After estimated from the calls.
      const refuse = async () => {
        const refused = await proxy.app.inject({ method: 'POST', url: '/api/function1' });
        expect(refused.statusCode).toBe(503);
        expect(refused.json()).toMatchObject({ error: 'queue_full' });
        expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      };
      await refuse();
      expect((await proxy.getTask(queued)).queue_position).toBe(1);
      for (let n = 0; n < 50; n++) await refuse();
      expect(counts).toHaveBeenCalledTimes(1);

      // A second later the figure is read again, once.
      clock.advance(1_000);
      for (let n = 0; n < 50; n++) await refuse();
      expect(counts).toHaveBeenCalledTimes(2);
    },
  );
});
