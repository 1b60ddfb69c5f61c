import type { Task, TaskResult } from 'proxy-client/wire';
import { wireBodyOf } from '../upstream/result-body.js';
import type { StoredResult, StoredTask } from './task-store.js';

/** What turning stored tasks into wire tasks needs to know about the moment and the queue. */
export interface WireContext {
  now: number;
  longTaskThresholdMs: number;
  /** 1-based place in the queue of the task pushed with `queueSeq`, or null if it left. */
  positionOf(queueSeq: number): number | null;
  /** Expected wait in ms for a task at this place in the queue. */
  waitMsAt(position: number): number;
}

/** Builds the wire `Task` on read, so the store keeps the compact form only. */
export function toWireTask(task: StoredTask, context: WireContext): Task {
  const { now } = context;
  const pending = task.status === 'pending';
  const position = pending ? context.positionOf(task.queueSeq) : null;
  const queueEnd = task.startedAt ?? task.completedAt ?? now;
  const processingEnd = task.completedAt ?? now;
  const durationMs = task.startedAt === null ? null : processingEnd - task.startedAt;
  const isLong =
    task.isLong ||
    (task.status === 'processing' &&
      durationMs !== null &&
      durationMs > context.longTaskThresholdMs);
  return {
    task_id: task.id,
    status: task.status,
    method: task.method,
    path: task.path,
    created_at: new Date(task.createdAt).toISOString(),
    started_at: task.startedAt === null ? null : new Date(task.startedAt).toISOString(),
    completed_at: task.completedAt === null ? null : new Date(task.completedAt).toISOString(),
    is_long_task: isLong,
    result: task.result === null ? null : toWireResult(task.result),
    error: task.error,
    queue_position: position,
    estimated_start_at:
      position === null ? null : new Date(now + context.waitMsAt(position)).toISOString(),
    queue_ms: queueEnd - task.createdAt,
    duration_ms: durationMs,
    attempts: task.attempts,
  };
}

function toWireResult(result: StoredResult): TaskResult {
  return {
    status_code: result.statusCode,
    headers: result.headers,
    body: wireBodyOf(result.body, result.encoding),
    body_encoding: result.encoding,
  };
}
