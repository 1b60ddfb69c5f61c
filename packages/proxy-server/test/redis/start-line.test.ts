import { Redis } from 'ioredis';
import { waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RedisKeys } from '../../src/engine/redis/redis-keys.js';
import {
  holdingGateForTest,
  instanceLauncher,
  redisForTest,
  statsOf,
  submitAll,
  targetForTest,
} from './instances.js';

const CAP = 2;

/**
 * A shared queue whose one instance held every slot on calls the gate keeps and was killed with
 * SIGKILL: its Redis, the launcher of the next instance, and the ids of the calls it held.
 */
async function afterADeathHoldingEverySlot() {
  const redis = await redisForTest();
  const target = await targetForTest();
  const gate = await holdingGateForTest(target);
  const launch = instanceLauncher(redis, gate, { cap: CAP });
  const victim = await launch();
  const ids = await submitAll([victim], [0, CAP], 10, { query: '&hold=1' });
  await waitFor(async () => gate.held() === CAP && (await statsOf(victim)).in_flight === CAP, {
    timeoutMs: 30_000,
    what: 'the first instance to hold every slot',
  });
  await victim.stop('SIGKILL');
  return { redis, launch, ids };
}

/**
 * What time does to a dead instance's leases (BullMQ's locks, after their duration): they are
 * gone. The prefix is the instances', found by the tasks' keys.
 */
async function leasesRunOut(redisUrl: string, ids: string[]): Promise<void> {
  const redis = new Redis(redisUrl);
  onTestFinished(() => {
    redis.disconnect();
  });
  const [taskKey] = await redis.keys(`*:task:${ids[0]}`);
  const keys = new RedisKeys(taskKey?.slice(0, -`:task:${ids[0]}`.length) ?? '');
  expect(await redis.del(...ids.map((id) => keys.jobLock(id)))).toBe(ids.length);
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
    const failedLines = () =>
      restarted
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"task failed"'));
    await waitFor(() => failedLines().length >= CAP, {
      what: 'a task failed warning for each call the start ended',
    });
    for (const id of ids) {
      expect(failedLines().filter((line) => line.includes(`"taskId":"${id}"`))).toEqual([
        expect.stringContaining('"error":"interrupted"'),
      ]);
    }
    expect(failedLines()).toHaveLength(CAP);
  });
});
