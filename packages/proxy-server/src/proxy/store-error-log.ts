import type { FastifyBaseLogger } from 'fastify';
import { type Clock, isWithin } from '../clock.js';
import { REPEAT_QUIET_MS } from './quiet-line.js';

const TASK_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Failures remembered at most: past it the oldest goes. */
const REMEMBERED = 1_000;

/**
 * The store's failures for the log. While Redis is away, each of its clients fails the same way
 * at every reconnect attempt (three lines a second with stacks): the first of each failure is
 * logged, then at most one line per REPEAT_QUIET_MS with how many came since.
 */
export function storeErrorLog(
  log: FastifyBaseLogger,
  clock: Clock,
): (error: unknown, doing: string) => void {
  const seen = new Map<string, { at: number; repeats: number }>();
  return (error, doing) => {
    const reason = error instanceof Error ? error.message : String(error);
    // One failure for every task: a line per task id would be a line per refused submission.
    const key = `${doing.replace(TASK_ID, '<task>')}\n${reason}`;
    const now = clock.now();
    const last = seen.get(key);
    if (last && isWithin(last.at, now, REPEAT_QUIET_MS)) {
      last.repeats++;
      return;
    }
    seen.delete(key);
    if (seen.size >= REMEMBERED) seen.delete(seen.keys().next().value as string);
    seen.set(key, { at: now, repeats: 0 });
    const repeats = last?.repeats ?? 0;
    log.error(
      repeats > 0 ? { err: error, repeatedSinceLastLine: repeats } : { err: error },
      `task store: ${doing}`,
    );
  };
}
