import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';

/** How long the same failure stays quiet after its line; then one line says how often it came. */
export const REPEAT_QUIET_MS = 60_000;
/** Failures remembered at most, so a stream of distinct ones (task ids) cannot grow the map. */
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
    const key = `${doing}\n${reason}`;
    const now = clock.now();
    const last = seen.get(key);
    if (last && now - last.at < REPEAT_QUIET_MS) {
      last.repeats++;
      return;
    }
    if (!last && seen.size >= REMEMBERED) {
      for (const [old, entry] of seen) if (now - entry.at >= REPEAT_QUIET_MS) seen.delete(old);
    }
    seen.set(key, { at: now, repeats: 0 });
    const repeats = last?.repeats ?? 0;
    log.error(
      repeats > 0 ? { err: error, repeatedSinceLastLine: repeats } : { err: error },
      `task store: ${doing}`,
    );
  };
}
