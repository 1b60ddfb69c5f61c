import { type ProxyProcess, waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import {
  followEvents,
  holdingGateForTest,
  instanceLauncher,
  redisForTest,
  runsPerTask,
  statsOf,
  submitAll,
  targetForTest,
  taskOf,
  transitionsOf,
} from './instances.js';

const CAP = 6;
const TASKS = 300;
const DELAY_MS = 150;

/**
 * One instance takes every slot under the cap, on calls the target holds until it is killed:
 * however slowly the others start, it dies with its calls in flight. Two more join, tasks are
 * submitted to all three, and the first is killed with SIGKILL. Its leases run out, the
 * survivors recover its calls and run the rest of the queue.
 */
async function killOneMidRun(extra: string[] = []) {
  const redis = await redisForTest();
  const target = await targetForTest();
  const gate = await holdingGateForTest(target);
  const launch = instanceLauncher(redis, gate, { cap: CAP, extra });
  const victim = await launch();
  const first = await submitAll([victim], [0, 100], DELAY_MS, { query: '&hold=1' });
  await waitFor(async () => gate.held() === CAP && (await statsOf(victim)).in_flight === CAP, {
    timeoutMs: 30_000,
    what: 'the first instance to fill the cap with held calls',
  });
  const survivors = await Promise.all([launch(), launch()]);
  const events = await followEvents(survivors[0] as ProxyProcess);
  const rest = await submitAll([victim, ...survivors], [100, TASKS], DELAY_MS);
  // The cap is shared and every slot is the victim's: nothing else started meanwhile.
  expect(gate.inFlight()).toBe(CAP);
  expect(await victim.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
  // Its sockets closed: the held calls are dropped, not let through to the target.
  await waitFor(() => gate.inFlight() === 0, { what: 'the dead instance’s calls to close' });
  gate.release();
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
  return { target, gate, tasks, survivors, events };
}

describe('kill -9 of one instance of three', () => {
  it('ends its calls interrupted, runs the queue on the others, loses nothing', {
    timeout: 150_000,
  }, async () => {
    const { target, gate, tasks, survivors } = await killOneMidRun();
    const interrupted = tasks.filter((task) => task.status === 'failed');
    expect(interrupted).toHaveLength(CAP);
    for (const task of interrupted) expect(task.error?.code).toBe('interrupted');
    expect(tasks.filter((task) => task.status === 'completed')).toHaveLength(
      TASKS - interrupted.length,
    );
    // Accounted for at the target: a completed task was called once; an interrupted one never
    // got past the gate; none twice.
    const runs = runsPerTask(target);
    for (const [n, task] of tasks.entries()) {
      if (task.status !== 'completed') {
        expect(runs.get(n) ?? 0, `task ${n} (interrupted)`).toBe(0);
        continue;
      }
      expect(runs.get(n), `task ${n} (completed)`).toBe(1);
      expect(task.result?.body).toBe(`task-${n}`);
    }
    expect(target.stats().maxInFlight).toBeLessThanOrEqual(CAP);
    expect(gate.maxInFlight()).toBeLessThanOrEqual(CAP);
    const [one, two] = await Promise.all(survivors.map(statsOf));
    expect(one?.tasks).toEqual(two?.tasks);
    expect(one?.tasks).toMatchObject({ failed: interrupted.length, total: TASKS });
  });

  it('runs its calls again on the others with --requeue-interrupted', {
    timeout: 150_000,
  }, async () => {
    const { target, gate, tasks, events } = await killOneMidRun(['--requeue-interrupted']);
    expect(tasks.every((task) => task.status === 'completed')).toBe(true);
    for (const [n, task] of tasks.entries()) expect(task.result?.body).toBe(`task-${n}`);
    const again = tasks.filter((task) => task.attempts === 2);
    expect(again).toHaveLength(CAP);
    // Redis pass: a watcher saw `started` twice, nothing between, as if one call began twice.
    for (const task of again) {
      await waitFor(() => transitionsOf(events, task.task_id).length === 3, {
        what: `the events of task ${task.task_id} after the kill`,
      });
      expect(transitionsOf(events, task.task_id)).toEqual([
        ['requeued', 'pending'],
        ['started', 'processing'],
        ['finished', 'completed'],
      ]);
    }
    // A call cut off never got past the gate; the one that completed reached the target, once.
    const runs = runsPerTask(target);
    for (const [n] of tasks.entries()) expect(runs.get(n), `task ${n}`).toBe(1);
    expect(target.stats().maxInFlight).toBeLessThanOrEqual(CAP);
    expect(gate.maxInFlight()).toBeLessThanOrEqual(CAP);
  });
});
