import type { TaskSummary } from '../wire.js';

/**
 * The transitions `GET /events` reports: a task was created, started (its call to the target
 * began), finished (any end: completed, failed, cancelled, expired), or requeued (put back in the
 * queue after an interrupted call).
 */
export const TASK_EVENT_TYPES = ['created', 'started', 'finished', 'requeued'] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

/** One task's transition, as `watchEvents` yields it. */
export interface TaskChangeEvent {
  type: TaskEventType;
  /**
   * The event's id: give it back as `lastEventId` to resume after it, in this process or the
   * next.
   */
  id: string | undefined;
  /** The task after the transition, as lists carry it: its result without the body. */
  task: TaskSummary;
}

/**
 * Events may have been missed (the proxy no longer holds those after `lastEventId`, or a
 * connection dropped before any event id came): read the tasks afresh (`listTasks`).
 */
export interface ResetEvent {
  type: 'reset';
}

export type TaskEvent = TaskChangeEvent | ResetEvent;

export function isTaskEventType(value: unknown): value is TaskEventType {
  return typeof value === 'string' && (TASK_EVENT_TYPES as readonly string[]).includes(value);
}
