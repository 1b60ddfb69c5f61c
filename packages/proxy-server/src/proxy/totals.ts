import type { RecoveryReport, TaskEvent, TransitionEvent } from '../engine/task-backend.js';

/**
 * What this process has done since it started, for `/stats`' `totals`: counted from the
 * transitions it made itself, so reading them costs nothing and several instances sharing one
 * store never count one task twice.
 */
export class Totals {
  submitted = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  expired = 0;
  rejectedQueueFull = 0;
  rejectedTenantQueueFull = 0;
  removed = 0;
  retries = 0;
  shed = 0;
  callbacksDelivered = 0;
  callbacksFailed = 0;
  #processingMsTotal = 0;
  #processed = 0;

  /**
   * Mean processing time of the calls finished here, and of those the store had finished
   * before this start (`recovered`), in ms; null before the first.
   */
  get avgProcessingMs(): number | null {
    return this.#processed === 0 ? null : this.#processingMsTotal / this.#processed;
  }

  /**
   * Counts what this start found: the calls a stopped process left in flight that it ended
   * `interrupted`, and the calls finished before it into the mean (after a restart in the middle
   * of hour-long calls, estimates then go by them, not by the age of a call just started again).
   */
  recovered(report: RecoveryReport): void {
    this.failed += report.interrupted;
    const calls = report.finishedCalls;
    if (calls === null) return;
    this.#processingMsTotal += calls.meanMs * calls.calls;
    this.#processed += calls.calls;
  }

  /** Counts one transition; only the ones this process made. */
  readonly record = (event: TaskEvent): void => {
    if (!event.local) return;
    if (event.type === 'removed') {
      this.removed += event.count;
      return;
    }
    if (event.type === 'created') {
      this.submitted++;
      return;
    }
    if (event.type === 'retrying') {
      this.retries++;
      return;
    }
    if (event.type !== 'finished') return;
    const { task } = event;
    if (task.error?.code === 'shed') this.shed++;
    switch (task.status) {
      case 'completed':
        this.completed++;
        break;
      case 'failed':
        this.failed++;
        break;
      case 'cancelled':
        this.cancelled++;
        break;
      case 'expired':
        this.expired++;
        break;
    }
    const processingMs = processingMsOf(event);
    if (processingMs !== null) {
      this.#processingMsTotal += processingMs;
      this.#processed++;
    }
  };
}

/**
 * How long a finished task's call took: as the backend measured it, else from its timestamps,
 * where a wall clock set back during the call makes no negative time.
 */
export function processingMsOf(event: TransitionEvent): number | null {
  if (event.processingMs !== undefined) return event.processingMs;
  const { startedAt, completedAt } = event.task;
  if (startedAt === null || completedAt === null) return null;
  return Math.max(0, completedAt - startedAt);
}
