import type { TerminalStatus } from 'proxy-client/wire';

/** Totals since this process started, updated on each event so reading them costs nothing. */
export class Metrics {
  submitted = 0;
  completed = 0;
  failed = 0;
  rejectedQueueFull = 0;
  removed = 0;
  #processingMsTotal = 0;
  #processed = 0;

  recordFinished(status: TerminalStatus, processingMs: number | null): void {
    if (status === 'completed') this.completed++;
    else this.failed++;
    if (processingMs === null) return;
    this.#processingMsTotal += processingMs;
    this.#processed++;
  }

  /** Mean processing time of the tasks that reached the target, in ms; null before the first. */
  get avgProcessingMs(): number | null {
    return this.#processed === 0 ? null : this.#processingMsTotal / this.#processed;
  }
}
