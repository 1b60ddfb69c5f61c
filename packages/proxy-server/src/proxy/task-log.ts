import type { FastifyBaseLogger } from 'fastify';
import type { TaskEvent, TransitionEvent } from '../engine/task-backend.js';
import { withoutQuery } from '../logging/logger.js';
import type { RequestOrigins } from './request-origins.js';

/** The levels at which every transition has a line; above them, only failures do. */
export const TASK_LOG_LEVELS = new Set(['info', 'debug', 'trace']);

/**
 * One log line per transition this process made: created, started, retrying, finished (a
 * failure is a warning), requeued; each with the task id, and the request id (`reqId`, Fastify's) when a
 * request made it (a submission, a retry, a cancel). Nothing from the request or the answer
 * but method, path without its query string (where secrets travel) and status code.
 *
 * The queued tasks a shutdown ends `interrupted` (on a store that keeps nothing across a
 * restart) are expected, not failures to look into one by one: each gets an info line and the
 * shutdown one warning with their number, so a queue of 100,000 does not flood the log on exit.
 */
export class TaskLog {
  readonly #log: FastifyBaseLogger;
  #endedQueued = 0;

  /** Subscribe this to the backend's events. */
  readonly onEvent: (event: TaskEvent) => void;

  constructor(log: FastifyBaseLogger, origins: RequestOrigins) {
    this.#log = log;
    // Decided once: at `warn` the record would otherwise be built for every transition.
    this.onEvent = TASK_LOG_LEVELS.has(log.level)
      ? (event) => this.#everyTransition(event, origins)
      : (event) => {
          if (event.local && event.type === 'finished' && event.task.status === 'failed')
            this.#failed(event, undefined);
        };
  }

  /** After the backend stopped: the one line for the queued tasks the shutdown ended. */
  reportShutdown(): void {
    if (this.#endedQueued === 0) return;
    this.#log.warn(
      { tasks: this.#endedQueued },
      'queued tasks ended interrupted by the shutdown (this store keeps nothing across a restart)',
    );
  }

  #everyTransition(event: TaskEvent, origins: RequestOrigins): void {
    const log = this.#log;
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
        log.info({ taskId: task.id }, 'task back in the queue');
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
        if (task.status === 'failed') this.#failed(event, reqId);
        else log.info(withRequest(finishedFields(event), reqId), `task ${task.status}`);
      }
    }
  }

  #failed(event: TransitionEvent, reqId: string | undefined): void {
    const fields = withRequest(finishedFields(event), reqId);
    if (!endedInQueueByShutdown(event)) {
      this.#log.warn(fields, 'task failed');
      return;
    }
    this.#endedQueued++;
    this.#log.info(fields, 'task failed');
  }
}

/** Interrupted before its call started: only a shutdown ends a queued task that way. */
function endedInQueueByShutdown({ task }: TransitionEvent): boolean {
  return task.error?.code === 'interrupted' && task.startedAt === null;
}

function withRequest<T extends object>(fields: T, reqId: string | undefined) {
  return reqId === undefined ? fields : { reqId, ...fields };
}

function finishedFields(event: TransitionEvent) {
  const { task } = event;
  return {
    taskId: task.id,
    statusCode: task.result?.statusCode,
    error: task.error?.code,
    processingMs:
      task.startedAt !== null && task.completedAt !== null
        ? task.completedAt - task.startedAt
        : null,
  };
}
