import { type RedisServer, startRedis } from 'test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisBackend, type TaskBackend } from '../../src/index.js';
import { admitMany, completed, ScriptedProcessor } from './harness.js';
import { recordingConnector } from './redis-fixture.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.close());

const open: TaskBackend[] = [];
afterEach(async () => {
  for (const backend of open.splice(0)) await backend.close();
});

let prefixes = 0;

/**
 * Two instances on one prefix, on the real clock, with short leases: the first takes calls and
 * dies; the second, already running, gets them back from BullMQ's stalled-job check once their
 * leases run out (no restart, no `open()` of the second after the death).
 */
async function deathWhileAnotherRuns(requeueInterrupted: boolean) {
  const prefix = `recovery-${process.pid}-${++prefixes}`;
  const make = (connect = recordingConnector().connect) => {
    const backend = new RedisBackend({
      url: redis.url,
      prefix,
      concurrency: 2,
      maxQueueSize: 100,
      longTaskThresholdMs: 60_000,
      requeueInterrupted,
      lockDurationMs: 1_000,
      stalledIntervalMs: 300,
      connect,
    });
    open.push(backend);
    return backend;
  };
  const dying = recordingConnector();
  const first = make(dying.connect);
  await first.open();
  const firstProcessor = new ScriptedProcessor();
  first.start(firstProcessor.process);
  const ids = await admitMany(first, Date.now(), 3);
  await vi.waitFor(() => expect(firstProcessor.running.size).toBe(2));

  const second = make();
  // The first's calls still hold their leases: nothing to recover yet.
  expect(await second.open()).toMatchObject({ requeued: 0, interrupted: 0, total: 3 });
  const secondProcessor = new ScriptedProcessor();
  secondProcessor.autoOutcome = completed('second');
  second.start(secondProcessor.process);
  dying.cutOff();
  await vi.waitFor(async () => expect((await second.counts()).processing).toBe(0), {
    timeout: 15_000,
    interval: 100,
  });
  await vi.waitFor(async () => expect((await second.counts()).pending).toBe(0));
  const tasks = await Promise.all(ids.map((id) => second.get(id)));
  return { ids, tasks, firstProcessor, secondProcessor };
}

describe('RedisBackend: calls of an instance that died while another runs', () => {
  it('fail interrupted once their leases run out, and the queue goes on', async () => {
    const { ids, tasks, secondProcessor } = await deathWhileAnotherRuns(false);
    expect(tasks.map((task) => task?.status)).toEqual(['failed', 'failed', 'completed']);
    expect(tasks[0]).toMatchObject({ error: { code: 'interrupted' }, attempts: 1 });
    expect(tasks[2]).toMatchObject({ result: { body: 'second' }, attempts: 1 });
    expect(secondProcessor.startedIds()).toEqual([ids[2]]);
  });

  it('run again on the live instance with requeueInterrupted', async () => {
    const { ids, tasks, secondProcessor } = await deathWhileAnotherRuns(true);
    expect(tasks.map((task) => task?.status)).toEqual(['completed', 'completed', 'completed']);
    expect(tasks.map((task) => task?.attempts)).toEqual([2, 2, 1]);
    expect(new Set(secondProcessor.startedIds())).toEqual(new Set(ids));
  });
});
