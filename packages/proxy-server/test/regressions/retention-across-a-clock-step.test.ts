import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../engine/harness.js';
import { recordingTarget, startProxy } from '../helper.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

// Review: the retention sweep removed tasks finished before now minus --retention on the wall
// clock, so a step of it past the retention (a VM resumed after a day, NTP) removed at once the
// results of tasks that had finished a minute earlier, before their callers could read them.
describe('the retention sweep after the wall clock stepped forward a day', () => {
  it('keeps a task finished a minute ago, and removes it once --retention has really passed', async () => {
    const target = await recordingTarget(() => null);
    const clock = new FakeClock();
    const proxy = await startProxy(target.url, { flags: ['--retention', '1'], deps: { clock } });
    const id = await proxy.submit('/api/done');
    await proxy.finished(id);
    const status = async () => (await proxy.app.inject({ url: `/task/${id}` })).statusCode;

    clock.stepWall(DAY_MS);
    for (let sweep = 0; sweep < 5; sweep++) {
      clock.advance(60_000);
      await proxy.app.inject({ url: '/stats' });
    }
    expect(await status()).toBe(200);

    // The next sweep is set once this one is done: one at a time.
    clock.advance(HOUR_MS);
    await vi.waitFor(async () => {
      clock.advance(60_000);
      expect(await status()).toBe(404);
    });
  });
});
