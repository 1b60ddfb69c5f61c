import type { Queue } from 'bullmq';
import { RECENT_CALLS, type RecoveryReport } from '../task-backend.js';
import { taskError } from '../task-error.js';
import { pastMaxRequeues } from '../task-record.js';
import type { RedisTaskStore } from './task-store.js';

/** The name every task's job has; jobs are told apart by id (the task's). */
export const JOB_NAME = 'task';

/** How a call cut off by the death of its instance ends (JSON, as the scripts take it). */
export const LEFT_BY_DEAD_PROCESS = JSON.stringify(
  taskError('interrupted', 'its upstream call was in flight'),
);
/** How a call cut off by a death ends past `--max-requeues` (JSON). */
export const pastMaxRequeuesError = (maxRequeues: number): string =>
  JSON.stringify(pastMaxRequeues(maxRequeues).error);
/** How a queued task past its deadline ends (JSON). */
export const EXPIRED = JSON.stringify(taskError('expired'));
/** How a queued task ends when a higher-priority one takes its place in a full queue (JSON). */
export const SHED = JSON.stringify(taskError('shed'));

/**
 * An admission whose job is missing this long after it was written was never answered (its
 * instance died between the two writes): it is taken back. Younger ones may still be on their
 * way into BullMQ's queue from a live instance.
 */
const ORPHAN_AGE_S = 30;

/**
 * What opening finds left by instances that died: their calls whose lease ran out end
 * `interrupted` or go back to the head of the line now, rather than when BullMQ's stalled-job
 * check hands their jobs out again (calls of dead instances whose lease still runs are
 * recovered that way, by the start script). BullMQ's side follows the records: a dead call's
 * job is removed (it would hold a place under the global cap), and a requeued one is added
 * again at the head of the queue (BullMQ's `lifo`), keeping the tasks' order.
 */
export async function recoverDeadInstances(
  store: RedisTaskStore,
  queue: Queue,
  options: {
    maxRequeues: number;
    now: number;
    /** Promotes the jobs of tasks set aside for their tenant's cap whose turn came. */
    promote: (ids: readonly string[]) => Promise<void>;
  },
): Promise<RecoveryReport> {
  const found = await store.recover({
    maxRequeues: options.maxRequeues,
    completedAt: options.now,
    interrupted: LEFT_BY_DEAD_PROCESS,
    pastMaxRequeues: pastMaxRequeuesError(options.maxRequeues),
    orphanAgeS: ORPHAN_AGE_S,
  });
  for (const id of found.interrupted) await queue.remove(id);
  // Added at the head one by one: the last added runs first.
  for (const id of [...found.requeued].reverse()) {
    // 0: a worker holds the job again already; its start script runs the requeued task.
    // Without a priority: BullMQ runs such jobs before every prioritized one, so these go first.
    if ((await queue.remove(id)) === 1) await queue.add(JOB_NAME, {}, { jobId: id, lifo: true });
  }
  for (const id of [...found.readd].reverse()) {
    await queue.add(JOB_NAME, {}, { jobId: id, lifo: true });
  }
  await options.promote(found.released);
  // Whatever still processes holds a lease: a start cannot tell a live instance's call from a
  // dead one's, so the operator is told they are there rather than that nothing was left.
  const { processing } = await store.counts(options.now);
  return {
    pending: found.pending,
    requeued: found.requeued.length,
    requeuedIds: found.requeued,
    interrupted: found.interrupted.length,
    // Every one, unbounded: the script's reply holds them all already, each job to remove above.
    interruptedIds: found.interrupted,
    pastMaxRequeues: found.pastMaxRequeues,
    total: found.total,
    // Said only when there are some: the report of a store no other instance shares has none.
    ...(processing > 0 && { leased: processing }),
    finishedCalls: await store.finishedCalls(RECENT_CALLS),
  };
}
