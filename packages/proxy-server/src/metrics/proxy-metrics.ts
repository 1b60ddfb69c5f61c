import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  type ErrorCode,
  TASK_ERROR_CODES,
  TASK_STATUSES,
  type TaskErrorCode,
  TERMINAL_STATUSES,
} from 'proxy-client/wire';
import { type Clock, waitAtMost } from '../clock.js';
import type {
  BackendCounts,
  RecoveryReport,
  StoreHealth,
  TaskEvent,
} from '../engine/task-backend.js';
import type { TaskSummary } from '../engine/task-record.js';
import { processingMsOf } from '../proxy/totals.js';
import { processMetrics, processMetricsText } from './process-metrics.js';

/** Why an admission was refused, as the error code the caller got. */
export type Refusal = Extract<
  ErrorCode,
  | 'queue_full'
  | 'tenant_queue_full'
  | 'shutting_down'
  | 'idempotency_key_reused'
  | 'store_unavailable'
>;
export const REFUSALS: readonly Refusal[] = [
  'queue_full',
  'tenant_queue_full',
  'shutting_down',
  'idempotency_key_reused',
  'store_unavailable',
];

/**
 * Task error codes that are no upstream error: upstream_status is an answer (counted by its status
 * code), and an expired or shed task made no call at all.
 */
const NOT_UPSTREAM_ERRORS: ReadonlySet<TaskErrorCode> = new Set([
  'upstream_status',
  'expired',
  'shed',
]);
const UPSTREAM_ERRORS = (Object.keys(TASK_ERROR_CODES) as TaskErrorCode[]).filter(
  (code) => !NOT_UPSTREAM_ERRORS.has(code),
);

/**
 * The longest a scrape waits for the store's figures, as the target probe waits at most 2 s: a
 * hung Redis fails a read only after its command timeout (3 s), and a scrape that slow runs past
 * a short scrape_timeout, where the instance shows as down (ProxyDown) rather than as unable to
 * use its store (proxy_store_up 0).
 */
const STORE_READ_MS = 2_000;

/** What a scrape reads from the store: the figures every instance sharing it sees alike. */
export interface SharedFigures {
  counts(): Promise<BackendCounts>;
  health(): Promise<StoreHealth>;
}

/** The last word of the probe behind /health: does the target answer a HEAD? */
export interface TargetProbeResult {
  reachable: boolean;
  latencyMs: number | null;
}

export interface ProxyMetricsOptions {
  store: SharedFigures;
  /** Probes the target: one HEAD (at most 2 s), or the answer of one a few seconds old. */
  probeTarget: () => Promise<TargetProbeResult>;
  /** The `instance` label of this process's own series, asked at each scrape (the port may be 0 until listening). */
  instance: () => string;
  maxQueueSize: number;
  concurrency: number;
  version: string;
  /** `proxy_info`'s `store_kind`: memory, sqlite or redis. */
  storeKind: string;
  /** The `store` label of the store's figures, given this instance's name (see store-label.ts). */
  storeName: (instance: string) => string;
  /** Reads the time the oldest call in flight is measured against, and times the store's read. */
  clock: Clock;
  /** Upstream calls this process is making now (on a shared store, the store counts everyone's). */
  callsHere: () => number;
}

const QUEUE_WAIT_BUCKETS_S = [
  0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14_400,
];
const PROCESSING_BUCKETS_S = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600,
];

/**
 * The proxy's Prometheus metrics, in two groups:
 *
 * - **this instance's** (label `instance`): counters of what it did, counted from the backend's
 *   events it made itself (`local`) and from admission, the histograms of its tasks' queue wait
 *   and processing time, whether it can use the store, and the process's default metrics. On a
 *   store several instances share, each reports its own; sum them.
 * - **the store's** (label `store`, no `instance` of ours): tasks held by status, the queue,
 *   calls in flight, long tasks, read from `counts()` at scrape time, which costs the same with
 *   ten tasks as with a million, and the limits. Every instance sharing a store reports the same
 *   figures under the same `store`; take the max by store, so that two stores' never mix.
 *
 * Counting costs a few hundred nanoseconds a transition: the labelled children are made once.
 */
export class ProxyMetrics {
  readonly contentType: string;
  readonly #options: ProxyMetricsOptions;
  readonly #own = new Registry();
  /** The store's figures: left out of a scrape whole when the store cannot be read. */
  readonly #shared = new Registry();
  /** The limits set by flags, the same on every instance sharing a store. */
  readonly #limits = new Registry();

