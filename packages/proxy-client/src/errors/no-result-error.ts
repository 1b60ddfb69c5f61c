import { hasErrorName, ProxyError, type ProxyErrorOptions } from './proxy-error.js';

/**
 * The task finished without an answer from the target (404 `no_result`): it was cancelled or
 * expired before its call, or the call failed (refused, reset, timed out). `getTask` says why.
 */
export class NoResultError extends ProxyError {
  override name = 'NoResultError' as const;
  declare readonly code: 'no_result';
  readonly taskId: string;

  constructor(taskId: string, message: string, options: ProxyErrorOptions = {}) {
    super('no_result', message, { status: 404, ...options });
    this.taskId = taskId;
  }
}

export function isNoResultError(value: unknown): value is NoResultError {
  return hasErrorName<NoResultError>(value, 'NoResultError');
}
