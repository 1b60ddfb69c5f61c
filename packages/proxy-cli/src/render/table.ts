import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';

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
export function makeTable(color: ChalkInstance, head?: readonly string[]): Table.Table {
  return new Table({
    ...(head && { head: head.map((h) => color.bold(h)) }),
    style: { head: [], border: [], compact: true },
  });
}

/** A two-column key/value table, keys dimmed. */
export function keyValueTable(color: ChalkInstance, rows: ReadonlyArray<[string, string]>): string {
  const table = makeTable(color);
  for (const [key, value] of rows) table.push([color.dim(key), value]);
  return table.toString();
}
