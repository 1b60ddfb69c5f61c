import type { StopReport, TaskEvent } from '../engine/task-backend.js';

/** What became of this process's calls during a stop. */
export interface StopTally {
  /** Calls that ended within the grace: an answer, or an error of their own. */
  ended: number;
  /** Calls the stop cut off, ended `interrupted`. */
  interrupted: number;
  /** Calls the stop cut off and put back in the queue (`--requeue-interrupted`). */
  requeued: number;
}

/** How a stop ended, with what became of the calls it found in flight. */
export interface ShutdownReport extends StopReport {
  calls: StopTally;
}

/**
 * Counts this process's call endings while a stop runs. Each call cut off has a warning line of
 * its own; with 2,000 in flight, the log held 2,000 of them and no line saying how the stop went.
 */
export function stopTally(): { tally: StopTally; count: (event: TaskEvent) => void } {
  const tally: StopTally = { ended: 0, interrupted: 0, requeued: 0 };
  const count = (event: TaskEvent) => {
    if (!event.local || event.type === 'removed') return;
    const { task } = event;
    if (event.type === 'requeued') tally.requeued += 1;
    else if (event.type === 'retrying') tally.ended += 1;
    else if (event.type !== 'finished' || task.startedAt === null) return;
    else if (task.error?.code === 'interrupted') tally.interrupted += 1;
    else tally.ended += 1;
  };
  return { tally, count };
}

/**
 * One line for people: how many calls the stop let end and how many it cut off, and how many
 * outcomes the store would not take (those calls told no event, so the tally misses them).
 */
export function stopSummary(
  { ended, interrupted, requeued }: StopTally,
  unsavedOutcomes: number,
): string {
  const calls = (n: number) => (n === 1 ? '1 call' : `${n} calls`);
  // Those calls ended, within the grace or cut off: no event says which.
  const unsaved = (n: number, more: string) =>
    n === 1
      ? `the outcome of 1 ${more}call not saved`
      : `the outcomes of ${n} ${more}calls not saved`;
  if (ended + interrupted + requeued === 0) {
    return unsavedOutcomes === 0
      ? 'stopped: no call was in flight'
      : `stopped: ${unsaved(unsavedOutcomes, '')}`;
  }
  const more = unsavedOutcomes === 0 ? '' : `; ${unsaved(unsavedOutcomes, 'more ')}`;
  const cut = interrupted + requeued;
  const how = [
    interrupted > 0 ? `${interrupted} ended interrupted` : '',
    requeued > 0 ? `${requeued} requeued` : '',
  ].filter(Boolean);
  return `stopped: ${calls(ended)} ended within the grace, ${calls(cut)} cut off${how.length > 0 ? ` (${how.join(', ')})` : ''}${more}`;
}
