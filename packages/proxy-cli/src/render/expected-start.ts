import type { Task } from 'proxy-client/wire';
import { formatDuration } from './duration.js';

/**
 * Milliseconds from the read of `task` to its expected start, on the proxy's own clock: the
 * moment of the read is the task's creation plus its age, so a terminal whose clock is set
 * otherwise does not move the figure. Null when no start is expected.
 */
export function msToStart(task: Task): number | null {
  if (task.estimated_start_at === null) return null;
  const expected = Date.parse(task.estimated_start_at);
  const readAt = Date.parse(task.created_at) + task.queue_ms + (task.duration_ms ?? 0);
  return Number.isNaN(expected) || Number.isNaN(readAt) ? null : expected - readAt;
}

/** `in 5 s`, `in 53 m 00 s`, or `any moment` once the estimate has all but passed. */
export function formatStartsIn(ms: number): string {
  if (ms < 1000) return 'any moment';
  return ms < 60_000 ? `in ${Math.ceil(ms / 1000)} s` : `in ${formatDuration(ms)}`;
}
