import type { FastifyBaseLogger } from 'fastify';
import type { HealthBody, Stats, Task } from 'proxy-client/wire';
import type { Dispatcher } from 'undici';
import { effectiveConcurrency, type ProxyConfig } from './config/config.js';
import { InlineLane } from './forwarding/inline-lane.js';
import type { ForwardingLane, LaneEvent, LaneJob, LaneOptions } from './forwarding/lane.js';
import { TaskRunner } from './forwarding/task-runner.js';
import { ThreadLane } from './forwarding/thread-lane.js';
import { lowerPriorityExcept } from './forwarding/thread-priority.js';
import { type EstimateInputs, queueWaitMs, retryAfterSeconds } from './metrics/estimates.js';
import { Metrics } from './metrics/metrics.js';
import { BoundedQueue } from './queue/bounded-queue.js';
import { MemoryTaskStore } from './tasks/memory-task-store.js';
import { binaryStringOf, packHeaders } from './tasks/stored-request.js';
import { newTaskId } from './tasks/task-id.js';
import type { TaskStore } from './tasks/task-store.js';
import type { WireContext } from './tasks/wire-task.js';
import { taskError } from './upstream/error-codes.js';
import { TargetProbe } from './upstream/target-probe.js';
import { VERSION } from './version.js';

/** Seams for tests and for other stores; everything is built from the config when omitted. */
export interface ProxyDeps {
  /** Replaces the undici Pool bound to the target (e.g. undici's MockAgent). */
  dispatcher?: Dispatcher;
  /** Replaces the in-memory task store. */
  store?: TaskStore;
  /**
   * Where upstream calls are made: in a worker thread of their own (the default; needs the built
   * package, which ships the thread's entry) or on the main thread. A `dispatcher` implies
   * `'inline'`, since it cannot cross to a thread.
   */
  forwarding?: 'thread' | 'inline';
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
 * Jobs handed to the lane ahead of free slots, per slot of concurrency. While a burst of
 * submissions keeps the main thread busy it answers the lane's events late, and the lane must
 * not run dry meanwhile: measured under a 10,000-submission burst with a cap of 50 and a 20 ms
 * target, the lane completed 1,790-1,980 calls a second with 4 per slot, 2,050-2,170 with 16 and
 * 2,110-2,160 with 64 (2,380 once the burst was over). The tasks stay pending and in line, and
 * shutdown takes back those not started.
 */
const WINDOW_PER_SLOT = 64;
const TASK_LOG_LEVELS = new Set(['info', 'debug', 'trace']);

/**
 * The proxy's shared state and the operations routes need: admission into the queue, handing
 * queued tasks to the forwarding lane and applying what it reports, estimates, stats, background
 * timers and shutdown.
 */
export class ProxyRuntime {
  readonly config: ProxyConfig;
  readonly store: TaskStore;
  readonly metrics = new Metrics();
  readonly startedAt = Date.now();
  readonly concurrency: number;
  /** Ids of pending tasks not yet handed to the lane, oldest first; the store keeps their requests. */
  readonly #queue: BoundedQueue<string>;
  /** Places held for submissions whose task the store is still creating. */
  #reserved = 0;
  /** Tasks handed to the lane and not yet started: still pending, still in line. */
  #waitingInLane = 0;
  /** Tasks handed to the lane and not yet finished, to fail them should the lane stop. */
  readonly #inLane = new Set<string>();
  /** Tasks that have left the line (started, or failed before starting), in queue order. */
  #leftLine = 0;
  readonly #window: number;
  #feeding = false;
  readonly #laneOptions: LaneOptions;
  readonly #deps: ProxyDeps;
  #lane: ForwardingLane;
  /** Lane events are applied one batch after another, in the order they happened. */
  #applied: Promise<void> = Promise.resolve();
  readonly #probe: TargetProbe;
  readonly #runner: TaskRunner;
  readonly #log: FastifyBaseLogger;
  /** Whether the log level keeps the per-task lines (info and below). */
  readonly #logsTasks: boolean;
  readonly #timers: NodeJS.Timeout[] = [];
  #shuttingDown = false;
  #shutdown: Promise<void> | null = null;

