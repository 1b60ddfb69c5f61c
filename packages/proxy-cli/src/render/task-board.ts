import type { TaskChangeEvent } from 'proxy-client';
import {
  isTerminalStatus,
  TASK_STATUSES,
  type TaskCounts,
  type TaskStatus,
  type TaskSummary,
} from 'proxy-client/wire';
import { boardFoot, boardTitle, type TitleParts } from './board-lines.js';
import { terminalRows, wrappedRows } from './display-width.js';
import type { Look } from './table.js';
import { renderTaskTable, taskTableLineChars } from './task-list.js';

/** Tasks the board remembers; more than a terminal shows, fewer than a proxy may hold. */
const CAPACITY = 500;
/** Lines of a frame that are not task rows: the title, the table's borders and head, the foot. */
const FRAME_LINES = 6;

/**
 * The tasks `--watch` shows, newest first: read once from the list, then kept current by the
 * proxy's events. With `statuses`, a task that moves to another status leaves the board.
 */
export class TaskBoard {
  readonly #tasks = new Map<string, TaskSummary>();

  constructor(readonly statuses?: readonly TaskStatus[]) {}

  /** Starts again from a list read afresh (at first, and after a `reset`). */
  replace(tasks: readonly TaskSummary[]): void {
    this.#tasks.clear();
    for (const task of tasks) if (this.#shows(task)) this.#tasks.set(task.task_id, task);
  }

  apply(event: TaskChangeEvent): void {
    const { task } = event;
    const known = this.#tasks.get(task.task_id);
    // Events that were on their way while the list was read can be older than the list.
    if (known && isTerminalStatus(known.status) && !isTerminalStatus(task.status)) return;
    if (!this.#shows(task)) {
      this.#tasks.delete(task.task_id);
      return;
    }
    this.#tasks.set(task.task_id, task);
    if (this.#tasks.size > CAPACITY) this.#tasks.delete(this.tasks.at(-1)?.task_id ?? '');
  }

  /** Newest first, as `--list-tasks` has them. */
  get tasks(): TaskSummary[] {
    return [...this.#tasks.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  #shows(task: TaskSummary): boolean {
    return this.statuses === undefined || this.statuses.includes(task.status);
  }
}

export interface BoardFrame {
  url: string;
  look: Look;
  now: number;
  /** Terminal rows the frame may take. */
  rows: number;
  /** Terminal columns: the table, the title and the foot fit themselves to them. */
  columns?: number;
  /** The proxy's counts of every task it holds (`/stats`), for the title; absent until read. */
  counts?: TaskCounts;
  /** While the proxy is away: what its absence looked like (` (ECONNREFUSED)`). */
  away?: string;
}

/**
 * The board as the terminal shows it: a title with the counts, the table, a foot. The title and
 * the foot each keep to one line where the terminal allows; the table takes the rows left.
 */
export function renderBoard(board: TaskBoard, frame: BoardFrame): string {
  const { look, columns } = frame;
  const tasks = board.tasks;
  const title = boardTitle(
    { url: frame.url, statuses: board.statuses, ...titleCounts(board, tasks, frame) },
    look,
    columns,
  );
  const footFor = (shown: number) =>
    boardFoot({ shown, held: tasks.length, away: frame.away }, look, columns);
  const fitted = columns ? { ...look, columns } : look;
  const width = columns ?? Number.POSITIVE_INFINITY;
  const rowsOf = (text: string) =>
    text.split('\n').reduce((sum, line) => sum + terminalRows(line, width), 0);
  let count = Math.min(tasks.length, Math.max(1, frame.rows - FRAME_LINES));
  const shown = running(tasks.slice(0, count), frame.now);
  // A boxed table takes a line per task, a stacked one two, and a narrow terminal wraps lines:
  // each length tried is measured rather than drawn, so a frame draws its table once.
  const tableRows = (rows: readonly TaskSummary[]) =>
    taskTableLineChars(rows, fitted, frame.now).reduce(
      (sum, chars) => sum + wrappedRows(chars, width),
      0,
    );
  while (
    count > 1 &&
    rowsOf(title) + tableRows(shown.slice(0, count)) + rowsOf(footFor(count)) > frame.rows
  ) {
    count -= 1;
  }
  const table = count > 0 ? renderTaskTable(shown.slice(0, count), fitted, frame.now) : '';
  return [title, ...(table ? [table] : []), footFor(count)].join('\n');
}

/**
 * The board holds only the newest tasks, so counting its rows would undercount a busy proxy:
 * the title takes the proxy's own counts when it has them, and otherwise says what it counted.
 */
function titleCounts(
  board: TaskBoard,
  tasks: readonly TaskSummary[],
  frame: BoardFrame,
): Pick<TitleParts, 'counts' | 'counted'> {
  const { counts } = frame;
  const pairs: Array<[string, number]> = counts
    ? TASK_STATUSES.filter((status) => board.statuses?.includes(status) ?? true).map((status) => [
        status,
        counts[status],
      ])
    : [...tallyByStatus(tasks)];
  const byStatus = pairs
    .filter(([, count]) => count > 0)
    .map(([status, count]) => ({ status, count }));
  return counts ? { counts: byStatus } : { counts: byStatus, counted: tasks.length };
}

function tallyByStatus(tasks: readonly TaskSummary[]): Map<string, number> {
  const tally = new Map<string, number>();
  for (const task of tasks) tally.set(task.status, (tally.get(task.status) ?? 0) + 1);
  return tally;
}

/** Events come at transitions only; a running task's time grows in between. */
function running(tasks: readonly TaskSummary[], now: number): TaskSummary[] {
  return tasks.map((task) =>
    task.status === 'processing' && task.started_at !== null
      ? { ...task, duration_ms: Math.max(task.duration_ms ?? 0, now - Date.parse(task.started_at)) }
      : task,
  );
}
