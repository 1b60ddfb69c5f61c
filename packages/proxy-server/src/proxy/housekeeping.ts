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
  #timer: Timer | null = null;
  #stopped = false;

  constructor(options: HousekeepingOptions) {
    this.#options = options;
  }

  /** `requestId`: the HTTP request's (`DELETE /tasks/cleanup`), for the log. */
  async removeFinishedOlderThan(ageMs: number, requestId?: string): Promise<number> {
    const { backend, clock, log } = this.#options;
    const removed = await backend.removeFinished(clock.now() - ageMs);
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

  #schedule(everyMs: number, retentionMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.removeFinishedOlderThan(retentionMs)
        .catch((error: unknown) =>
          this.#options.log.error({ err: error }, 'retention sweep failed'),
        )
        .finally(() => this.#schedule(everyMs, retentionMs));
    }, everyMs);
    this.#timer.unref?.();
  }
}
