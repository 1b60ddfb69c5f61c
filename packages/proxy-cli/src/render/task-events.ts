import type { TaskEvent } from 'proxy-client';
import type { TaskSummary } from 'proxy-client/wire';
import { paintStatusAsSent } from './status.js';
import { type Look, tsv } from './table.js';

/**
 * One event of `--watch` off a terminal: the event's type, then the task as `--list-tasks`
 * rows have it (task_id, status, method, path, created_at, duration_ms, the target's status code
 * or the error code, is_long_task), tab-separated. A `reset` is the word alone.
 */
export function renderEventLine(event: TaskEvent, look: Look): string {
  if (event.type === 'reset') return 'reset';
  return tsv([[event.type, ...taskCells(event.task, look)]]);
}

export function taskCells(task: TaskSummary, look: Look) {
  return [
    task.task_id,
    // Uncoloured unless FORCE_COLOR asked for colour off a terminal.
    paintStatusAsSent(task.status, look.color),
    task.method,
    task.path,
    task.created_at,
    task.duration_ms,
    task.result ? task.result.status_code : task.error?.code,
    task.is_long_task,
  ];
}

/** One event of `--watch --json`: a JSON Lines document with the task id as a field. */
export function eventDocument(event: TaskEvent): Record<string, unknown> {
  if (event.type === 'reset') return { event: 'reset' };
  return { event: event.type, id: event.id ?? null, task_id: event.task.task_id, task: event.task };
}
