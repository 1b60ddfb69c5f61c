import type { FastifyBaseLogger } from 'fastify';
import type { HealthBody, Stats, Task } from 'proxy-client/wire';
import type { Dispatcher } from 'undici';
import { effectiveConcurrency, type ProxyConfig } from './config/config.js';
import { type EstimateInputs, queueWaitMs, retryAfterSeconds } from './metrics/estimates.js';
import { Metrics } from './metrics/metrics.js';
import { BoundedQueue } from './queue/bounded-queue.js';
import { MemoryTaskStore } from './tasks/memory-task-store.js';
import { binaryStringOf, packHeaders } from './tasks/stored-request.js';
import { newTaskId } from './tasks/task-id.js';
import type { TaskStore } from './tasks/task-store.js';
import type { WireContext } from './tasks/wire-task.js';
import { taskError } from './upstream/error-codes.js';
import { UpstreamClient } from './upstream/upstream-client.js';
import { VERSION } from './version.js';
import { TaskRunner } from './workers/task-runner.js';
import { WorkerPool } from './workers/worker-pool.js';

/** Seams for tests and for other stores; everything is built from the config when omitted. */
export interface ProxyDeps {
  /** Replaces the undici Pool bound to the target (e.g. undici's MockAgent). */
  dispatcher?: Dispatcher;
  /** Replaces the in-memory task store. */
  store?: TaskStore;
}

export interface Submission {
  method: string;
  /** Origin-form path as submitted, query string included. */
  path: string;
  rawHeaders: readonly string[];
  /** The body as received, in chunks; null when empty. */
  body: readonly Buffer[] | null;
}

export type SubmitResult =
  | { ok: true; taskId: string }
  | { ok: false; reason: 'queue_full'; retryAfterS: number }
  | { ok: false; reason: 'shutting_down' };

const QUEUE_FULL_RETRY_AFTER_S = { min: 1, max: 3600 } as const;
const PENDING_RETRY_AFTER_S = { min: 1, max: 30 } as const;
const NOT_STARTED = taskError('interrupted', 'the proxy shut down before the task started');

/**
 * The proxy's shared state and the operations routes need: admission into the queue, the worker
 * pool feeding the upstream client, estimates, stats, background timers and shutdown.
 */
export class ProxyRuntime {
  readonly config: ProxyConfig;
  readonly store: TaskStore;
  readonly upstream: UpstreamClient;
  readonly metrics = new Metrics();
  readonly startedAt = Date.now();
  readonly concurrency: number;
  /** Ids of pending tasks, oldest first; the store keeps their requests. */
  readonly #queue: BoundedQueue<string>;
  /** Places held for submissions whose task the store is still creating. */
  #reserved = 0;
  readonly #runner: TaskRunner;
  readonly #workers: WorkerPool<string>;
  readonly #log: FastifyBaseLogger;
  readonly #timers: NodeJS.Timeout[] = [];
  #shuttingDown = false;
  #shutdown: Promise<void> | null = null;

