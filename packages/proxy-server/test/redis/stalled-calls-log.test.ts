import { waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import { failedLines, leasesRunOut, oneHoldingEverySlot } from './instances.js';

const CAP = 2;

describe('an instance alive when a dead instance’s leases run out', () => {
  it('logs a task failed warning for each call it ends interrupted, as a start does', {
    timeout: 90_000,
  }, async () => {
    const { redis, launch, holder, ids } = await oneHoldingEverySlot(CAP);
    // Up before the death: the calls reach it through BullMQ's stalled-job check, not its start.
    const alive = await launch();
    expect(alive.output()).toContain('left processing by the last run: 0 requeued, 0 interrupted');
    await holder.stop('SIGKILL');
    await leasesRunOut(redis.url, ids);
    await waitFor(() => failedLines(alive).length >= CAP, {
      timeoutMs: 60_000,
      what: 'a task failed warning for each call the live instance ended',
    });
    for (const id of ids) {
      expect(failedLines(alive).filter((line) => line.includes(`"taskId":"${id}"`))).toEqual([
        expect.stringContaining('"error":"interrupted"'),
      ]);
    }
    expect(failedLines(alive)).toHaveLength(CAP);
  });
});
