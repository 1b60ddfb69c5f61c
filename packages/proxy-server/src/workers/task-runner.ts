import type { FastifyBaseLogger } from 'fastify';
import type { TaskError } from 'proxy-client/wire';
import type { Metrics } from '../metrics/metrics.js';
import { bytesOf, unpackHeaders } from '../tasks/stored-request.js';
import type { TaskOutcome, TaskStore } from '../tasks/task-store.js';
import { taskError } from '../upstream/error-codes.js';
import { storedBodyOf } from '../upstream/result-body.js';
import type { UpstreamClient, UpstreamOutcome } from '../upstream/upstream-client.js';

interface InFlight {
  startedAt: number;
  long: boolean;
}

export interface TaskRunnerOptions {
  store: TaskStore;
  upstream: UpstreamClient;
  metrics: Metrics;
  log: FastifyBaseLogger;
  longTaskThresholdMs: number;
}

/**
 * Runs one task: pending → processing → completed/failed, one store call and one log line per
 * transition. Keeps the calls in flight in start order so long-task checks and estimates never
 * look at the store.
 */
export class TaskRunner {
  readonly #options: TaskRunnerOptions;
  readonly #inFlight = new Map<string, InFlight>();

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
  }

  /** How long the oldest call in flight has been running, in ms; null when none is. */
  oldestInFlightMs(now: number): number | null {
    for (const call of this.#inFlight.values()) return now - call.startedAt;
    return null;
  }

  /** Claims the queued task `id` and makes its upstream call. */
  async run(id: string, signal: AbortSignal): Promise<void> {
    const { store, upstream, log } = this.#options;
    const startedAt = Date.now();
    const task = await store.claim(id, startedAt);
    if (!task) return;
    const call: InFlight = { startedAt, long: false };
    this.#inFlight.set(id, call);
    log.info({ taskId: id }, 'task processing');
    let outcome: UpstreamOutcome;
    try {
      outcome = await upstream.send(
        {
          method: task.method,
          path: task.path,
          rawHeaders: unpackHeaders(task.headers),
          body: task.body === null ? null : bytesOf(task.body),
        },
        signal,
      );
    } finally {
      this.#inFlight.delete(id);
    }
    const completedAt = Date.now();
    if (!call.long && completedAt - startedAt > this.#options.longTaskThresholdMs) {
      await this.#markLong(id, call);
    }
    await this.#finish(id, taskOutcomeOf(outcome), completedAt, completedAt - startedAt);
  }

  /** Ends a task that never left the queue, e.g. at shutdown. */
  async abandon(id: string, error: TaskError): Promise<void> {
    await this.#finish(id, { status: 'failed', result: null, error }, Date.now(), null);
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

/** 2xx completes the task; any other answer fails it with the answer kept; no answer fails it. */
export function taskOutcomeOf(outcome: UpstreamOutcome): TaskOutcome {
  if (!outcome.ok) return { status: 'failed', result: null, error: outcome.error };
  const result = {
    statusCode: outcome.statusCode,
    headers: outcome.headers,
    ...storedBodyOf(outcome.body, outcome.contentType),
  };
  if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
    return { status: 'completed', result, error: null };
  }
  return {
    status: 'failed',
    result,
    error: taskError('upstream_status', `status ${outcome.statusCode}`),
  };
}
