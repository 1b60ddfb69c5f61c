import { TASK_ERROR_CODES, type TaskError, type TaskErrorCode } from 'proxy-client/wire';

/** A task's error with the contract's message for its code, and what went wrong, if said. */
export function taskError(code: TaskErrorCode, detail?: string): TaskError {
  const message = TASK_ERROR_CODES[code];
  return { code, message: detail ? `${message} (${detail})` : message };
}
