import type { DataBody, Task } from 'proxy-client/wire';
import { waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import {
  listAll,
  redisForTest,
  runsPerTask,
  startInstances,
  statsOf,
  submitAll,
  targetForTest,
  taskOf,
} from './instances.js';

const CAP = 5;
const TASKS = 600;
const DELAY_MS = 20;

describe('three proxy instances on one Redis', () => {
  it('share one cap on calls and one set of tasks: any instance answers for any task', {
    timeout: 120_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const instances = await startInstances(3, redis, target, { cap: CAP });
    const [a, b, c] = instances;
    if (!a || !b || !c) throw new Error('three instances expected');
    // The start line names where the tasks are kept, as it does the SQLite directory.
    expect(a.output()).toContain(`proxy-server: tasks kept in redis at ${redis.url}: `);

    const ids = await submitAll(instances, [0, TASKS], DELAY_MS);
    // Waiting reads on the other two instances for the last tasks in line, still waiting now.
    const waits = ids.slice(-30).flatMap((id, n) =>
      [b, c].map(async (proxy) => {
        const response = await fetch(`${proxy.url}/task/${id}?wait=60`);
        return { n: TASKS - 30 + n, task: ((await response.json()) as DataBody<Task>).data };
      }),
    );
    await waitFor(async () => (await statsOf(a)).tasks.completed === TASKS, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'every task to complete',
    });

    // The cap holds across the three, measured where it matters: at the target.
    expect(target.stats().maxInFlight).toBeLessThanOrEqual(CAP);
    expect(target.stats().maxInFlight).toBeGreaterThan(1);
    expect([...runsPerTask(target).values()].every((runs) => runs === 1)).toBe(true);
    expect(runsPerTask(target).size).toBe(TASKS);

    for (const { n, task } of await Promise.all(waits)) {
      expect(task).toMatchObject({ task_id: ids[n], status: 'completed' });
      expect(task.result?.body).toBe(`task-${n}`);
    }
    for (const proxy of instances) {
      const tasks = await Promise.all(ids.map((id) => taskOf(proxy, id)));
      for (const [n, task] of tasks.entries()) {
        expect(task).toMatchObject({ task_id: ids[n], status: 'completed' });
        expect(task.result?.body).toBe(`task-${n}`);
      }
      const listed = await listAll(proxy);
      expect(listed.total).toBe(TASKS);
      expect(new Set(listed.ids)).toEqual(new Set(ids));
      // Newest first: the order of admission, reversed, the same on every instance.
      expect(listed.ids).toEqual((await listAll(a)).ids);
    }

    const stats = await Promise.all(instances.map(statsOf));
    for (const each of stats) {
      expect(each.tasks).toEqual(stats[0]?.tasks);
      expect(each).toMatchObject({ queue_size: 0, in_flight: 0, store: 'redis' });
    }
    expect(stats[0]?.tasks).toMatchObject({ completed: TASKS, total: TASKS });
    // Each instance counts what it did itself; together, every task once.
    const sum = (pick: (each: (typeof stats)[number]) => number) =>
      stats.reduce((total, each) => total + pick(each), 0);
    expect(sum((each) => each.totals.submitted)).toBe(TASKS);
    expect(sum((each) => each.totals.completed)).toBe(TASKS);
  });
});
