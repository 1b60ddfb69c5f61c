import { TASK_EVENT_TYPES, type TaskEventType, type TaskSummary } from '../wire.js';

/**
 * The transitions, from the wire contract: created, started, retrying (a failed call will be made
 * again after a backoff), finished (any end), requeued, removed. `GET /events` carries all but
 * `removed`, which concerns finished tasks in bulk; it is listed so that a switch over the type
 * covers the contract's whole vocabulary.
 */
export { TASK_EVENT_TYPES, type TaskEventType };

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
