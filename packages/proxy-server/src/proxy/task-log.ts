import type { FastifyBaseLogger } from 'fastify';
import type { TaskEvent, TransitionEvent } from '../engine/task-backend.js';
import { withoutQuery } from '../logging/logger.js';
import type { RequestOrigins } from './request-origins.js';
import { processingMsOf } from './totals.js';

/** The levels at which every transition has a line; above them, only failures do. */
export const TASK_LOG_LEVELS = new Set(['info', 'debug', 'trace']);

/**
 * One log line per transition this process made: created, started, retrying, finished (a
 * failure is a warning), requeued; each with the task id, and the request id (`reqId`, Fastify's) when a
 * request made it (a submission, a retry, a cancel). Nothing from the request or the answer
 * but method, path without its query string (where secrets travel) and status code.
 */
export function taskLogger(
  log: FastifyBaseLogger,
  origins: RequestOrigins,
): (event: TaskEvent) => void {
  // Decided once: at `warn` the record would otherwise be built for every transition.
  if (!TASK_LOG_LEVELS.has(log.level)) {
    return (event) => {
      if (event.local && event.type === 'finished' && event.task.status === 'failed')
        warnFailed(log, event, undefined);
    };
  }
  return (event) => {
    if (!event.local || event.type === 'removed') return;
    const { task } = event;
    switch (event.type) {
      case 'created':
        log.info(
          withRequest(
            { taskId: task.id, method: task.method, path: withoutQuery(task.path) },
            origins.take(task.id),
          ),
          'task created',
        );
        return;
      case 'started':
        log.info({ taskId: task.id, attempt: task.attempts }, 'task processing');
        return;
      case 'requeued':
        logRequeued(log, task.id);
        return;
      case 'retrying': {
        // A failed call that will be made again is not yet a failure: info, not a warning.
        const last = task.attemptLog.at(-1);
        log.info(
          {
            taskId: task.id,
            attempt: task.attempts,
            statusCode: last?.statusCode ?? undefined,
            error: last?.errorCode ?? undefined,
            nextAttemptAt:
              task.nextAttemptAt === null ? null : new Date(task.nextAttemptAt).toISOString(),
          },
          'task will be retried',
        );
        return;
      }
      case 'finished': {
        const reqId = origins.take(task.id);
        if (task.status === 'failed') warnFailed(log, event, reqId);
        else log.info(withRequest(finishedFields(event), reqId), `task ${task.status}`);
      }
    }
  };
}

/** Also for the tasks a start requeues: the crashed run that cut them off could not log it. */
export function logRequeued(log: FastifyBaseLogger, taskId: string): void {
  log.info({ taskId }, 'task back in the queue');
}

function warnFailed(log: FastifyBaseLogger, event: TransitionEvent, reqId: string | undefined) {
  const { task } = event;
  // Queued tasks a stop of the memory store ends: one warning of the stop counts them, where a
  // warning each would bury the log under the whole queue.
  const level = task.startedAt === null && task.error?.code === 'interrupted' ? 'info' : 'warn';
  // The code alone does not say why (upstream_error covers every other cause): the task's own
  // words do, built by the proxy from the transport's error, with nothing of the request's.
  const fields = { ...finishedFields(event), errorMessage: task.error?.message };
  log[level](withRequest(fields, reqId), 'task failed');
}

function withRequest<T extends object>(fields: T, reqId: string | undefined) {
  return reqId === undefined ? fields : { reqId, ...fields };
}

function finishedFields(event: TransitionEvent) {
  const { task } = event;
  // The backend's clock gives fractions of a millisecond, noise on a line read by eye; the
  // metrics keep them.
  const processingMs = processingMsOf(event);
  return {
    taskId: task.id,
    statusCode: task.result?.statusCode,
    error: task.error?.code,
    processingMs: processingMs === null ? null : Math.round(processingMs),
  };
}
