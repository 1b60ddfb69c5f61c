import type { FastifyBaseLogger } from 'fastify';
import type { TaskEvent, TransitionEvent } from '../engine/task-backend.js';

const TASK_LOG_LEVELS = new Set(['info', 'debug', 'trace']);

/**
 * One log line per transition this process made: created, started, finished (a failure is a
 * warning), requeued. Nothing from the request or the answer but method, path and status code.
 */
export function taskLogger(log: FastifyBaseLogger): (event: TaskEvent) => void {
  // Decided once: at `warn` the record would otherwise be built for every transition.
  if (!TASK_LOG_LEVELS.has(log.level)) {
    return (event) => {
      if (event.local && event.type === 'finished' && event.task.status === 'failed')
        warnFailed(log, event);
    };
  }
  return (event) => {
    if (!event.local || event.type === 'removed') return;
    const { task } = event;
    switch (event.type) {
      case 'created':
        log.info({ taskId: task.id, method: task.method, path: task.path }, 'task created');
        return;
      case 'started':
        log.info({ taskId: task.id, attempt: task.attempts }, 'task processing');
        return;
      case 'requeued':
        log.info({ taskId: task.id }, 'task back in the queue');
        return;
      case 'finished':
        if (task.status === 'failed') warnFailed(log, event);
        else log.info(finishedFields(event), `task ${task.status}`);
    }
  };
}

function warnFailed(log: FastifyBaseLogger, event: TransitionEvent): void {
  log.warn(finishedFields(event), 'task failed');
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
