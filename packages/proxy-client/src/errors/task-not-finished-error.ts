import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * The task has not finished yet (409 `task_not_finished`): it cannot be run again
 * (`retryTask`), and it has no result to replay yet (`getResult`).
 */
export class TaskNotFinishedError extends ProxyError {
  override name = 'TaskNotFinishedError' as const;
  declare readonly code: 'task_not_finished';
  readonly taskId: string;

  constructor(taskId: string, message: string, options: ProxyErrorOptions = {}) {
    super('task_not_finished', message, { status: 409, ...options });
    this.taskId = taskId;
  }
}

export function isTaskNotFinishedError(value: unknown): value is TaskNotFinishedError {
  return hasErrorName<TaskNotFinishedError>(value, 'TaskNotFinishedError');
}
