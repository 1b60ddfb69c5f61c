import type { ChalkInstance } from 'chalk';
import type { TaskStatus } from 'proxy-client/wire';
import { showControls } from './control-chars.js';

/**
 * One colour per status, the same everywhere: tables, task detail, spinner text. Waiting is grey,
 * running yellow, done green, failed red; the ends that are neither (stopped by a person, or never
 * started before the deadline) are dimmed and a faded yellow. Keyed by name rather than typed by
 * `TaskStatus`, so a status a newer proxy sends still prints, uncoloured.
 */
const PAINTS: Readonly<Record<string, (color: ChalkInstance) => ChalkInstance>> = {
  pending: (color) => color.gray,
  processing: (color) => color.yellow,
  completed: (color) => color.green,
  failed: (color) => color.red,
  cancelled: (color) => color.dim,
  expired: (color) => color.yellow.dim,
};

/**
 * A status for a terminal (a table's box, a task, a spinner, a title). A status is the proxy's
 * word, which may be any text, so its control and invisible characters are shown, not obeyed.
 * `text` stands for the status where it is written shorter (the watch board's narrow title).
 */
export function paintStatus(
  status: TaskStatus | string,
  color: ChalkInstance,
  text: string = status,
): string {
  return paintAs(status, color, showControls(text));
}

/**
 * A status in a tab-separated row off a terminal, which keeps the proxy's bytes as they came;
 * coloured only when FORCE_COLOR asked for colour there.
 */
export function paintStatusAsSent(status: TaskStatus | string, color: ChalkInstance): string {
  return paintAs(status, color, status);
}

function paintAs(status: string, color: ChalkInstance, text: string): string {
  const paint = Object.hasOwn(PAINTS, status) ? PAINTS[status] : undefined;
  return paint ? paint(color)(text) : text;
}
