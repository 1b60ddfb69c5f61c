import type { Task } from '../wire.js';
import { msText } from './ms-text.js';
import { hasErrorName, ProxyError } from './proxy-error.js';

/** `waitForTask` ran out of its `timeoutMs` before the task finished; the task itself goes on. */
export class WaitTimeoutError extends ProxyError {
  override name = 'WaitTimeoutError' as const;
  declare readonly code: 'wait_timeout';
  readonly taskId: string;
  /** The wait's limit that ran out, in milliseconds. */
  readonly timeoutMs: number;
  /** The last state read before the timeout, if any read succeeded. */
  readonly lastTask: Task | undefined;

  /** `taskSeen`: the proxy had named the task (a submission's answer) before the wait began. */
  constructor(taskId: string, timeoutMs: number, lastTask: Task | undefined, taskSeen = false) {
    // No read answered: a proxy that takes requests and never answers looks like a long task.
    const state = lastTask
      ? `; it was ${lastTask.status}`
      : taskSeen
        ? '; the proxy took it, but no read of it succeeded in that time'
        : '; no read of it succeeded in that time, so whether it exists is unknown';
    super('wait_timeout', `Task ${taskId} did not finish within ${msText(timeoutMs)}${state}`);
    this.taskId = taskId;
    this.timeoutMs = timeoutMs;
    this.lastTask = lastTask;
  }
}

export function isWaitTimeoutError(value: unknown): value is WaitTimeoutError {
  return hasErrorName<WaitTimeoutError>(value, 'WaitTimeoutError');
}
