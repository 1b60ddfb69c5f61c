import type { TaskList, TaskSummary } from 'proxy-client/wire';
import { showControls } from './control-chars.js';
import { cutToWidth, displayWidth } from './display-width.js';
import { formatAge, formatDuration } from './duration.js';
import { paintStatus } from './status.js';
import { type Look, makeTable, tsv } from './table.js';
import {
  boxedRowChars,
  type ColumnChars,
  fitTaskColumns,
  type OptionalColumn,
  STACKED_INDENT,
  STACKED_SEPARATOR,
  stackedRowChars,
  type TaskColumnsFit,
} from './task-columns.js';
import { taskCells } from './task-events.js';

type Cells = Record<keyof ColumnChars, string>;

const HEADS: Cells = { id: 'task id', status: 'status', age: 'age', took: 'took', code: 'code' };
const HEAD_REQUEST = 'request';

/**
 * Tasks, newest first as the proxy sends them: a table on a terminal; off one, a row per task of
 * task_id, status, method, path, created_at, duration_ms, the target's status code or the error
 * code, and is_long_task, tab-separated and in full. On a terminal of known width the request
 * takes the room the other columns leave, `took` and `code` giving way where even a short request
 * does not fit; a terminal too narrow for a boxed row (under about 76 columns) gets each task on
 * two unboxed lines, its whole id on the first. A row never wraps while it can be helped, and an
 * id is never cut: it is what `wait <id>` takes.
 */
export function renderTaskTable(tasks: readonly TaskSummary[], look: Look, now: number): string {
  if (look.plain) return plainRows(tasks, look);
  const laid = layOut(tasks, look, now);
  return laid.fit.layout === 'boxed' ? boxed(laid, look) : stacked(laid, look);
}

/**
 * The length of each line `renderTaskTable` draws, worked out without drawing: the live board
 * tries several numbers of rows per frame to fit the terminal, and drawing the box for each try
 * cost a cli-table3 render per try, every frame.
 */
export function taskTableLineChars(
  tasks: readonly TaskSummary[],
  look: Look,
  now: number,
): number[] {
  if (look.plain) return plainRows(tasks, look).split('\n').map(displayWidth);
  const { rows, requests, fit, chars } = layOut(tasks, look, now);
  const requestChars = requests.map(displayWidth);
  if (fit.layout === 'boxed') {
    const width = boxedRowChars(
      chars,
      fit.optional,
      Math.max(HEAD_REQUEST.length, ...requestChars),
    );
    // Every line of a box is as wide: its top, the heads, the line under them, a row a task, its bottom.
    return Array.from({ length: rows.length + 4 }, () => width);
  }
  return [
    HEADS.id.length,
    stackedRowChars(chars, fit.optional, HEAD_REQUEST.length),
    ...rows.flatMap((cells, n) => [
      displayWidth(cells.id),
      stackedRowChars(chars, fit.optional, requestChars[n] ?? 0),
    ]),
  ];
}

/** The cells of a table, how its columns fit the terminal, and each request cut to fit. */
interface LaidOut {
  rows: Cells[];
  requests: string[];
  fit: TaskColumnsFit;
  chars: ColumnChars;
}

function layOut(tasks: readonly TaskSummary[], look: Look, now: number): LaidOut {
  const rows = tasks.map((task) => cellsOf(task, look, now));
  const widest = (column: keyof Cells) =>
    Math.max(HEADS[column].length, ...rows.map((row) => displayWidth(row[column])));
  const chars: ColumnChars = {
    id: widest('id'),
    status: widest('status'),
    age: widest('age'),
    took: widest('took'),
    code: widest('code'),
  };
  const fit = fitTaskColumns(chars, look.columns);
  const requests = tasks.map((task) =>
    cutToWidth(showControls(`${task.method} ${task.path}`), fit.requestChars),
  );
  return { rows, requests, fit, chars };
}

function plainRows(tasks: readonly TaskSummary[], look: Look): string {
  return tsv(tasks.map((task) => taskCells(task, look)));
}

function cellsOf(task: TaskSummary, { color }: Look, now: number): Cells {
  return {
    // A list's tasks pass the SDK unchecked: any field may hold any text.
    id: showControls(task.task_id),
    status: paintStatus(task.status, color) + (task.is_long_task ? color.magenta(' long') : ''),
    age: showControls(formatAge(task.created_at, now)).replace(/ ago$/, ''),
    took: task.duration_ms === null ? '' : formatDuration(task.duration_ms),
    code: showControls(task.result ? String(task.result.status_code) : (task.error?.code ?? '')),
  };
}

function boxed({ rows, requests, fit }: LaidOut, { color }: Look): string {
  const order = (cells: Cells, request: string) => [
    cells.id,
    cells.status,
    request,
    cells.age,
    ...fit.optional.map((column) => cells[column]),
  ];
  const table = makeTable(color, order(HEADS, HEAD_REQUEST));
  for (const [n, cells] of rows.entries()) table.push(order(cells, requests[n] ?? ''));
  return table.toString();
}

/** The id alone on a line, to be copied whole; under it the other columns, aligned, no box. */
function stacked({ rows, requests, fit, chars }: LaidOut, { color }: Look): string {
  const columns: Array<'status' | 'age' | OptionalColumn> = ['status', 'age', ...fit.optional];
  const under = (cells: Cells, request: string) =>
    STACKED_INDENT +
    [...columns.map((column) => pad(cells[column], chars[column])), request].join(
      STACKED_SEPARATOR,
    );
  const head = [color.bold(HEADS.id), color.bold(under(HEADS, HEAD_REQUEST))];
  const lines = rows.flatMap((cells, n) => [cells.id, under(cells, requests[n] ?? '')]);
  return [...head, ...lines].join('\n');
}

function pad(text: string, chars: number): string {
  return text + ' '.repeat(Math.max(0, chars - displayWidth(text)));
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
