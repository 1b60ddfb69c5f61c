import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';

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
