import {
  isProxyError,
  isProxyUnreachableError,
  isQueueFullError,
  isTaskFailedError,
  isTaskNotFoundError,
  isUnauthorizedError,
  isWaitTimeoutError,
} from 'proxy-client';
import { CliError, isCliError } from './cli-error.js';
import { EXIT_CODES } from './exit-codes.js';
import { failureReason } from './render/task.js';

/**
 * The one place that turns an SDK error into an exit code and words for people. Waits add their
 * own resume hints first (commands/wait.ts); everything else lands here.
 */
export function toCliError(
  error: unknown,
  context: { url: string; signal?: AbortSignal },
): CliError {
  if (isCliError(error)) return error;
  if (context.signal?.aborted) {
    return new CliError(EXIT_CODES.interrupted, 'interrupted', undefined, { cause: error });
  }
  if (isProxyUnreachableError(error)) {
    return new CliError(
      EXIT_CODES.unreachable,
      error.code === 'request_timeout'
        ? `the proxy at ${context.url} did not answer in time`
        : `could not reach the proxy at ${context.url}${causeText(error)}`,
      'is the proxy running there? Point the CLI at it with --url <url> or PROXY_URL',
      { cause: error },
    );
  }
  if (isTaskNotFoundError(error)) {
    return new CliError(
      EXIT_CODES.notFound,
      `no task ${error.taskId} on the proxy at ${context.url}`,
      'check the id; proxy-cli --list-tasks shows the tasks the proxy holds (cleanup removes old ones)',
      { cause: error },
    );
  }
  if (isTaskFailedError(error)) {
    return new CliError(
      EXIT_CODES.taskFailed,
      `task ${error.task.task_id} failed: ${failureReason(error.task)}`,
      undefined,
      { cause: error },
    );
  }
  if (isWaitTimeoutError(error)) {
    return new CliError(EXIT_CODES.timeout, `gave up waiting for task ${error.taskId}`, undefined, {
      cause: error,
    });
  }
  if (isUnauthorizedError(error)) {
    return new CliError(
      EXIT_CODES.proxyError,
      `the proxy at ${context.url} refused the API key${error.status === 401 ? ' (401)' : ''}`,
      "pass the proxy's key with --api-key <key> or PROXY_API_KEY",
      { cause: error, code: 'unauthorized' },
    );
  }
  if (isQueueFullError(error)) {
    return new CliError(
      EXIT_CODES.proxyError,
      "the proxy's queue is full (503); the task was not created",
      `try again in ${error.retryAfter ?? 'a few'} s`,
      { cause: error, code: 'queue_full' },
    );
  }
  if (isProxyError(error)) {
    return new CliError(EXIT_CODES.proxyError, error.message, undefined, {
      cause: error,
      code: error.code,
    });
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return new CliError(EXIT_CODES.taskFailed, `unexpected error: ${message}`, undefined, {
    cause: error,
    code: 'internal_error',
  });
}

/** The most telling reason in the cause chain: a system code such as ECONNREFUSED if there is one. */
function causeText(error: Error): string {
  let deepest: string | undefined;
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    if ('code' in cause && typeof cause.code === 'string' && /^E[A-Z]+$/.test(cause.code)) {
      return ` (${cause.code})`;
    }
    deepest = cause.message;
    cause = cause.cause;
  }
  return deepest ? ` (${deepest})` : '';
}