  readonly #submitted: Counter;
  readonly #started: Counter;
  readonly #requeued: Counter;
  readonly #retries: Counter;
  readonly #shed: Counter;
  readonly #removed: Counter;
  readonly #callbacksDelivered: Counter.Internal;
  readonly #callbacksGivenUp: Counter.Internal;
  readonly #refused = new Map<Refusal, Counter.Internal>();
  readonly #finished = new Map<string, Counter.Internal>();
  readonly #upstreamResponses: Counter<'status_code'>;
  readonly #upstreamResponsesByCode = new Map<number, Counter.Internal>();
  readonly #upstreamErrors = new Map<TaskErrorCode, Counter.Internal>();
  readonly #queueWait: Histogram;
  readonly #processing = new Map<string, Histogram.Internal<'status'>>();
  readonly #storeUp: Gauge;
  readonly #targetUp: Gauge;
  readonly #callsHere: Gauge;
  readonly #info: Gauge<'version' | 'store' | 'store_kind'>;

  readonly #taskGauge: Gauge<'status'>;
  readonly #queueSize: Gauge;
  readonly #inFlight: Gauge;
  readonly #longTasks: Gauge;
  readonly #oldestCall: Gauge;
  readonly #retrying: Gauge;
  readonly #callbacksPending: Gauge;

