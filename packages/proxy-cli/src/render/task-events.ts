import type { TaskEvent } from 'proxy-client';
import type { TaskSummary } from 'proxy-client/wire';
import { showControls } from './control-chars.js';
import { paintStatus, paintStatusAsSent } from './status.js';
import { type Look, type PlainCell, tsv } from './table.js';

/**
 * One event of `--watch` off a terminal: the event's type, then the task as `--list-tasks`
 * rows have it (task_id, status, method, path, created_at, duration_ms, the target's status code
 * or the error code, is_long_task), tab-separated. A `reset` is the word alone.
 */
export function renderEventLine(event: TaskEvent, look: Look): string {
  if (event.type === 'reset') return 'reset';
  return tsv([[event.type, ...taskCells(event.task, look)]]);
}

export function taskCells(task: TaskSummary, look: Look): PlainCell[] {
  // Off a terminal a row keeps the proxy's bytes. On one (`TERM=dumb`, which gets `--watch`'s
  // lines instead of a redrawn board) the proxy's words, numbers sent as text too, are shown, not
  // obeyed.
  const shown = (cell: PlainCell) =>
    look.plain || typeof cell !== 'string' ? cell : showControls(cell);
  return [
    shown(task.task_id),
    // Uncoloured unless FORCE_COLOR asked for colour off a terminal.
    look.plain ? paintStatusAsSent(task.status, look.color) : paintStatus(task.status, look.color),
    shown(task.method),
    shown(task.path),
    shown(task.created_at),
    shown(task.duration_ms),
    shown(task.result ? task.result.status_code : task.error?.code),
    shown(task.is_long_task),
  ];
}

/** One event of `--watch --json`: a JSON Lines document with the task id as a field. */
export function eventDocument(event: TaskEvent): Record<string, unknown> {
  if (event.type === 'reset') return { event: 'reset' };
  return { event: event.type, id: event.id ?? null, task_id: event.task.task_id, task: event.task };
}
