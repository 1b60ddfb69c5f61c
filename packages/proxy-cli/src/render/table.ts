import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { displayWidth } from './display-width.js';

/**
 * How data is drawn: with colours (possibly level 0), and either as boxes for a person at a
 * terminal or as plain tab-separated rows for a pipe or a file (as gh and other well-liked CLIs
 * do: no header, no box drawing, no colour, full values), which `cut`, `awk` and `grep` read.
 */
export interface Look {
  color: ChalkInstance;
  plain: boolean;
  /** The terminal's width, when drawn on one that reports it: wide tables fit themselves to it. */
  columns?: number | undefined;
}

/** A plain cell: text as it is, numbers as digits, nothing for null. */
export type PlainCell = string | number | boolean | null | undefined;

/** Plain rows: one line per row, cells separated by tabs (tabs and newlines inside become spaces). */
export function tsv(rows: ReadonlyArray<ReadonlyArray<PlainCell>>): string {
  return rows.map((row) => row.map(plainText).join('\t')).join('\n');
}

function plainText(cell: PlainCell): string {
  if (cell === null || cell === undefined) return '';
  return String(cell).replace(/[\t\r\n]+/g, ' ');
}

/**
 * cli-table3 colours headers and borders through its own colour library, which knows nothing of
 * NO_COLOR or --no-color; so its styles are off and headers are painted with our chalk.
 */
export function makeTable(
  color: ChalkInstance,
  head?: readonly string[],
  layout?: Pick<Table.TableConstructorOptions, 'colWidths' | 'wordWrap'>,
): Table.Table {
  return new Table({
    ...(head && { head: head.map((h) => color.bold(h)) }),
    ...layout,
    style: { head: [], border: [], compact: true },
  });
}

/**
 * A two-column key/value table, keys dimmed. Given a terminal's width it keeps within it: values
 * too long for it wrap at spaces. On a terminal too narrow for a value's longest word (a task id
 * at 50 columns), the box goes rather than the word being cut: keys and values on plain lines,
 * each value whole, to be copied.
 */
export function keyValueTable(
  color: ChalkInstance,
  rows: ReadonlyArray<[string, string]>,
  columns?: number,
): string {
  const keyChars = Math.max(0, ...rows.map(([key]) => displayWidth(key)));
  const valueChars = Math.max(0, ...rows.map(([, value]) => displayWidth(value)));
  // colWidths count a cell's two spaces; each column adds a border, the table one more.
  const room = columns === undefined ? undefined : columns - (keyChars + 2) - 3;
  const longestWord = Math.max(
    0,
    ...rows.flatMap(([, value]) => value.split(/\s+/).map(displayWidth)),
  );
  if (room !== undefined && longestWord + 2 > room) {
    return rows
      .map(
        ([key, value]) => `${color.dim(key)}${' '.repeat(keyChars - displayWidth(key))}  ${value}`,
      )
      .join('\n');
  }
  const table =
    room !== undefined && valueChars + 2 > room
      ? makeTable(color, undefined, {
          colWidths: [keyChars + 2, Math.max(3, room)],
          wordWrap: true,
        })
      : makeTable(color);
  for (const [key, value] of rows) table.push([color.dim(key), value]);
  return table.toString();
}

/** Columns a boxed table takes: each column its text, a space either side and a border. */
export function boxedWidth(columnChars: readonly number[]): number {
  return columnChars.reduce((sum, chars) => sum + chars + 3, 1);
}