  constructor(options: ProxyMetricsOptions) {
    this.#options = options;
    this.contentType = this.#own.contentType;
    processMetrics();
    const own = { registers: [this.#own] };
    const shared = { registers: [this.#shared] };
    const limits = { registers: [this.#limits] };

    this.#submitted = new Counter({
      name: 'proxy_tasks_submitted_total',
      help: 'Tasks this instance admitted (one per 202; a replayed Idempotency-Key is not one).',
      ...own,
    });
    const refused = new Counter({
      name: 'proxy_tasks_rejected_total',
      help: 'Submissions this instance refused, by reason (the error code the caller got).',
      labelNames: ['reason'],
      ...own,
    });
    // Every known label value starts at 0, so that rate() and alerts see the series from the start.
    for (const reason of REFUSALS) this.#refused.set(reason, zeroed(refused.labels(reason)));
    this.#started = new Counter({
      name: 'proxy_tasks_started_total',
      help: 'Upstream calls this instance started (one per attempt).',
      ...own,
    });
    const finished = new Counter({
      name: 'proxy_tasks_finished_total',
      help: 'Tasks this instance finished, by terminal status.',
      labelNames: ['status'],
      ...own,
    });
    for (const status of TERMINAL_STATUSES)
      this.#finished.set(status, zeroed(finished.labels(status)));
    this.#requeued = new Counter({
      name: 'proxy_tasks_requeued_total',
      help: 'Tasks this instance put back in the queue after their call was cut off.',
      ...own,
    });
    this.#retries = new Counter({
      name: 'proxy_task_retries_total',
      help: 'Failed upstream calls this instance scheduled to be made again (--retry-on).',
      ...own,
    });
    this.#shed = new Counter({
      name: 'proxy_tasks_shed_total',
      help: 'Queued tasks this instance dropped for higher-priority ones (also finished, status failed).',
      ...own,
    });
    this.#removed = new Counter({
      name: 'proxy_tasks_removed_total',
      help: 'Finished tasks this instance removed (retention and cleanup).',
      ...own,
    });
    const callbacks = new Counter({
      name: 'proxy_callbacks_total',
      help: 'Callbacks this instance settled: delivered (a 2xx from the receiver), or given up (attempts spent, its task removed, or lost with a memory store at a stop).',
      labelNames: ['outcome'],
      ...own,
    });
    this.#callbacksDelivered = zeroed(callbacks.labels('delivered'));
    this.#callbacksGivenUp = zeroed(callbacks.labels('given_up'));
    this.#upstreamResponses = new Counter({
      name: 'proxy_upstream_responses_total',
      help: "The target's answers that ended this instance's tasks, by HTTP status code.",
      labelNames: ['status_code'],
      ...own,
    });
    const upstreamErrors = new Counter({
      name: 'proxy_upstream_errors_total',
      help: "This instance's tasks that ended without an answer from the target, by error code.",
      labelNames: ['code'],
      ...own,
    });
    for (const code of UPSTREAM_ERRORS)
      this.#upstreamErrors.set(code, zeroed(upstreamErrors.labels(code)));
    this.#queueWait = new Histogram({
      name: 'proxy_task_queue_wait_seconds',
      help: 'Time each upstream call this instance started waited in the queue: from admission, or for a retry from when it was due.',
      buckets: QUEUE_WAIT_BUCKETS_S,
      ...own,
    });
    const processing = new Histogram({
      name: 'proxy_task_processing_seconds',
      help: "Time from the start of a task's upstream call to its finish, by terminal status.",
      labelNames: ['status'],
      buckets: PROCESSING_BUCKETS_S,
      ...own,
    });
    for (const status of TERMINAL_STATUSES) {
      processing.zero({ status });
      this.#processing.set(status, processing.labels(status));
    }
    this.#storeUp = new Gauge({
      name: 'proxy_store_up',
      help: 'Whether this instance can use the task store (1) or not (0).',
      ...own,
    });
    this.#targetUp = new Gauge({
      name: 'proxy_target_up',
      help: 'Whether the target answered a HEAD probe of this instance within 2 s, or took the connection while busy with calls in flight (1), or not (0), probed at most every 5 s at scrape time.',
      ...own,
    });
    this.#callsHere = new Gauge({
      name: 'proxy_instance_upstream_in_flight',
      help: 'Upstream calls this instance is making now (proxy_upstream_in_flight counts every instance on a shared store).',
      ...own,
    });
    this.#info = new Gauge({
      name: 'proxy_info',
      help: "Always 1: the version of this instance, and the store it uses (the store figures' store label) and its kind.",
      labelNames: ['version', 'store', 'store_kind'],
      ...own,
    });

    this.#taskGauge = new Gauge({
      name: 'proxy_tasks',
      help: 'Tasks held in the store now, by status.',
      labelNames: ['status'],
      ...shared,
    });
    this.#queueSize = new Gauge({
      name: 'proxy_queue_size',
      help: 'Tasks waiting in the queue for an upstream slot.',
      ...shared,
    });
    new Gauge({
      name: 'proxy_queue_capacity',
      help: 'Most tasks the queue holds (--max-queue-size); one more is refused with queue_full.',
      ...limits,
    }).set(options.maxQueueSize);
    this.#inFlight = new Gauge({
      name: 'proxy_upstream_in_flight',
      help: 'Upstream calls in flight now.',
      ...shared,
    });
    new Gauge({
      name: 'proxy_upstream_concurrency_limit',
      help: 'Most upstream calls in flight at once: min(--num-workers, --max-concurrent).',
      ...limits,
    }).set(options.concurrency);
    this.#longTasks = new Gauge({
      name: 'proxy_long_tasks',
      help: 'Tasks held now whose call ran, or has been running, longer than --long-task-threshold (finished ones count until removed).',
      ...shared,
    });
    this.#oldestCall = new Gauge({
      name: 'proxy_oldest_call_seconds',
      help: 'How long the oldest upstream call in flight has run; 0 with none in flight.',
      ...shared,
    });
    this.#retrying = new Gauge({
      name: 'proxy_tasks_retrying',
      help: 'Pending tasks waiting out the backoff before their next attempt.',
      ...shared,
    });
    this.#callbacksPending = new Gauge({
      name: 'proxy_callbacks_pending',
      help: 'Finished tasks whose callback is not settled yet: its first delivery due, or a retry after a failed one (grows while a receiver is down).',
      ...shared,
    });
  }

  /** Counts one backend event: only the transitions this instance made. */
  readonly record = (event: TaskEvent): void => {
    if (!event.local) return;
    switch (event.type) {
      case 'created':
        this.#submitted.inc();
        return;
      case 'removed':
        this.#removed.inc(event.count);
        return;
      case 'requeued':
        this.#requeued.inc();
        return;
      case 'retrying':
        this.#retries.inc();
        return;
      case 'started': {
        this.#started.inc();
        const { startedAt } = event.task;
        if (startedAt !== null) {
          this.#queueWait.observe(Math.max(0, startedAt - waitBeganAt(event.task)) / 1000);
        }
        return;
      }
      case 'finished': {
        const { task } = event;
        this.#finished.get(task.status)?.inc();
        const processingMs = processingMsOf(event);
        if (processingMs !== null) this.#processing.get(task.status)?.observe(processingMs / 1000);
        if (task.error?.code === 'shed') this.#shed.inc();
        if (task.result) this.#upstreamResponse(task.result.statusCode).inc();
        // The codes of NOT_UPSTREAM_ERRORS have no series to count in.
        else if (task.error) this.#upstreamErrors.get(task.error.code)?.inc();
      }
    }
  };

  /**
   * Counts what this instance's start did to the calls a stopped process left in flight: no
   * event tells of it, and a crash left those calls counted nowhere.
   */
  recovered(report: RecoveryReport): void {
    if (report.requeued > 0) this.#requeued.inc(report.requeued);
    if (report.interrupted > 0) {
      this.#finished.get('failed')?.inc(report.interrupted);
      this.#upstreamErrors.get('interrupted')?.inc(report.interrupted);
    }
  }

  /** Counts a callback this instance settled, as `/stats` does in `delivery.callbacks`. */
  callbackSettled(delivered: boolean): void {
    (delivered ? this.#callbacksDelivered : this.#callbacksGivenUp).inc();
  }

  /** Counts a submission this instance refused. */
  refused(reason: Refusal): void {
    this.#refused.get(reason)?.inc();
  }

  /** The exposition: this instance's series, the store's, the process's. */
  async scrape(): Promise<string> {
    const { store, instance, clock, storeName } = this.#options;
    const name = instance();
    const [counts, health, target] = await Promise.all([
      answerWithin(store.counts(), STORE_READ_MS, clock),
      store.health().catch(() => ({ available: false, message: null })),
      this.#target(),
    ]);
    this.#storeUp.set(health.available && counts !== null ? 1 : 0);
    this.#targetUp.set(target.reachable ? 1 : 0);
    this.#callsHere.set(this.#options.callsHere());
    this.#own.setDefaultLabels({ instance: name });
    // Asked at each scrape, as the instance's name: a local store is named after it.
    const storeLabels = { store: storeName(name) };
    this.#shared.setDefaultLabels(storeLabels);
    this.#limits.setDefaultLabels(storeLabels);
    this.#info.reset();
    this.#info.set(
      { version: this.#options.version, ...storeLabels, store_kind: this.#options.storeKind },
      1,
    );
    // The store's figures only when it could be read: none rather than stale ones.
    if (counts !== null) {
      for (const status of TASK_STATUSES) this.#taskGauge.set({ status }, counts[status]);
      this.#queueSize.set(counts.queued);
      this.#inFlight.set(counts.inFlight);
      this.#longTasks.set(counts.long);
      // Where a stuck call shows: it keeps growing, while long_tasks also counts finished ones.
      const [oldestStartedAt] = counts.inFlightStartedAt;
      this.#oldestCall.set(
        oldestStartedAt === undefined ? 0 : Math.max(0, clock.now() - oldestStartedAt) / 1000,
      );
      this.#retrying.set(counts.retrying);
      this.#callbacksPending.set(counts.callbacksPending);
    }
    const texts = await Promise.all([
      this.#own.metrics(),
      counts === null ? '' : this.#shared.metrics(),
      this.#limits.metrics(),
      processMetricsText(name),
    ]);
    return texts.filter((text) => text !== '').join('\n');
  }

  #target(): Promise<TargetProbeResult> {
    return this.#options
      .probeTarget()
      .catch((): TargetProbeResult => ({ reachable: false, latencyMs: null }));
  }

  #upstreamResponse(statusCode: number): Counter.Internal {
    let child = this.#upstreamResponsesByCode.get(statusCode);
    if (!child) {
      child = this.#upstreamResponses.labels(String(statusCode));
      this.#upstreamResponsesByCode.set(statusCode, child);
    }
    return child;
  }
}

function zeroed(counter: Counter.Internal): Counter.Internal {
  counter.inc(0);
  return counter;
}

/** What `read` answers, or null when it fails or takes longer than `ms`. */
async function answerWithin<T>(read: Promise<T>, ms: number, clock: Clock): Promise<T | null> {
  let answer: T | null = null;
  await waitAtMost(
    read.then(
      (value) => {
        answer = value;
      },
      () => undefined,
    ),
    ms,
    clock,
  );
  return answer;
}

/**
 * When a call's wait in the queue began: at admission for a first call, when it was due for a
 * retry (its backoff is no wait for the queue), when it went back in line for a call cut off.
 */
function waitBeganAt(task: Pick<TaskSummary, 'createdAt' | 'attemptLog'>): number {
  const previous = task.attemptLog.at(-1);
  if (previous === undefined) return task.createdAt;
  return previous.retryAt ?? previous.finishedAt;
}
