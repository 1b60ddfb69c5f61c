import { type ProxyProcess, waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import {
  instanceLauncher,
  redisForTest,
  runsPerTask,
  statsOf,
  submitAll,
  targetForTest,
  taskOf,
} from './instances.js';

const CAP = 6;
const TASKS = 300;
const DELAY_MS = 150;

/**
 * One instance takes every slot under the cap; two more join, tasks are submitted to all three,
 * and the first is killed with SIGKILL, its calls in flight. (BullMQ hands a worker that ends a
 * call its next job in the same step, so the first keeps its slots until it dies.) Its leases
 * run out, the survivors recover its calls and run the rest of the queue.
 */
async function killOneMidRun(extra: string[] = []) {
  const redis = await redisForTest();
  const target = await targetForTest();
  const launch = instanceLauncher(redis, target, { cap: CAP, extra });
  const victim = await launch();
  const first = await submitAll([victim], [0, 100], DELAY_MS);
  await waitFor(async () => (await statsOf(victim)).in_flight === CAP, {
    timeoutMs: 30_000,
    what: 'the first instance to fill the cap',
  });
  const survivors = await Promise.all([launch(), launch()]);
  const rest = await submitAll([victim, ...survivors], [100, TASKS], DELAY_MS);
  expect(await victim.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
  const survivor = survivors[0] as ProxyProcess;
  await waitFor(
    async () => {
      const { tasks } = await statsOf(survivor);
      return tasks.pending === 0 && tasks.processing === 0;
    },
    { timeoutMs: 90_000, intervalMs: 250, what: 'every task to finish, the dead instance’s too' },
  );
  const ids = [...first, ...rest];
  const tasks = await Promise.all(ids.map((id) => taskOf(survivor, id)));
  return { target, tasks, survivors };
}

describe('kill -9 of one instance of three', () => {
  it('ends its calls interrupted, runs the queue on the others, loses nothing', {
    timeout: 150_000,
  }, async () => {
    const { target, tasks, survivors } = await killOneMidRun();
    const interrupted = tasks.filter((task) => task.status === 'failed');
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted.length).toBeLessThanOrEqual(CAP);
    for (const task of interrupted) expect(task.error?.code).toBe('interrupted');
    expect(tasks.filter((task) => task.status === 'completed')).toHaveLength(
      TASKS - interrupted.length,
    );
    // Accounted for at the target: a completed task was called once; an interrupted one at
    // most once (its instance may have died before its request left); none twice.
    const runs = runsPerTask(target);
    for (const [n, task] of tasks.entries()) {
      if (task.status !== 'completed') {
        expect(runs.get(n) ?? 0, `task ${n} (interrupted)`).toBeLessThanOrEqual(1);
        continue;
      }
      expect(runs.get(n), `task ${n} (completed)`).toBe(1);
      expect(task.result?.body).toBe(`task-${n}`);
    }
    expect(target.stats().maxInFlight).toBeLessThanOrEqual(CAP);
    const [one, two] = await Promise.all(survivors.map(statsOf));
    expect(one?.tasks).toEqual(two?.tasks);
    expect(one?.tasks).toMatchObject({ failed: interrupted.length, total: TASKS });
  });

  it('runs its calls again on the others with --requeue-interrupted', {
    timeout: 150_000,
  }, async () => {
    const { target, tasks } = await killOneMidRun(['--requeue-interrupted']);
    expect(tasks.every((task) => task.status === 'completed')).toBe(true);
    for (const [n, task] of tasks.entries()) expect(task.result?.body).toBe(`task-${n}`);
    const again = tasks.filter((task) => task.attempts === 2);
    expect(again.length).toBeGreaterThan(0);
    expect(again.length).toBeLessThanOrEqual(CAP);
    // A call cut off may never have reached the target; the one that completed did, once.
    const runs = runsPerTask(target);
    for (const [n, task] of tasks.entries()) {
      expect(runs.get(n)).toBeGreaterThanOrEqual(1);
      expect(runs.get(n)).toBeLessThanOrEqual(task.attempts);
    }
    expect(target.stats().maxInFlight).toBeLessThanOrEqual(CAP);
  });
});
