import type { Clock } from '../clock.js';

/** How long a line that repeats stays quiet after it is written; then one says how often it came. */
export const REPEAT_QUIET_MS = 60_000;

/**
 * A log line for something that may come many times a second: written at its first coming, then,
 * for as long as it keeps coming, once per REPEAT_QUIET_MS with how many came in that spell. A
 * spell's count is written as it ends, not at the next coming, which may be an outage later.
 */
export function quietLine(clock: Clock, write: (count: number) => void): () => void {
  let quiet = false;
  let count = 0;
  const endSpell = () => {
    if (count === 0) {
      quiet = false;
      return;
    }
    write(count);
    count = 0;
    clock.setTimeout(endSpell, REPEAT_QUIET_MS).unref?.();
  };
  return () => {
    if (quiet) {
      count++;
      return;
    }
    write(1);
    quiet = true;
    clock.setTimeout(endSpell, REPEAT_QUIET_MS).unref?.();
  };
}
