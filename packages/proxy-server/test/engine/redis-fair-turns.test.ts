import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { DEFAULT_POLICY, RedisBackend } from '../../src/index.js';
import { completed, newTask, ScriptedProcessor } from './harness.js';
import { redisPerFile } from './redis-fixture.js';

const redis = redisPerFile();
let prefixes = 0;

/** BullMQ refuses a job priority above this. */
const MAX_JOB_PRIORITY = 2 ** 21;

async function openBackend(maxRequeues = 0) {
  const prefix = `fair-${process.pid}-${++prefixes}`;
  const backend = new RedisBackend({
    url: redis.url,
    prefix,
    concurrency: 1,
    maxQueueSize: 100,
    longTaskThresholdMs: 60_000,
    maxRequeues,
  });
  redis.open.push(backend);
  await backend.open();
  const admin = new Redis(redis.url);
  onTestFinished(async () => {
    await admin.quit();
  });
  /** Admits a task of `tenant`; its id. */
  const admit = async (tenant: string, label: string) => {
    const task = newTask(Date.now(), label, { policy: { ...DEFAULT_POLICY, tenant } });
    expect(await backend.admit(task)).toMatchObject({ ok: true });
    return task.id;
  };
  /** The task's turn and its BullMQ job's priority. */
  const turnOf = async (id: string) => ({
    turn: Number(await admin.hget(`${prefix}:task:${id}`, 'vt')),
    priority: Number(await admin.hget(`${prefix}:tasks:${id}`, 'priority')),
  });
  return { backend, prefix, admin, admit, turnOf };
}

describe('RedisBackend fair sharing: turns as BullMQ priorities', () => {
  it('stays within BullMQ’s priorities past the last turn, in admission order there, and starts again once the level empties', async () => {
    const { backend, prefix, admin, admit, turnOf } = await openBackend();
    const first = await admit('A', 'first');
    // As if the level had not emptied for almost every turn it has.
    await admin.hset(`${prefix}:turns:2`, 'now', 699_047);
    const a = [await admit('A', 'a1'), await admit('A', 'a2'), await admit('A', 'a3')];
    const b = [await admit('B', 'b1'), await admit('B', 'b2')];
    expect(await turnOf(first)).toEqual({ turn: 1, priority: 699_051 });
    const turns = await Promise.all([...a, ...b].map(turnOf));
    expect(turns.map(({ turn }) => turn)).toEqual([699_048, 699_049, 699_049, 699_048, 699_049]);
    for (const { priority } of turns) expect(priority).toBeLessThanOrEqual(MAX_JOB_PRIORITY);
    // Positions follow the turns: A's first and B's first, then the last turn in admission order.
    expect((await backend.get(b[0] as string))?.queuePosition).toBe(3);

    const processor = new ScriptedProcessor();
    processor.autoOutcome = completed('x');
    backend.start(processor.process);
    await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(6));
    expect(processor.startedIds()).toEqual([first, a[0], b[0], a[1], a[2], b[1]]);

    const next = await admit('B', 'after');
    await vi.waitFor(async () => expect((await backend.get(next))?.status).toBe('completed'));
    expect((await turnOf(next)).turn).toBe(1);
  });

  it('counts a tenant’s call that a stop put back in line as queued again', async () => {
    const { backend, admit } = await openBackend(3);
    const processor = new ScriptedProcessor();
    backend.start(processor.process);
    const id = await admit('A', 'cut-off');
    await vi.waitFor(() => expect(processor.running.has(id)).toBe(true));
    expect((await backend.counts()).tenants).toEqual([{ tenant: 'A', queued: 0, inFlight: 1 }]);
    await backend.stop(0);
    expect(await backend.get(id)).toMatchObject({ status: 'pending', attempts: 1 });
    expect((await backend.counts()).tenants).toEqual([{ tenant: 'A', queued: 1, inFlight: 0 }]);
  });
});
