import type { FastifyBaseLogger } from 'fastify';
import type { Clock, Timer } from '../clock.js';
import type { TaskBackend } from '../engine/task-backend.js';

export interface HousekeepingOptions {
  backend: TaskBackend;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Finished tasks older than this are removed by a periodic sweep; null: never. */
  retentionMs: number | null;
}

/** Removes finished tasks: on demand (`DELETE /tasks/cleanup`) and on a retention sweep. */
export class Housekeeping {
  readonly #options: HousekeepingOptions;
  /** The wall and monotonic clocks at the start, to tell how far the wall clock stepped since. */
  readonly #startedAt: number;
  readonly #startedSteady: number;
  #timer: Timer | null = null;
  #stopped = false;

  constructor(options: HousekeepingOptions) {
    this.#options = options;
    this.#startedAt = options.clock.now();
    this.#startedSteady = options.clock.monotonic();
  }

  /** `requestId`: the HTTP request's (`DELETE /tasks/cleanup`), for the log. */
  async removeFinishedOlderThan(ageMs: number, requestId?: string): Promise<number> {
    return this.#removeFinishedBefore(this.#options.clock.now() - ageMs, ageMs, requestId);
  }

  async #removeFinishedBefore(
    completedBefore: number,
    ageMs: number,
    requestId?: string,
  ): Promise<number> {
    const { backend, log } = this.#options;
    const removed = await backend.removeFinished(completedBefore);
    if (removed > 0) {
      log.info(
        requestId === undefined ? { removed, ageMs } : { reqId: requestId, removed, ageMs },
        'finished tasks removed',
      );
    }
    return removed;
  }

  /** Sweeps every tenth of the retention period (between 1 s and 1 min) until `stop()`. */
  start(): void {
    const { retentionMs } = this.#options;
    if (retentionMs === null) return;
    const everyMs = Math.min(60_000, Math.max(1_000, Math.floor(retentionMs / 10)));
    this.#schedule(everyMs, retentionMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#options.clock.clearTimeout(this.#timer);
  }

  /**
   * The moment the retention counts back from: the wall clock, or the wall clock as it would be
   * had it not stepped forward since the start, whichever is earlier. A step forward (a VM
   * resumed after a day, NTP) must not remove at once the results of tasks that finished a
   * minute ago, before their callers could read them; a step either way may keep tasks longer.
   */
  #sweepNow(): number {
    const { clock } = this.#options;
    const unstepped = this.#startedAt + (clock.monotonic() - this.#startedSteady);
    return Math.min(clock.now(), unstepped);
  }

  #schedule(everyMs: number, retentionMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#removeFinishedBefore(this.#sweepNow() - retentionMs, retentionMs)
        .catch((error: unknown) =>
          this.#options.log.error({ err: error }, 'retention sweep failed'),
        )
        .finally(() => this.#schedule(everyMs, retentionMs));
    }, everyMs);
    this.#timer.unref?.();
  }
}
