import type { OutputStream } from './output-stream.js';
import { terminalRows } from './render/display-width.js';

const ESC = '\u001b[';
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;

/**
 * A block of text redrawn in place on a terminal, as `top` or `watch` show theirs: each frame
 * replaces the last one (the cursor goes back up over it and clears to the end of the screen).
 * Frames are cut to the terminal's height, since lines scrolled off the screen cannot be taken
 * back. The last frame stays on the screen when the view closes.
 */
export class LiveView {
  readonly #stream: OutputStream;
  #lines = 0;
  #closed = false;

  constructor(stream: OutputStream) {
    this.#stream = stream;
  }

  /** Lines the terminal can show: frames are cut to this, less one for the cursor's line. */
  get rows(): number {
    return (this.#stream as { rows?: number }).rows || 24;
  }

  get columns(): number {
    return this.#stream.columns || 80;
  }

  render(frame: string): void {
    if (this.#closed) return;
    const lines = fit(frame.replace(/\n+$/, '').split('\n'), this.columns, this.rows - 1);
    const back = this.#lines > 0 ? `${ESC}${this.#lines}F${ESC}J` : HIDE_CURSOR;
    this.#lines = lines.reduce((sum, line) => sum + terminalRows(line, this.columns), 0);
    this.#stream.write(`${back}${lines.join('\n')}\n`);
  }

  /** Calls `listener` when the terminal changes size; answers the function that stops it. */
  onResize(listener: () => void): () => void {
    this.#stream.on?.('resize', listener);
    return () => void this.#stream.off?.('resize', listener);
  }

  /** Leaves the last frame where it is and gives the cursor back. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.write(SHOW_CURSOR);
  }
}

/** Lines that take at most `rows` terminal rows; what is cut is said on the last one. */
function fit(lines: string[], columns: number, rows: number): string[] {
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    used += terminalRows(lines[i] ?? '', columns);
    if (used > rows)
      return [...lines.slice(0, Math.max(0, i - 1)), '… (a taller terminal shows more)'];
  }
  return lines;
}
