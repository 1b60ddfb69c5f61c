import type { Task } from '../wire.js';
import { hasErrorName, ProxyError } from './proxy-error.js';

/**
 * The task finished without completing: `failed` (and any other end but `completed`, such as
 * `cancelled`); `task` holds the target's answer or the reason it got none.
 */
export class TaskFailedError extends ProxyError {
  override name = 'TaskFailedError' as const;
  declare readonly code: 'task_failed';
  readonly task: Task;

  constructor(task: Task) {
    super('task_failed', describeFailure(task));
    this.task = task;
  }
}

function describeFailure(task: Task): string {
  const ended = task.status === 'failed' ? 'failed' : `ended ${task.status}`;
  const what = `Task ${task.task_id} (${task.method} ${task.path}) ${ended}`;
  if (task.error) return `${what}: ${task.error.message} (${task.error.code})`;
  if (task.result) return `${what}: the target answered ${task.result.status_code}`;
  return what;
}

export function isTaskFailedError(value: unknown): value is TaskFailedError {
  return hasErrorName<TaskFailedError>(value, 'TaskFailedError');
}
