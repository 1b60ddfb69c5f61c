import { setImmediate as nextTurn } from 'node:timers/promises';

/** The most finished tasks one removal takes: one batch is one commit. */
export const REMOVE_BATCH = 1_000;

/**
 * Removes finished tasks a batch at a time, each committed before the next: a big store's
 * cleanup (hundreds of thousands of tasks) would otherwise hold the thread, and every caller, for
 * seconds. A stop ends it between batches, with the count removed so far.
 *
 * `removeBatch` removes at most `REMOVE_BATCH` and answers how many it removed.
 */
export async function removeInBatches(
  removeBatch: () => Promise<number>,
  stopping: () => boolean,
): Promise<number> {
  let removed = 0;
  for (;;) {
    const count = await removeBatch();
    removed += count;
    if (count < REMOVE_BATCH || stopping()) return removed;
    // A store that commits at once (memory) would otherwise run the batches back to back, and no
    // caller, nor a stop, would be heard between them.
    await nextTurn();
  }
}
