import { boxedWidth } from './table.js';

/** A request narrower than this says too little: `took` and `code` give way first. */
export const MIN_REQUEST_CHARS = 12;
/**
 * Below this a boxed row's request is a stub (`POST /a…`): the rows go on two lines each, out of
 * their box, rather than the request going or the row wrapping.
 */
const MIN_BOXED_REQUEST_CHARS = 8;
/** A request wider than this wastes the line. */
const MAX_REQUEST_CHARS = 60;
/** The request column without a known terminal width; `--task-id` and `--json` show it whole. */
const DEFAULT_REQUEST_CHARS = 36;

/** The columns after the request, in the order they give way. */
export const OPTIONAL_COLUMNS = ['took', 'code'] as const;
export type OptionalColumn = (typeof OPTIONAL_COLUMNS)[number];

/**
 * How the task rows fit a terminal: boxed, one row per task, when the id, status, age and a
 * request of a few characters fit; otherwise stacked, out of the box, each whole id on a line of
 * its own and the other columns aligned under it. Either way `took` and `code` stay only while the request keeps
 * `MIN_REQUEST_CHARS`: one rule for `--list-tasks` and the live table of `watch`.
 */
export type TaskColumnsFit = {
  layout: 'boxed' | 'stacked';
  optional: OptionalColumn[];
  requestChars: number;
};

/** The widest cell of each column, its head included (a stacked row has no heads to count). */
export interface ColumnChars {
  id: number;
  status: number;
  age: number;
  took: number;
  code: number;
}

/** Between two columns of a stacked row's second line. */
export const STACKED_SEPARATOR = '  ';
/** A stacked row's second line starts this far in, under its id. */
export const STACKED_INDENT = '  ';

export function fitTaskColumns(chars: ColumnChars, columns: number | undefined): TaskColumnsFit {
  if (columns === undefined) {
    return {
      layout: 'boxed',
      optional: [...OPTIONAL_COLUMNS],
      requestChars: DEFAULT_REQUEST_CHARS,
    };
  }
  const boxedRoom = (optional: readonly OptionalColumn[]) =>
    columns - boxedRowChars(chars, optional, 0);
  const boxed = keptWhile(boxedRoom);
  const room = boxedRoom(boxed);
  if (room >= MIN_BOXED_REQUEST_CHARS) {
    return { layout: 'boxed', optional: boxed, requestChars: Math.min(MAX_REQUEST_CHARS, room) };
  }
  const stackedRoom = (optional: readonly OptionalColumn[]) =>
    columns - stackedRowChars(chars, optional, 0);
  const stacked = keptWhile(stackedRoom);
  return {
    layout: 'stacked',
    optional: stacked,
    requestChars: Math.min(MAX_REQUEST_CHARS, Math.max(1, stackedRoom(stacked))),
  };
}

/** Characters a boxed row takes, borders included, with a request column `requestChars` wide. */
export function boxedRowChars(
  chars: ColumnChars,
  optional: readonly OptionalColumn[],
  requestChars: number,
): number {
  return boxedWidth([
    chars.id,
    chars.status,
    chars.age,
    ...optional.map((column) => chars[column]),
    requestChars,
  ]);
}

/** Characters a stacked row's second line takes, its request `requestChars` long. */
export function stackedRowChars(
  chars: ColumnChars,
  optional: readonly OptionalColumn[],
  requestChars: number,
): number {
  return (
    STACKED_INDENT.length +
    [chars.status, chars.age, ...optional.map((column) => chars[column])].reduce(
      (sum, width) => sum + width + STACKED_SEPARATOR.length,
      requestChars,
    )
  );
}

/** The optional columns kept while the request keeps `MIN_REQUEST_CHARS` of the room. */
function keptWhile(room: (optional: readonly OptionalColumn[]) => number): OptionalColumn[] {
  let kept: OptionalColumn[] = [...OPTIONAL_COLUMNS];
  for (const dropped of OPTIONAL_COLUMNS) {
    if (room(kept) >= MIN_REQUEST_CHARS) break;
    kept = kept.filter((column) => column !== dropped);
  }
  return kept;
}
