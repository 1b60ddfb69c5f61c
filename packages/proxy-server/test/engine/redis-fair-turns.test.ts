import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { DEFAULT_POLICY, RedisBackend, type TaskPolicy } from '../../src/index.js';
import { completed, newTask, ScriptedProcessor } from './harness.js';
import { redisPerFile } from './redis-fixture.js';

const redis = redisPerFile();
let prefixes = 0;

/** BullMQ refuses a job priority above this. */
const MAX_JOB_PRIORITY = 2 ** 21;

async function openBackend(maxRequeues = 0, prefix = `fair-${process.pid}-${++prefixes}`) {
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
  /** Admits a task of `tenant` (null: without fair sharing); its id. */
  const admit = async (
    tenant: string | null,
    label: string,
    priority: TaskPolicy['priority'] = 'normal',
  ) => {
    const task = newTask(Date.now(), label, { policy: { ...DEFAULT_POLICY, tenant, priority } });
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

  // Review: a tenant whose queued tasks were cancelled kept their turns, and its next task
  // waited behind every task another tenant had queued meanwhile.
  it('starts a tenant afresh once none of its tasks is queued', async () => {
    const { backend, admit } = await openBackend();
    const processor = new ScriptedProcessor();
    backend.start(processor.process);
    const b0 = await admit('B', 'b0');
    await vi.waitFor(() => expect(processor.running.has(b0)).toBe(true));
    const b = [];
    for (let n = 1; n <= 10; n++) b.push(await admit('B', `b${n}`));
    for (let n = 1; n <= 10; n++) await backend.cancel(await admit('A', `a${n}`));
    const late = await admit('A', 'late');
    expect((await backend.get(late))?.queuePosition).toBe(2);
    processor.autoOutcome = completed('x');
    processor.complete(b0);
    await vi.waitFor(async () => expect((await backend.get(late))?.status).toBe('completed'));
    expect(processor.startedIds().slice(0, 4)).toEqual([b0, b[0], late, b[1]]);
  });

  // Review: the turn of every tenant that ever queued a task stayed until its level emptied,
  // which under steady load with --fair-key ip (a tenant per caller's address) is never.
  it('keeps no turn for a tenant with nothing queued', async () => {
    const { backend, prefix, admin, admit } = await openBackend();
    const processor = new ScriptedProcessor();
    backend.start(processor.process);
    const held = await admit('keeper', 'held');
    await vi.waitFor(() => expect(processor.running.has(held)).toBe(true));
    await admit('keeper', 'queued');
    for (let n = 1; n <= 20; n++) await backend.cancel(await admit(`10.0.0.${n}`, `caller${n}`));
    expect((await admin.hkeys(`${prefix}:turns:2`)).sort()).toEqual(['=keeper']);
  });

  // Review: a task without a tenant (queued before --fair-key was set, or by an instance without
  // it) had its level as its job priority, which fair priorities of a higher level run after.
  it('runs a task without a tenant within its level, never among another level’s turns', async () => {
    const { backend, admit } = await openBackend();
    const low = await admit(null, 'low', 'low');
    const normal = await admit(null, 'normal');
    const high = [];
    for (let n = 1; n <= 5; n++) high.push(await admit('A', `high${n}`, 'high'));
    const processor = new ScriptedProcessor();
    processor.autoOutcome = completed('x');
    backend.start(processor.process);
    await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(7));
    expect(processor.startedIds()).toEqual([...high, normal, low]);
  });

  // Review: a call cut off after its level emptied and started again from turn 1 went back with
  // its old turn, behind every task queued since, and its start then moved the level's turn now
  // past theirs, so a tenant arriving next waited behind them all.
  it('puts a call cut off after its level started again at the head of the line', async () => {
    const first = await openBackend(3);
    const processor = new ScriptedProcessor();
    first.backend.start(processor.process);
    const a = [];
    for (let n = 1; n <= 3; n++) a.push(await first.admit('A', `a${n}`));
    for (const id of a.slice(0, 2)) {
      await vi.waitFor(() => expect(processor.running.has(id)).toBe(true));
      processor.complete(id);
    }
    const cut = a[2] as string;
    await vi.waitFor(() => expect(processor.running.has(cut)).toBe(true));
    const b = [];
    for (let n = 1; n <= 5; n++) b.push(await first.admit('B', `b${n}`));
    await first.backend.stop(0);
    expect(await first.backend.get(cut)).toMatchObject({ status: 'pending', queuePosition: 1 });
    await first.backend.close();

    const second = await openBackend(3, first.prefix);
    const again = new ScriptedProcessor();
    second.backend.start(again.process);
    await vi.waitFor(() => expect(again.startedIds()).toEqual([cut]));
    // B's first is next, then C's first: the level's turn now is the cut-off call's.
    const c = await second.admit('C', 'c');
    expect((await second.backend.get(c))?.queuePosition).toBe(2);
    again.autoOutcome = completed('x');
    again.complete(cut);
    await vi.waitFor(async () => expect((await second.backend.counts()).completed).toBe(9));
    expect(again.startedIds().slice(0, 4)).toEqual([cut, b[0], c, b[1]]);
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