  constructor(config: ProxyConfig, deps: ProxyDeps, log: FastifyBaseLogger) {
    this.config = config;
    this.#log = log;
    this.#logsTasks = TASK_LOG_LEVELS.has(log.level);
    this.#deps = deps;
    this.concurrency = effectiveConcurrency(config);
    this.#window = WINDOW_PER_SLOT * this.concurrency;
    this.store = deps.store ?? new MemoryTaskStore();
    this.#probe = new TargetProbe(config.target, deps.dispatcher);
    this.#queue = new BoundedQueue(config.maxQueueSize);
    this.#runner = new TaskRunner({
      store: this.store,
      metrics: this.metrics,
      log,
      longTaskThresholdMs: config.longTaskThresholdMs,
    });
    this.#laneOptions = {
      upstream: {
        target: config.target,
        timeoutMs: config.upstreamTimeoutMs,
        resultSizeLimitBytes: config.resultSizeLimitBytes,
        maxInFlight: this.concurrency,
        dropAuthorization: config.apiKey !== null,
      },
      numWorkers: config.numWorkers,
      maxConcurrent: config.maxConcurrent,
    };
    this.#lane = this.#openLane();
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

  /** Tasks waiting for an upstream slot, in the proxy's queue or handed to the lane. */
  get queueSize(): number {
    return this.#queue.size + this.#waitingInLane;
  }

  /** Admits a request as a pending task, or says why not; never blocks on the target. */
  async submit(submission: Submission): Promise<SubmitResult> {
    if (this.#shuttingDown) return { ok: false, reason: 'shutting_down' };
    const waiting = this.queueSize + this.#reserved;
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
    this.#feed();
    // Checked first: the log record would be built for every submission even at `warn`.
    if (this.#logsTasks) this.#log.info({ taskId: id, method, path }, 'task created');
    return { ok: true, taskId: id };
  }

  /** What wire tasks are built with, fixed at one moment so a whole page agrees. */
  wireContext(): WireContext {
    const now = Date.now();
    const inputs = this.#estimateInputs(now);
    return {
      now,
      longTaskThresholdMs: this.config.longTaskThresholdMs,
      positionOf: (seq) => this.#positionOf(seq),
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
      queue_size: this.queueSize,
      max_queue_size: config.maxQueueSize,
      max_concurrent: config.maxConcurrent,
      num_workers: config.numWorkers,
      effective_concurrency: this.concurrency,
      in_flight: this.#runner.inFlight,
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
    const probe = await this.#probe.probe();
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
    await Promise.all([this.#lane.close(), this.#probe.close()]);
  }

  async #drain(graceMs: number): Promise<void> {
    this.#shuttingDown = true;
    for (const timer of this.#timers) clearInterval(timer);
    const queued: string[] = [];
    for (let id = this.#queue.shift(); id !== undefined; id = this.#queue.shift()) queued.push(id);
    this.#log.info(
      { queued: queued.length + this.#waitingInLane, inFlight: this.#runner.inFlight, graceMs },
      'shutting down: queued tasks fail as interrupted, calls in flight may finish',
    );
    const unstarted = await this.#lane.drain(graceMs);
    await this.#applied;
    for (const id of unstarted) this.#inLane.delete(id);
    await Promise.all([...queued, ...unstarted].map((id) => this.#runner.abandon(id, NOT_STARTED)));
  }

  #openLane(where = this.#deps.forwarding ?? 'thread'): ForwardingLane {
    const apply = (events: LaneEvent[]) => this.#afterApplied(() => this.#apply(events));
    if (this.#deps.dispatcher || where === 'inline') {
      return new InlineLane(this.#laneOptions, apply, this.#deps.dispatcher);
    }
    return new ThreadLane(this.#laneOptions, apply, {
      onStopped: (error) => this.#laneStopped(error),
      onReady: (threadId) => this.#prioritizeForwarding(threadId),
    });
  }

  /** Runs `step` once everything before it is applied; a failing step is logged, not fatal. */
  #afterApplied(step: () => Promise<void>): void {
    this.#applied = this.#applied
      .then(step)
      .catch((error: unknown) => this.#log.error({ err: error }, 'applying lane events failed'));
  }

  async #apply(events: LaneEvent[]): Promise<void> {
    for (const event of events) {
      if (event.kind === 'started') {
        this.#waitingInLane--;
        this.#leftLine++;
        await this.#runner.started(event.id, event.at);
      } else {
        this.#inLane.delete(event.id);
        await this.#runner.finished(event.id, event.outcome, event.at);
      }
    }
    this.#feed();
  }

  /**
   * Hands the oldest queued tasks to the lane until it holds `#window` not yet started. One pass
   * at a time, so tasks reach the lane in queue order.
   */
  #feed(): void {
    // Topping up only once half the window has started sends jobs in batches: every message
    // wakes the other thread, and on a busy core each wake-up costs more than the copy.
    if (this.#feeding || this.#shuttingDown || this.#waitingInLane > this.#window / 2) return;
    this.#feeding = true;
    this.#feedPass().catch((error: unknown) => this.#log.error({ err: error }, 'feeding failed'));
  }

  async #feedPass(): Promise<void> {
    try {
      while (this.#waitingInLane < this.#window && !this.#shuttingDown) {
        const jobs: LaneJob[] = [];
        while (this.#waitingInLane + jobs.length < this.#window) {
          const id = this.#queue.shift();
          if (id === undefined) break;
          const request = await this.store.takeRequest(id);
          if (request) jobs.push({ id, ...request });
          else this.#leftLine++;
        }
        if (jobs.length === 0) return;
        if (this.#shuttingDown) {
          // Shutdown drained the lane while these were being taken: they never start.
          await Promise.all(jobs.map((job) => this.#runner.abandon(job.id, NOT_STARTED)));
          return;
        }
        this.#waitingInLane += jobs.length;
        for (const job of jobs) this.#inLane.add(job.id);
        this.#lane.enqueue(jobs);
      }
    } finally {
      this.#feeding = false;
    }
  }

  /**
   * The forwarding thread ended without being asked to (or could not start): its tasks fail as
   * interrupted, and forwarding goes on on the main thread rather than restarting a thread that
   * may fail again at once.
   */
  #laneStopped(error: Error): void {
    this.#log.error(
      { err: error },
      'the forwarding thread stopped; its tasks fail as interrupted and forwarding goes on on the main thread',
    );
    const lost = [...this.#inLane];
    this.#inLane.clear();
    this.#leftLine += this.#waitingInLane;
    this.#waitingInLane = 0;
    const stopped = taskError('interrupted', `the forwarding thread stopped: ${error.message}`);
    this.#afterApplied(async () => {
      await Promise.all(lost.map((id) => this.#runner.abandon(id, stopped)));
    });
    if (this.#shuttingDown) return;
    this.#lane = this.#openLane('inline');
    this.#feed();
  }

  /** `--intake-nice`: the forwarding thread keeps its priority, every other thread yields. */
  #prioritizeForwarding(threadId: number | null): void {
    const nice = this.config.intakeNice;
    if (threadId === null || nice === 0) return;
    const lowered = lowerPriorityExcept(threadId, nice);
    this.#log.info(
      { nice, threads: lowered },
      'every thread but the forwarding one yields the CPU',
    );
  }

  /** 1-based place in line of the task queued with `seq`, or null if it has left the line. */
  #positionOf(seq: number): number | null {
    const position = seq - this.#leftLine + 1;
    return position >= 1 && position <= this.queueSize ? position : null;
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
