import { hostname } from 'node:os';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Dispatcher } from 'undici';
import { type Clock, systemClock, waitAtMost } from '../clock.js';
import { effectiveConcurrency, type ProxyConfig } from '../config/config.js';
import type { RecoveryReport, TaskBackend, TaskProcessor } from '../engine/task-backend.js';
import { EventStream, type EventStreamOptions } from '../events/event-stream.js';
import { TaskEventHub } from '../events/task-event-hub.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { storeLabel } from '../metrics/store-label.js';
import { TargetProbe } from '../upstream/target-probe.js';
import { forwardingProcessor } from '../upstream/task-processor.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { VERSION } from '../version.js';
import { Admission } from './admission.js';
import { Callbacks } from './callbacks.js';
import { createBackend } from './create-backend.js';
import { descriptorWaitLog } from './descriptor-wait-log.js';
import { HealthCheck } from './health-check.js';
import { Housekeeping } from './housekeeping.js';
import { InFlightReads } from './in-flight-reads.js';
import { Lifecycle } from './lifecycle.js';
import { refusalLog } from './refusal-log.js';
import { RequestOrigins } from './request-origins.js';
import { StatsReport } from './stats-report.js';
import { type ShutdownReport, stopSummary, stopTally } from './stop-tally.js';
import { storeErrorLog } from './store-error-log.js';
import { TaskControl } from './task-control.js';
import { logRequeued, TASK_LOG_LEVELS, taskLogger } from './task-log.js';
import { TaskPolicies } from './task-policies.js';
import { TaskViews } from './task-views.js';
import { Totals } from './totals.js';

/** Seams for tests and embedders; everything is built from the config when omitted. */
export interface ProxyDeps {
  /** Replaces the undici Pool bound to the target (e.g. undici's MockAgent). */
  dispatcher?: Dispatcher;
  /** Replaces the backend the config names (`--store`); the proxy opens and closes it. */
  backend?: TaskBackend;
  clock?: Clock;
  /** Event streams' heartbeat and unread-bytes limit (tests shorten the heartbeat). */
  eventStream?: Partial<Omit<EventStreamOptions, 'clock'>>;
  /** The wait before a callback's second delivery (tests shorten it). @default 1000 */
  callbackFirstRetryMs?: number;
  /** How long one callback delivery may take (tests shorten it). @default 10000 */
  callbackTimeoutMs?: number;
}

/**
 * How long a shutdown lets event streams send what they still hold (a task's last message,
 * read from the store) before it ends them.
 */
const STREAM_FINISH_MS = 1_000;

const EVENT_STREAM_DEFAULTS = {
  heartbeatMs: 15_000,
  maxUnreadBytes: 1024 * 1024,
  maxQueuedMessages: 20_000,
};

/** The proxy's units, each with one job; routes use the one they need. */
export interface ProxyServices {
  readonly config: ProxyConfig;
  readonly backend: TaskBackend;
  readonly lifecycle: Lifecycle;
  readonly admission: Admission;
  readonly tasks: TaskViews;
  readonly control: TaskControl;
  /** Fans the backend's events out to this process's event streams. */
  readonly events: TaskEventHub;
  /** Starts a Server-Sent Events answer on `reply`. */
  openEventStream(reply: FastifyReply): EventStream;
  /** Ends every open event stream: they would otherwise hold the server open. */
  endEventStreams(): void;
  readonly stats: StatsReport;
  readonly housekeeping: Housekeeping;
  readonly health: HealthCheck;
  /** Prometheus metrics: counted from the backend's events and admission, read at scrape. */
  readonly metrics: ProxyMetrics;
  /** Upstream calls this process is making now (on Redis, the store counts every instance's). */
  readonly callsHere: number;
  /** Callback deliveries this process is making or about to make (each waits its turn). */
  readonly deliveriesHere: number;
  /**
   * Callbacks waiting for a retry due within `withinMs`, which a stop with that grace makes: on
   * the memory store only (a durable store keeps them due for the next start).
   */
  retriesWithin(withinMs: number): number;
  /** What opening the store found; null until `open()` resolved. */
  readonly recovery: RecoveryReport | null;
  /**
   * Opens the store, recovering what a dead process left, and resumes the callbacks due. Runs
   * no task: a proxy that fails to start serving must leave its queue as it found it.
   */
  open(): Promise<RecoveryReport>;
  /** Starts running tasks and the housekeeping, once `open()` resolved. Idempotent. */
  start(): void;
  /**
   * Stops taking submissions (503 `shutting_down`) and starting tasks; calls in flight get
   * `graceMs` to end, then are cut off. Resolves with what the backend's stop reported and what
   * became of the calls in flight.
   * Idempotent. `signal`, the one that asked for the stop, is logged with the grace.
   */
  shutdown(graceMs: number, signal?: NodeJS.Signals): Promise<ShutdownReport>;
  /** Shutdown without grace if not done, then releases the store and the connections. */
  close(): Promise<void>;
}

