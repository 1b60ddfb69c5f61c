import type { Clock } from '../clock.js';

/** How long a line that repeats stays quiet after it is written; then one says how often it came. */
export const REPEAT_QUIET_MS = 60_000;

/**
 * A log line for something that may come many times a second: written at its first coming, then
 * at most once per REPEAT_QUIET_MS, given how many came since the last line (this one included).
 */
export function quietLine(clock: Clock, write: (count: number) => void): () => void {
  let writtenAt: number | null = null;
  let count = 0;
  return () => {
    count++;
    const now = clock.monotonic();
    if (writtenAt !== null && now - writtenAt < REPEAT_QUIET_MS) return;
    writtenAt = now;
    write(count);
    count = 0;
  };
}
