import type {
  Task,
  TaskResult,
  TaskResultSummary,
  TaskSummary as WireSummary,
} from 'proxy-client/wire';
import type {
  ResultSummary,
  StoredResult,
  TaskRecord,
  TaskSummary,
} from '../engine/task-record.js';
import { wireBodyOf } from '../upstream/result-body.js';
import { withoutFragment } from './without-fragment.js';

/** What turning records into wire tasks needs to know about the moment and the queue. */
export interface WireContext {
  now: number;
  longTaskThresholdMs: number;
  /** Expected wait in ms for a task at this place in the queue. */
  waitMsAt(position: number): number;
}

/** The wire `Task`, built on read so the store keeps the compact form only. */
export function toWireTask(task: TaskRecord, context: WireContext): Task {
  return wireTaskOf(task, task.result === null ? null : toWireResult(task.result), context);
}

/** The wire task as lists carry it: the result without its body. */
export function toWireSummary(task: TaskSummary, context: WireContext): WireSummary {
  const result = task.result === null ? null : toWireResultSummary(task.result);
  return wireTaskOf(task, result, context);
}

/** One object literal, not a spread of one into another: lists build a hundred at a time. */
function wireTaskOf<Result>(
  task: TaskSummary,
  result: Result,
  context: WireContext,
): Omit<Task, 'result'> & { result: Result } {
  const { now } = context;
  const position = task.queuePosition;
  const queueEnd = task.startedAt ?? task.completedAt ?? now;
  const processingEnd = task.completedAt ?? now;
  // Differences of wall-clock times: one set back between them must not make them negative.
  const durationMs = task.startedAt === null ? null : Math.max(0, processingEnd - task.startedAt);
  const runningMs = task.runningMs ?? durationMs;
  const isLong =
    task.isLong ||
    (task.status === 'processing' && runningMs !== null && runningMs > context.longTaskThresholdMs);
  return {
    task_id: task.id,
    status: task.status,
    method: task.method,
    path: task.path,
    created_at: new Date(task.createdAt).toISOString(),
    started_at: task.startedAt === null ? null : new Date(task.startedAt).toISOString(),
    completed_at: task.completedAt === null ? null : new Date(task.completedAt).toISOString(),
    is_long_task: isLong,
    result,
    error: task.error,
    queue_position: position,
    estimated_start_at: estimatedStartOf(task, context),
    queue_ms: Math.max(0, queueEnd - task.createdAt),
    duration_ms: durationMs,
    attempts: task.attempts,
    retry_of: task.retryOf,
    retried_as: task.retriedAs,
    priority: task.priority,
    tenant: task.tenant,
    deadline_at: isoOrNull(task.deadlineAt),
    next_attempt_at: isoOrNull(task.nextAttemptAt),
    max_attempts: task.maxAttempts,
    attempt_history:
      task.attemptLog.length === 0
        ? []
        : task.attemptLog.map((attempt) => ({
            attempt: attempt.attempt,
            started_at: iso(attempt.startedAt),
            finished_at: iso(attempt.finishedAt),
            outcome: attempt.outcome,
            status_code: attempt.statusCode,
            error_code: attempt.errorCode,
            retry_at: isoOrNull(attempt.retryAt),
          })),
    callback: task.callback && {
      url: withoutFragment(task.callback.url),
      state: task.callback.state,
      deliveries: task.callback.deliveries.map((delivery) => ({
        attempt: delivery.attempt,
        at: iso(delivery.at),
        ok: delivery.ok,
        status_code: delivery.statusCode,
        error: delivery.error,
      })),
      next_at: isoOrNull(task.callback.nextAt),
    },
  };
}

/**
 * A task in line starts after those ahead of it; one waiting for a retry is in no line yet, and
 * starts when the retry is due (or now, once due and not yet back in line).
 */
function estimatedStartOf(task: TaskSummary, context: WireContext): string | null {
  if (task.queuePosition !== null) {
    return iso(context.now + context.waitMsAt(task.queuePosition));
  }
  if (task.status === 'pending' && task.nextAttemptAt !== null) {
    return iso(Math.max(context.now, task.nextAttemptAt));
  }
  return null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

function toWireResultSummary(result: ResultSummary): TaskResultSummary {
  return {
    status_code: result.statusCode,
    headers: result.headers,
    body_encoding: result.encoding,
    body_bytes: result.bodyBytes,
  };
}

function toWireResult(result: StoredResult): TaskResult {
  return Object.assign(toWireResultSummary(result), {
    body: wireBodyOf(result.body, result.encoding),
  });
}