  constructor(config: ProxyConfig, deps: ProxyDeps, log: FastifyBaseLogger) {
    this.config = config;
    this.#log = log;
    this.concurrency = effectiveConcurrency(config);
    this.store = deps.store ?? new MemoryTaskStore();
    this.upstream = new UpstreamClient(
      {
        target: config.target,
        timeoutMs: config.upstreamTimeoutMs,
        resultSizeLimitBytes: config.resultSizeLimitBytes,
        connections: this.concurrency,
        dropAuthorization: config.apiKey !== null,
      },
      deps.dispatcher,
    );
    this.#queue = new BoundedQueue(config.maxQueueSize);
    this.#runner = new TaskRunner({
      store: this.store,
      upstream: this.upstream,
      metrics: this.metrics,
      log,
      longTaskThresholdMs: config.longTaskThresholdMs,
    });
    this.#workers = new WorkerPool({
      numWorkers: config.numWorkers,
      concurrency: config.maxConcurrent,
      take: () => this.#queue.shift(),
      process: (id, signal) => this.#runner.run(id, signal),
      onError: (error, id) => log.error({ err: error, taskId: id }, 'task processing failed'),
    });
    if (config.numWorkers !== config.maxConcurrent) {
      log.warn(
        `--num-workers ${config.numWorkers} and --max-concurrent ${config.maxConcurrent} differ: ` +
          `at most ${this.concurrency} upstream calls will be in flight`,
      );
    }
    this.#startTimers();
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  get queueSize(): number {
    return this.#queue.size;
  }

  /** Admits a request as a pending task, or says why not; never blocks on the target. */
  async submit(submission: Submission): Promise<SubmitResult> {
    if (this.#shuttingDown) return { ok: false, reason: 'shutting_down' };
    const waiting = this.#queue.size + this.#reserved;
    if (waiting >= this.#queue.capacity) {
      this.metrics.rejectedQueueFull++;
      const waitMs = queueWaitMs(waiting, this.#estimateInputs(Date.now()));
      const { min, max } = QUEUE_FULL_RETRY_AFTER_S;
      return { ok: false, reason: 'queue_full', retryAfterS: retryAfterSeconds(waitMs, min, max) };
    }
    // The place is held while the store creates the task, so concurrent submissions can never
    // overfill the queue; the id is queued only once the task exists, so no worker can claim it
    // early. Stores settle in order, so the sequence number taken now is the one it gets.
    const queueSeq = this.#queue.nextSeq + this.#reserved;
    this.#reserved++;
    const id = newTaskId();
    const { method, path, body } = submission;
    try {
      await this.store.create({
        id,
        method,
        path,
        createdAt: Date.now(),
        queueSeq,
        headers: packHeaders(submission.rawHeaders),
        body: body === null ? null : binaryStringOf(body),
      });
    } finally {
      this.#reserved--;
    }
    if (this.#shuttingDown) {
      // Shutdown emptied the queue while the store was creating this task: it never starts.
      await this.#runner.abandon(id, NOT_STARTED);
      return { ok: true, taskId: id };
    }
    this.#queue.push(id);
    this.metrics.submitted++;
    this.#workers.notify();
    this.#log.info({ taskId: id, method, path }, 'task created');
    return { ok: true, taskId: id };
  }

  /** What wire tasks are built with, fixed at one moment so a whole page agrees. */
  wireContext(): WireContext {
    const now = Date.now();
    const inputs = this.#estimateInputs(now);
    return {
      now,
      longTaskThresholdMs: this.config.longTaskThresholdMs,
      positionOf: (seq) => this.#queue.positionOf(seq),
      waitMsAt: (position) => queueWaitMs(position, inputs),
    };
  }

  /** `Retry-After` for a pending task: seconds to its estimated start, within [1, 30]. */
  pendingRetryAfterS(task: Task, now: number): number | null {
    if (task.status !== 'pending' || task.estimated_start_at === null) return null;
    const waitMs = Date.parse(task.estimated_start_at) - now;
    return retryAfterSeconds(waitMs, PENDING_RETRY_AFTER_S.min, PENDING_RETRY_AFTER_S.max);
  }

  async removeFinishedOlderThan(ageMs: number): Promise<number> {
    const removed = await this.store.removeFinishedBefore(Date.now() - ageMs);
    this.metrics.removed += removed;
    if (removed > 0) this.#log.info({ removed, ageMs }, 'finished tasks removed');
    return removed;
  }

  async stats(): Promise<Stats> {
    const now = Date.now();
    // Flag calls that crossed the threshold since the last timer tick, so the count agrees with
    // `is_long_task` on read; costs at most one look per call in flight.
    await this.#runner.checkLongTasks(now);
    const counts = await this.store.counts();
    const { config, metrics } = this;
    const avg = metrics.avgProcessingMs;
    return {
      tasks: {
        pending: counts.pending,
        processing: counts.processing,
        completed: counts.completed,
        failed: counts.failed,
        total: counts.total,
      },
      queue_size: this.#queue.size,
      max_queue_size: config.maxQueueSize,
      max_concurrent: config.maxConcurrent,
      num_workers: config.numWorkers,
      effective_concurrency: this.concurrency,
      in_flight: this.upstream.inFlight,
      long_tasks: counts.long,
      avg_processing_ms: avg === null ? null : Math.round(avg * 10) / 10,
      totals: {
        submitted: metrics.submitted,
        completed: metrics.completed,
        failed: metrics.failed,
        rejected_queue_full: metrics.rejectedQueueFull,
        removed: metrics.removed,
      },
      uptime_s: Math.round(now - this.startedAt) / 1000,
      started_at: new Date(this.startedAt).toISOString(),
      target: config.target.url,
      version: VERSION,
    };
  }

  async health(): Promise<HealthBody> {
    const probe = await this.upstream.probe();
    const status = this.#shuttingDown ? 'shutting_down' : probe.reachable ? 'ok' : 'degraded';
    return {
      success: true,
      status,
      target: {
        url: this.config.target.url,
        reachable: probe.reachable,
        latency_ms: probe.latencyMs,
      },
    };
  }

  /**
   * Stops taking submissions, fails the tasks still queued with `interrupted`, lets the calls in
   * flight finish within `graceMs` and cuts off the rest (also `interrupted`). Idempotent.
   */
  shutdown(graceMs: number): Promise<void> {
    this.#shutdown ??= this.#drain(graceMs);
    return this.#shutdown;
  }

  /** Shutdown without grace (if not already shut down), then releases the upstream connections. */
  async close(): Promise<void> {
    await this.shutdown(0);
    await this.upstream.close();
  }

  async #drain(graceMs: number): Promise<void> {
    this.#shuttingDown = true;
    for (const timer of this.#timers) clearInterval(timer);
    const inFlight = this.#workers.active;
    const workersClosed = this.#workers.close(graceMs);
    const queued: string[] = [];
    for (let id = this.#queue.shift(); id !== undefined; id = this.#queue.shift()) queued.push(id);
    this.#log.info(
      { queued: queued.length, inFlight, graceMs },
      'shutting down: queued tasks fail as interrupted, calls in flight may finish',
    );
    await Promise.all(queued.map((id) => this.#runner.abandon(id, NOT_STARTED)));
    await workersClosed;
  }

  #estimateInputs(now: number): EstimateInputs {
    return {
      avgProcessingMs: this.metrics.avgProcessingMs,
      oldestInFlightMs: this.#runner.oldestInFlightMs(now),
      concurrency: this.concurrency,
    };
  }

  #startTimers(): void {
    const threshold = this.config.longTaskThresholdMs;
    const longCheckMs = Math.min(1_000, Math.max(50, Math.floor(threshold / 4)));
    this.#every(longCheckMs, () => this.#runner.checkLongTasks(Date.now()));
    const retentionMs = this.config.retentionMs;
    if (retentionMs !== null) {
      const sweepMs = Math.min(60_000, Math.max(1_000, Math.floor(retentionMs / 10)));
      this.#every(sweepMs, () => this.removeFinishedOlderThan(retentionMs));
    }
  }

  #every(intervalMs: number, tick: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      tick().catch((error: unknown) => this.#log.error({ err: error }, 'background task failed'));
    }, intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }
}
