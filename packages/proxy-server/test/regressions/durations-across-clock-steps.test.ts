import { createServer, type ServerResponse } from 'node:http';
import type { DataBody, Stats } from 'proxy-client/wire';
import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../engine/harness.js';
import { serveForTest, startProxy } from '../helper.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A target that holds every call until the test answers it. */
async function holdingTarget() {
  const held: ServerResponse[] = [];
  const url = await serveForTest(
    createServer((_req, res) => {
      held.push(res);
    }),
  );
  return { held, url };
}

// Review: durations were differences of wall-clock times, so a clock set back an hour showed a
// negative queue_ms and uptime_s, and one stepped a day forward during a call added a day to
// avg_processing_ms (and so to every wait estimate and Retry-After) for the process's life; the
// age of the call in flight, the estimate before any call has finished, was off by the step.
describe.each([
  ['back an hour', -HOUR_MS],
  ['forward a day', DAY_MS],
])('a wall clock stepped %s', (_name, stepMs) => {
  it('shows no negative duration, and the mean call time stays the real one', async () => {
    const target = await holdingTarget();
    const clock = new FakeClock();
    const proxy = await startProxy(target.url, {
      flags: ['--max-concurrent', '1', '--num-workers', '1'],
      deps: { clock },
    });
    const first = await proxy.submit('/api/first');
    const queued = await proxy.submit('/api/queued');
    await vi.waitFor(() => expect(target.held).toHaveLength(1));
    clock.advance(1_000);
    clock.stepWall(stepMs);

    const waiting = await proxy.getTask(queued);
    expect(waiting.queue_ms).toBeGreaterThanOrEqual(0);
    // Nothing has finished yet: the wait is guessed from the age of the call in flight.
    expect(Date.parse(waiting.estimated_start_at ?? '') - clock.now()).toBe(1_000);
    expect((await proxy.getTask(first)).duration_ms).toBeGreaterThanOrEqual(0);
    const stats = async () =>
      ((await proxy.app.inject({ url: '/stats' })).json() as DataBody<Stats>).data;
    expect((await stats()).uptime_s).toBe(1);

    target.held[0]?.end('done');
    await proxy.finished(first);
    expect((await stats()).avg_processing_ms).toBe(1_000);
  });

  // Review: a call in flight was long by the wall clock on the wire, and a cancel timed it there.
  it('makes no call long, and a call cancelled in flight counts its real time', async () => {
    const target = await holdingTarget();
    const clock = new FakeClock();
    const proxy = await startProxy(target.url, { deps: { clock } });
    const id = await proxy.submit('/api/first');
    await vi.waitFor(() => expect(target.held).toHaveLength(1));
    clock.advance(1_000);
    clock.stepWall(stepMs);
    expect((await proxy.getTask(id)).is_long_task).toBe(false);

    expect((await proxy.app.inject({ method: 'DELETE', url: `/task/${id}` })).statusCode).toBe(200);
    const stats = ((await proxy.app.inject({ url: '/stats' })).json() as DataBody<Stats>).data;
    expect(stats.avg_processing_ms).toBe(1_000);
  });
});
