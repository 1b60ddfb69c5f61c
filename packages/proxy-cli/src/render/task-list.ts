import type { TaskList, TaskSummary } from 'proxy-client/wire';
import { showControls } from './control-chars.js';
import { formatAge, formatDuration } from './duration.js';
import { paintStatus } from './status.js';
import { boxedWidth, type Look, makeTable, tsv, visibleLength } from './table.js';
import { taskCells } from './task-events.js';

/** The request column without a known terminal width; `--task-id` and `--json` show it whole. */
const DEFAULT_REQUEST_CHARS = 36;
/** A request narrower than this says too little: `took` and `code` give way first. */
const MIN_REQUEST_CHARS = 12;
/** A request wider than this wastes the line. */
const MAX_REQUEST_CHARS = 60;

type Column = { head: string; cell(task: TaskSummary): string };

/**
 * Tasks, newest first as the proxy sends them: a table on a terminal; off one, a row per task of
 * task_id, status, method, path, created_at, duration_ms, the target's status code or the error
 * code, and is_long_task, tab-separated and in full. On a terminal of known width the request
 * column takes the room the others leave, and where even a short request does not fit, `took`
 * and then `code` give way; after that the request is cut to what is left, however short (a long
 * task's status and an age of `just now` leave 8 characters at 80 columns): a row never wraps
 * while it can be helped.
 */
export function renderTaskTable(tasks: readonly TaskSummary[], look: Look, now: number): string {
  if (look.plain) return tsv(tasks.map((task) => taskCells(task, look)));
  const { color } = look;
  const fixed: Column[] = [
    { head: 'task id', cell: (task) => task.task_id },
    {
      head: 'status',
      cell: (task) =>
        paintStatus(task.status, color) + (task.is_long_task ? color.magenta(' long') : ''),
    },
    { head: 'age', cell: (task) => formatAge(task.created_at, now).replace(/ ago$/, '') },
    {
      head: 'took',
      cell: (task) => (task.duration_ms === null ? '' : formatDuration(task.duration_ms)),
    },
    {
      head: 'code',
      cell: (task) =>
        task.result ? String(task.result.status_code) : showControls(task.error?.code ?? ''),
    },
  ];
  const rows = tasks.map((task) => fixed.map((column) => column.cell(task)));
  const widths = fixed.map((column, i) =>
    Math.max(column.head.length, ...rows.map((row) => visibleLength(row[i] ?? ''))),
  );
  const tableWidth = (kept: number[], request: number) =>
    boxedWidth([...kept.map((i) => widths[i] ?? 0), request]);
  let kept = [0, 1, 2, 3, 4];
  let requestChars = DEFAULT_REQUEST_CHARS;
  if (look.columns) {
    for (const dropped of [3, 4]) {
      if (tableWidth(kept, MIN_REQUEST_CHARS) <= look.columns) break;
      kept = kept.filter((i) => i !== dropped);
    }
    requestChars = Math.min(MAX_REQUEST_CHARS, Math.max(1, look.columns - tableWidth(kept, 0)));
  }
  const heads = kept.map((i) => fixed[i]?.head ?? '');
  heads.splice(2, 0, 'request');
  const table = makeTable(color, heads);
  for (const [n, task] of tasks.entries()) {
    const cells = kept.map((i) => rows[n]?.[i] ?? '');
    cells.splice(2, 0, cut(showControls(`${task.method} ${task.path}`), requestChars));
    table.push(cells);
  }
  return table.toString();
}

function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
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
