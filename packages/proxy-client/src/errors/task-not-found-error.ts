import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * The proxy holds no task with this id: 404 `task_not_found`, or 400 `invalid_task_id` when the id
 * is not even well formed (such a task cannot exist either).
 */
export class TaskNotFoundError extends ProxyError {
  override name = 'TaskNotFoundError' as const;
  declare readonly code: 'task_not_found' | 'invalid_task_id';
  readonly taskId: string;

  constructor(
    taskId: string,
    message: string,
    options: ProxyErrorOptions & { code?: 'task_not_found' | 'invalid_task_id' } = {},
  ) {
    super(options.code ?? 'task_not_found', message, { status: 404, ...options });
    this.taskId = taskId;
  }
}

export function isTaskNotFoundError(value: unknown): value is TaskNotFoundError {
  return hasErrorName<TaskNotFoundError>(value, 'TaskNotFoundError');
}
