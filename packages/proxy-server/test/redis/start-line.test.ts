import { waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import { jsonLogLines } from '../helper.js';
import { failedLines, leasesRunOut, oneHoldingEverySlot } from './instances.js';

const CAP = 2;

/**
 * A shared queue whose one instance held every slot on calls the gate keeps and was killed with
 * SIGKILL: its Redis, the launcher of the next instance, and the ids of the calls it held.
 */
async function afterADeathHoldingEverySlot(extra: string[] = []) {
  const { redis, launch, holder, ids } = await oneHoldingEverySlot(CAP, extra);
  await holder.stop('SIGKILL');
  return { redis, launch, ids };
}

describe('the start line of an instance joining a shared queue', () => {
  it('names the calls still processing under a lease, a dead instance’s among them', {
    timeout: 90_000,
  }, async () => {
    const { launch } = await afterADeathHoldingEverySlot();
    // Started before the dead instance's leases run out: its calls are not recovered yet, and
    // the line must not say that nothing was left processing.
    const joining = await launch();
    expect(joining.output()).toContain(
      `left processing by the last run: 0 requeued, 0 interrupted; ${CAP} still processing under a lease`,
    );
  });

  it('counts the calls it ended interrupted, and the log names each, as on SQLite', {
    timeout: 90_000,
  }, async () => {
    const { redis, launch, ids } = await afterADeathHoldingEverySlot();
    await leasesRunOut(redis.url, ids);
    const restarted = await launch();
    expect(restarted.output()).toContain(
      `left processing by the last run: 0 requeued, ${CAP} interrupted`,
    );
    await waitFor(() => failedLines(restarted).length >= CAP, {
      what: 'a task failed warning for each call the start ended',
    });
    for (const id of ids) {
      expect(failedLines(restarted).filter((line) => line.includes(`"taskId":"${id}"`))).toEqual([
        expect.stringContaining('"error":"interrupted"'),
      ]);
    }
    expect(failedLines(restarted)).toHaveLength(CAP);
  });

  it('counts the calls it put back in line, and the log names each, as on SQLite', {
    timeout: 90_000,
  }, async () => {
    const { redis, launch, ids } = await afterADeathHoldingEverySlot([
      ...['--requeue-interrupted', '--log-level', 'info', '--log-format', 'json'],
    ]);
    await leasesRunOut(redis.url, ids);
    const restarted = await launch();
    expect(restarted.output()).toContain(
      `left processing by the last run: ${CAP} requeued, 0 interrupted`,
    );
    const requeuedIds = () =>
      jsonLogLines<{ msg: string; taskId?: string }>(restarted.output())
        .filter((line) => line.msg === 'task back in the queue')
        .map((line) => line.taskId);
    await waitFor(() => requeuedIds().length >= CAP, {
      what: 'a task back in the queue line for each call the start requeued',
    });
    expect(requeuedIds().toSorted()).toEqual(ids.toSorted());
  });
});