/** Builds every unit from one config: the one place they are composed. */
export function createProxy(
  config: ProxyConfig,
  deps: ProxyDeps,
  log: FastifyBaseLogger,
  /** The port the server listens on, once it does: the default metrics instance name has it. */
  listeningPort: () => number | undefined = () => undefined,
): ProxyServices {
  const clock = deps.clock ?? systemClock;
  const concurrency = effectiveConcurrency(config);
  const backend =
    deps.backend ??
    createBackend({
      store: config.store,
      concurrency,
      maxQueueSize: config.maxQueueSize,
      maxTasks: config.maxTasks,
      delivery: config.delivery,
      longTaskThresholdMs: config.longTaskThresholdMs,
      maxRequeues: config.requeueInterrupted ? config.maxRequeues : 0,
      clock,
      onError: storeErrorLog(log, clock),
      onWarning: (message) => log.warn(message),
    });
  const upstream = new UpstreamClient(
    {
      target: config.target,
      timeoutMs: config.upstreamTimeoutMs,
      resultSizeLimitBytes: config.resultSizeLimitBytes,
      maxInFlight: concurrency,
      dropAuthorization: config.apiKey !== null,
      clock,
      onOutOfDescriptors: descriptorWaitLog(log, clock),
    },
    deps.dispatcher,
  );
  const probe = new TargetProbe(config.target, {
    dispatcher: deps.dispatcher,
    clock,
    callsInFlight: async () => (await backend.counts()).inFlight,
  });
  const lifecycle = new Lifecycle();
  const totals = new Totals();
  backend.subscribe(totals.record);
  const origins = new RequestOrigins(TASK_LOG_LEVELS.has(log.level));
  backend.subscribe(taskLogger(log, origins));
  const calls = callCounter(forwardingProcessor(upstream, clock));
  // One name for this process in its metrics and its /stats, so an answer can be matched to a
  // series. Asked each time: the port is known only once listening (port 0).
  const instance = () =>
    config.metricsInstance ?? `${hostname()}:${listeningPort() ?? config.listenPort}`;
  const metrics = new ProxyMetrics({
    store: backend,
    probeTarget: () => probe.probe(),
    instance,
    maxQueueSize: config.maxQueueSize,
    concurrency,
    version: VERSION,
    storeKind: backend.kind,
    storeName: (instance) => storeLabel(config.store, instance),
    clock,
    callsHere: () => calls.running,
  });
  backend.subscribe(metrics.record);
  const events = new TaskEventHub(backend, (error) =>
    log.error({ err: error }, 'telling an event stream'),
  );
  const streamOptions: EventStreamOptions = {
    clock,
    ...EVENT_STREAM_DEFAULTS,
    // --max-wait is how long a gateway in front lets a request stay silent: a heartbeat sooner.
    heartbeatMs: Math.min(EVENT_STREAM_DEFAULTS.heartbeatMs, config.maxWaitSeconds * 1000),
    stallMs: config.requestTimeoutMs,
    ...deps.eventStream,
  };
  const openStreams = new Set<EventStream>();
  const endEventStreams = () => {
    for (const stream of openStreams) stream.end();
  };
  const finishEventStreams = async () => {
    const closed = [...openStreams].map(
      (stream) => new Promise<void>((resolve) => stream.onClose(resolve)),
    );
    for (const stream of openStreams) stream.finish();
    await waitAtMost(Promise.all(closed), STREAM_FINISH_MS, clock);
    endEventStreams();
  };
  const housekeeping = new Housekeeping({
    backend,
    clock,
    log,
    retentionMs: config.retentionMs,
  });

  let recovery: RecoveryReport | null = null;
  let stopping: Promise<ShutdownReport> | null = null;
  let closing: Promise<void> | null = null;
  let started = false;
  const shutdown = (graceMs: number, signal?: NodeJS.Signals): Promise<ShutdownReport> => {
    stopping ??= (async () => {
      // On the task log, so a call cut off later (`interrupted`) has its cause just above it.
      if (signal !== undefined) log.info({ signal, graceMs }, 'shutting down');
      const { tally, count } = stopTally();
      const counting = backend.subscribe(count);
      lifecycle.beginShutdown();
      housekeeping.stop();
      // Callbacks go on while calls finish, so a task that finishes in the grace is delivered
      // too; what is still under way when the grace ends is cut off.
      const graceEndsAt = clock.monotonic() + graceMs;
      const report = { ...(await backend.stop(graceMs)), calls: tally };
      counting.close();
      // A start that failed ran no call: a stop line would read as though the proxy had run.
      if (started) log.info(tally, stopSummary(tally, report.unsavedOutcomes.length));
      if (report.notStarted > 0) {
        log.warn(
          { tasks: report.notStarted },
          `${report.notStarted === 1 ? '1 queued task' : `${report.notStarted} queued tasks`} ended interrupted: the memory store keeps nothing past the process`,
        );
      }
      await callbacks?.stop(Math.max(0, graceEndsAt - clock.monotonic()));
      lifecycle.endWaits();
      await finishEventStreams();
      return report;
    })();
    return stopping;
  };

  const policies = new TaskPolicies({
    delivery: config.delivery,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    apiKey: config.apiKey,
  });
  const pace = {
    concurrency,
    maxPerSecond: config.delivery.rateLimit?.perSecond ?? null,
  };
  const inFlight = new InFlightReads(backend, clock);
  const logRefusal = refusalLog(log, clock, config);
  const admission = new Admission(backend, lifecycle, totals, pace, clock, policies, inFlight, {
    origins,
    refused: (reason) => {
      metrics.refused(reason === 'tasks_full' ? 'queue_full' : reason);
      logRefusal(reason);
    },
  });
  const tasks = new TaskViews({
    backend,
    waitsOver: lifecycle.waitsOver,
    totals,
    clock,
    pace,
    longTaskThresholdMs: config.longTaskThresholdMs,
    inFlight,
  });
  const callbacks =
    config.delivery.callbacks &&
    new Callbacks({
      backend,
      tasks,
      clock,
      log,
      secret: config.delivery.callbacks.secret,
      maxAttempts: config.delivery.callbacks.maxAttempts,
      allows: (url) => policies.allowsCallbackTo(url),
      onSettled: (delivered) => {
        if (delivered) totals.callbacksDelivered++;
        else totals.callbacksFailed++;
        metrics.callbackSettled(delivered);
      },
      ...(deps.callbackFirstRetryMs === undefined
        ? {}
        : { firstRetryMs: deps.callbackFirstRetryMs }),
      ...(deps.callbackTimeoutMs === undefined ? {} : { timeoutMs: deps.callbackTimeoutMs }),
    });
  return {
    config,
    backend,
    lifecycle,
    admission,
    tasks,
    control: new TaskControl(backend, admission, tasks, origins),
    events,
    openEventStream(reply) {
      const stream = new EventStream(reply, streamOptions);
      openStreams.add(stream);
      stream.onClose(() => openStreams.delete(stream));
      return stream;
    },
    endEventStreams,
    stats: new StatsReport({ config, backend, totals, clock, concurrency, instance }),
    housekeeping,
    metrics,
    health: new HealthCheck(config.target.url, probe, backend, lifecycle),
    get callsHere() {
      return calls.running;
    },
    get deliveriesHere() {
      return callbacks ? callbacks.underWay : 0;
    },
    retriesWithin(withinMs) {
      return callbacks ? callbacks.waitingRetries(withinMs) : 0;
    },
    get recovery() {
      return recovery;
    },
    async open() {
      recovery = await backend.open();
      // The start line counts them; these name them, as a transition of this run's would be.
      for (const taskId of recovery.requeuedIds ?? []) logRequeued(log, taskId);
      for (const taskId of recovery.interruptedIds ?? []) {
        log.warn({ taskId, error: 'interrupted' }, 'task failed');
      }
      totals.recovered(recovery);
      metrics.recovered(recovery);
      await callbacks?.start();
      return recovery;
    },
    start() {
      if (recovery === null)
        throw new Error('start() before open() resolved: the store is not open');
      if (started || stopping) return;
      started = true;
      backend.start(calls.processor);
      housekeeping.start();
    },
    shutdown,
    close() {
      closing ??= (async () => {
        await shutdown(0);
        await callbacks?.stop();
        events.close();
        await backend.close();
        await Promise.all([upstream.close(), probe.close()]);
      })();
      return closing;
    },
  };
}

/** The processor, counting the calls it is making: this instance's share of the store's. */
function callCounter(processor: TaskProcessor): { processor: TaskProcessor; running: number } {
  const counter = {
    running: 0,
    processor: async (...args: Parameters<TaskProcessor>) => {
      counter.running++;
      try {
        return await processor(...args);
      } finally {
        counter.running--;
      }
    },
  };
  return counter;
}
