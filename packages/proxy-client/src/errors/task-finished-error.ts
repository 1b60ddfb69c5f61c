import type { Task } from '../wire.js';
import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * The task has already finished (409 `task_finished`), so it cannot be cancelled. `task` is the
 * finished task when the SDK could read it, so the caller sees how it ended.
 */
export class TaskFinishedError extends ProxyError {
  override name = 'TaskFinishedError' as const;
  declare readonly code: 'task_finished';
  readonly taskId: string;
  /** The task as it ended, when `cancelTask` could read it after the refusal. */
  readonly task: Task | undefined;

  constructor(
    taskId: string,
    message: string,
    options: ProxyErrorOptions & { task?: Task | undefined } = {},
  ) {
    super('task_finished', message, { status: 409, ...options });
    this.taskId = taskId;
    this.task = options.task;
  }
}

export function isTaskFinishedError(value: unknown): value is TaskFinishedError {
  return hasErrorName<TaskFinishedError>(value, 'TaskFinishedError');
}
