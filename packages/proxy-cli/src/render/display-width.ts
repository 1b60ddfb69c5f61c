import { stripVTControlCharacters } from 'node:util';
import stringWidth from 'string-width';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Terminal columns `text` takes: colour codes take none, a CJK character or an emoji two, a
 * combining mark none. Counting characters instead pushed a table's borders out of line and its
 * rows past the terminal's edge. Text from outside the CLI goes through `showControls` first, so
 * a control character is measured as the `\xNN` it is shown as.
 */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/**
 * `text` cut to at most `columns` terminal columns, an ellipsis ending what was cut. It cuts
 * between graphemes, so a wide character (or an emoji, or a letter and its accent) stays whole
 * or goes whole; the cut may then come a column short of `columns`, never over it.
 */
export function cutToWidth(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  const room = columns - 1;
  let used = 0;
  let kept = '';
  for (const { segment } of graphemes.segment(text)) {
    used += displayWidth(segment);
    if (used > room) break;
    kept += segment;
  }
  return `${kept}…`;
}

/**
 * Rows `line` takes on a terminal `columns` wide once wrapped. A wide character that would
 * straddle the edge goes whole to the next row, leaving the last column empty, so a line of wide
 * characters can take a row more than its width divided by the terminal's.
 */
export function terminalRows(line: string, columns: number): number {
  const width = Math.max(1, columns);
  let rows = 1;
  let column = 0;
  for (const { segment } of graphemes.segment(stripVTControlCharacters(line))) {
    const chars = displayWidth(segment);
    if (column + chars > width && column > 0) {
      rows += 1;
      column = 0;
    }
    column += chars;
  }
  return rows;
}

/**
 * Rows a line `width` columns wide takes on a terminal `columns` wide once wrapped, for lines
 * measured rather than drawn: exact for lines that fit, which is what such lines are sized to.
 */
export function wrappedRows(width: number, columns: number): number {
  return Math.max(1, Math.ceil(width / Math.max(1, columns)));
}
