import type { TaskList, TaskSummary } from 'proxy-client/wire';
import { formatAge, formatDuration } from './duration.js';
import { paintStatus } from './status.js';
import { type Look, makeTable, tsv } from './table.js';
import { taskCells } from './task-events.js';

/** Long paths are cut so a row fits a terminal; `--task-id` and `--json` show them whole. */
const MAX_REQUEST_CHARS = 36;

/**
 * Tasks, newest first as the proxy sends them: a table on a terminal; off one, a row per task of
 * task_id, status, method, path, created_at, duration_ms, the target's status code or the error
 * code, and is_long_task, tab-separated and in full.
 */
export function renderTaskTable(tasks: readonly TaskSummary[], look: Look, now: number): string {
  if (look.plain) return tsv(tasks.map((task) => taskCells(task, look)));
  const { color } = look;
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
