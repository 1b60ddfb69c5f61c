import type { FastifyBaseLogger } from 'fastify';
import type { TaskError } from 'proxy-client/wire';
import type { Metrics } from '../metrics/metrics.js';
import type { TaskOutcome, TaskStore } from '../tasks/task-store.js';

interface InFlight {
  startedAt: number;
  long: boolean;
}

export interface TaskRunnerOptions {
  store: TaskStore;
  metrics: Metrics;
  log: FastifyBaseLogger;
  longTaskThresholdMs: number;
}

/**
 * Moves tasks through pending → processing → completed/failed as the forwarding lane reports
 * their calls: one store call and one log line per transition. Keeps the calls in flight in start
 * order so long-task checks and estimates never look at the store.
 */
export class TaskRunner {
  readonly #options: TaskRunnerOptions;
  readonly #inFlight = new Map<string, InFlight>();

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
  }

  /** Upstream calls started and not yet finished. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** How long the oldest call in flight has been running, in ms; null when none is. */
  oldestInFlightMs(now: number): number | null {
    for (const call of this.#inFlight.values()) return now - call.startedAt;
    return null;
  }

  /** The lane started the task's upstream call at `startedAt`. */
  async started(id: string, startedAt: number): Promise<void> {
    if (!(await this.#options.store.claim(id, startedAt))) return;
    this.#inFlight.set(id, { startedAt, long: false });
    this.#options.log.info({ taskId: id }, 'task processing');
  }

  /** The lane finished the task's upstream call at `completedAt`. */
  async finished(id: string, outcome: TaskOutcome, completedAt: number): Promise<void> {
    const call = this.#inFlight.get(id);
    if (!call) return;
    this.#inFlight.delete(id);
    if (!call.long && completedAt - call.startedAt > this.#options.longTaskThresholdMs) {
      await this.#markLong(id, call);
    }
    await this.#finish(id, outcome, completedAt, completedAt - call.startedAt);
  }

  /** Ends a task whose call never ended here, e.g. at shutdown or when forwarding stopped. */
  async abandon(id: string, error: TaskError): Promise<void> {
    const call = this.#inFlight.get(id);
    this.#inFlight.delete(id);
    const now = Date.now();
    const processingMs = call ? now - call.startedAt : null;
    await this.#finish(id, { status: 'failed', result: null, error }, now, processingMs);
  }

  /** Marks the calls that have been running longer than the threshold; oldest first, stops early. */
  async checkLongTasks(now: number): Promise<void> {
    for (const [id, call] of this.#inFlight) {
      if (now - call.startedAt <= this.#options.longTaskThresholdMs) return;
      if (!call.long) await this.#markLong(id, call);
    }
  }

  async #markLong(id: string, call: InFlight): Promise<void> {
    call.long = true;
    await this.#options.store.markLong(id);
    this.#options.log.info({ taskId: id }, 'task is long');
  }

  async #finish(
    id: string,
    outcome: TaskOutcome,
    completedAt: number,
    processingMs: number | null,
  ): Promise<void> {
    const { store, metrics, log } = this.#options;
    await store.finish(id, outcome, completedAt);
    metrics.recordFinished(outcome.status, processingMs);
    if (outcome.status === 'completed') {
      log.info(
        { taskId: id, statusCode: outcome.result?.statusCode, processingMs },
        'task completed',
      );
    } else {
      log.info(
        {
          taskId: id,
          statusCode: outcome.result?.statusCode,
          error: outcome.error?.code,
          processingMs,
        },
        'task failed',
      );
    }
  }
}
