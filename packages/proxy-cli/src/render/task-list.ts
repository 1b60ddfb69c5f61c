import type { ChalkInstance } from 'chalk';
import type { TaskList, TaskSummary } from 'proxy-client/wire';
import { formatAge, formatDuration } from './duration.js';
import { paintStatus } from './status.js';
import { makeTable } from './table.js';

/** Long paths are cut so a row fits a terminal; `--task-id` and `--json` show them whole. */
const MAX_REQUEST_CHARS = 36;

/** Tasks as a table, newest first as the proxy sends them. */
export function renderTaskTable(
  tasks: readonly TaskSummary[],
  color: ChalkInstance,
  now: number,
): string {
  const table = makeTable(color, ['task id', 'status', 'request', 'age', 'took', 'code']);
  for (const task of tasks) {
    table.push([
      task.task_id,
      paintStatus(task.status, color) + (task.is_long_task ? color.magenta(' long') : ''),
      cut(`${task.method} ${task.path}`),
      formatAge(task.created_at, now).replace(/ ago$/, ''),
      task.duration_ms === null ? '' : formatDuration(task.duration_ms),
      task.result ? String(task.result.status_code) : (task.error?.code ?? ''),
    ]);
  }
  return table.toString();
}

function cut(text: string): string {
  return text.length <= MAX_REQUEST_CHARS ? text : `${text.slice(0, MAX_REQUEST_CHARS - 1)}…`;
}

/** Which slice of the list this is, and how to get the next one. */
export function describePage(list: TaskList): string {
  if (list.tasks.length === 0) {
    return list.total === 0
      ? 'no tasks'
      : `no tasks at offset ${list.offset} (${list.total} in all)`;
  }
  const first = list.offset + 1;
  const last = list.offset + list.tasks.length;
  const more = last < list.total ? `; next page: --offset ${last}` : '';
  return `tasks ${first}–${last} of ${list.total}${more}`;
}
