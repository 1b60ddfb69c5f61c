import type { ChalkInstance } from 'chalk';
import type { Task } from 'proxy-client/wire';
import { formatBody } from './body.js';
import { formatDuration } from './duration.js';
import { paintStatus } from './status.js';
import { keyValueTable } from './table.js';

/** One task in full: its fields in a table, then the target's answer body. */
export function renderTask(task: Task, color: ChalkInstance): string {
  const rows: Array<[string, string]> = [
    ['task id', task.task_id],
    [
      'status',
      paintStatus(task.status, color) + (task.is_long_task ? color.magenta('  (long task)') : ''),
    ],
    ['request', `${task.method} ${task.path}`],
    ['created', task.created_at],
  ];
  if (task.queue_position !== null) rows.push(['queue position', String(task.queue_position)]);
  if (task.estimated_start_at !== null) rows.push(['expected start', task.estimated_start_at]);
  rows.push(['queued for', formatDuration(task.queue_ms)]);
  if (task.started_at !== null) rows.push(['started', task.started_at]);
  if (task.duration_ms !== null) {
    rows.push([
      task.completed_at === null ? 'running for' : 'took',
      formatDuration(task.duration_ms),
    ]);
  }
  if (task.completed_at !== null) rows.push(['finished', task.completed_at]);
  if (task.attempts > 1) rows.push(['attempts', String(task.attempts)]);
  if (task.result) rows.push(['target answered', statusCode(task.result.status_code, color)]);
  // upstream_status only repeats the status code shown above.
  if (task.error && task.error.code !== 'upstream_status') {
    rows.push(['error', color.red(`${task.error.code}: ${task.error.message}`)]);
  }

  const parts = [keyValueTable(color, rows)];
  if (task.result) parts.push(color.bold('Result body'), formatBody(task.result));
  return parts.join('\n');
}

/** Why a failed task failed, in one line. */
export function failureReason(task: Task): string {
  if (task.error && task.error.code !== 'upstream_status') return task.error.message;
  if (task.result) return `the target answered ${task.result.status_code}`;
  return task.error?.message ?? 'no reason given';
}

function statusCode(code: number, color: ChalkInstance): string {
  return code >= 200 && code < 300 ? color.green(String(code)) : color.red(String(code));
}
