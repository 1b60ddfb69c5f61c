import type { ChalkInstance } from 'chalk';
import type { TaskStatus } from 'proxy-client/wire';

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

/** `text` stands for the status where it is written shorter (the watch board's narrow title). */
export function paintStatus(
  status: TaskStatus | string,
  color: ChalkInstance,
  text: string = status,
): string {
  const paint = Object.hasOwn(PAINTS, status) ? PAINTS[status] : undefined;
  return paint ? paint(color)(text) : text;
}
