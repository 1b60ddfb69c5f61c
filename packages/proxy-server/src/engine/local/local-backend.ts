import { isTerminalStatus } from 'proxy-client/wire';
import { type Clock, systemClock, type Timer, wallToMonotonic } from '../../clock.js';
import { FinishWaiters, waitForFinish } from '../finish-waiters.js';
import { REMOVE_BATCH, removeInBatches } from '../remove-in-batches.js';
import { NEVER_RETRY, type RetryDecision } from '../retry-policy.js';
import {
  isDamagedDatabaseError,
  isStoreUnavailableError,
  StoreUnavailableError,
} from '../store-unavailable.js';
import {
  type AdmitResult,
  type BackendCounts,
  busiestTenants,
  type CancelResult,
  type ListenerCounts,
  type ListQuery,
  type RecoveryReport,
  type StopReport,
  type StoreHealth,
  type SubscribeOptions,
  type Subscription,
  type TaskBackend,
  type TaskEventListener,
  type TaskPage,
  type TaskProcessor,
  type TransitionEvent,
} from '../task-backend.js';
import { taskError } from '../task-error.js';
import {
  admittedSummary,
  type CallbackState,
  cutOffsOf,
  isCutOff,
  type NewTask,
  pastMaxRequeues,
  retriedAttempt,
  type TaskOutcome,
  type TaskRecord,
  type TaskRequest,
  type TaskSummary,
} from '../task-record.js';
import { WakeTimer } from '../wake-timer.js';
import { EventWindow } from './event-window.js';
import { GroupCommit } from './group-commit.js';
import { RateLimiter } from './rate-limiter.js';
import { type QueueEntry, TaskScheduler } from './scheduler.js';
import type {
  QueuedRow,
  StartedRow,
  SummaryRow,
  TaskRepository,
  TaskRow,
} from './task-repository.js';

export interface LocalBackendOptions {
  /** Most upstream calls in flight at once. */
  concurrency: number;
  /** Most tasks waiting in line; one more is refused, unless a lower priority's newest is shed. */
  maxQueueSize: number;
  /**
   * Most tasks held, whatever their status: admitting one more first removes the oldest
   * finished tasks, and is refused when none is finished. Null: no cap.
   */
  maxTasks?: number | null;
  /** Processing time after which a task counts as long. */
  longTaskThresholdMs: number;
  /**
   * How many times a task cut off by a shutdown or left processing by a dead process goes back
   * to the queue (only where the store outlives the process); the cut-off after that fails it
   * `interrupted`, as every one does with 0.
   */
  maxRequeues: number;
  clock?: Clock;
  /** Hears the store failures the backend recovers from (it retries), for the log. */
  onError?: (error: unknown, doing: string) => void;
  /** Events kept for subscribers resuming after one they saw. @default 10000 */
  eventWindow?: number;
  /** Whether and when a failed call is tried again; never by default. */
  retry?: RetryDecision;
  /** Most calls started per second, `burst` at once after a quiet spell; null: no limit. */
  rateLimit?: { perSecond: number; burst: number } | null;
  /** Most calls in flight for one tenant (fair sharing); null: no cap. */
  tenantMaxInFlight?: number | null;
  /** Most tasks queued for one tenant; one more is refused for that tenant only. */
  tenantMaxQueued?: number | null;
}

/** A task whose upstream call is in flight. */
interface Running {
  readonly id: string;
  readonly entry: QueueEntry;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly startedAt: number;
  /** `startedAt` on the monotonic clock, which the call's length is measured on. */
  readonly startedSteady: number;
  readonly controller: AbortController;
  /** Calls of the task cut off before this one, each followed by a requeue. */
  readonly cutOffs: number;
  /** Set when the backend aborted the call for a shutdown. */
  stoppedForShutdown: boolean;
  /** Set when the task was cancelled: its outcome, when it comes, is not saved. */
  cancelled: boolean;
}

/** A finish that could not be saved yet; retried until it is. */
interface UnsavedFinish {
  outcome: TaskOutcome;
  completedAt: number;
  isLong: boolean;
  /** How long the call that ended the task took (monotonic); none when no call did. */
  processingMs?: number;
}

const NOT_STARTED: TaskOutcome = {
  status: 'failed',
  result: null,
  error: taskError('interrupted', 'it was still queued, and a --store memory proxy keeps no queue'),
};
const LEFT_BY_DEAD_PROCESS: TaskOutcome = {
  status: 'failed',
  result: null,
  error: taskError('interrupted', 'its upstream call was in flight'),
};
const CANCELLED: TaskOutcome = { status: 'cancelled', result: null, error: null };
const EXPIRED: TaskOutcome = { status: 'expired', result: null, error: taskError('expired') };
const SHED: TaskOutcome = { status: 'failed', result: null, error: taskError('shed') };
const RETRY_DELAY_MS = { first: 100, max: 5_000 } as const;

/**
 * The backend of a single process: a `TaskRepository` (memory or SQLite) for the tasks, a
 * `TaskScheduler` for the queue (priorities, tenants, retries and deadlines), and the calls in
 * flight. Everything here runs on one thread and the repository is synchronous, so a task's
 * state changes in one step and two transitions never interleave.
 *
 * With a durable repository, the writes of one turn of the event loop are committed together
 * (group commit) before anything depends on them: the 202 of an admission, the upstream call of
 * a start (so a crash can never make a task run twice), the event of a finish.
 */
export class LocalBackend implements TaskBackend {
  readonly kind: TaskBackend['kind'];
  readonly #repo: TaskRepository;
  readonly #options: LocalBackendOptions;
  readonly #clock: Clock;
  readonly #queue: TaskScheduler;
  readonly #limiter: RateLimiter | null;
  readonly #retryDecision: RetryDecision;
  readonly #wakeTimer: WakeTimer;
  /** In start order, so the first is the oldest. */
  readonly #running = new Map<string, Running>();
  readonly #waiters = new FinishWaiters();
  readonly #events: EventWindow;
  readonly #unsaved = new Map<string, UnsavedFinish>();
  /** Tasks cut off by the stop whose requeue the store did not take, with when their call ended. */
  readonly #unsavedRequeues = new Map<string, number>();
  /** Admissions written and not yet committed: they hold a place in the queue. */
  #admitting = 0;
  /** The same, per tenant, kept under `tenantMaxQueued` only: they hold a place in its share. */
  readonly #admittingOf = new Map<string, number>();
  #nextSeq = 1;
  #processor: TaskProcessor | null = null;
  readonly #commits: GroupCommit;
  #retryTimer: Timer | null = null;
  #retryDelayMs: number = RETRY_DELAY_MS.first;
  #failure: string | null = null;
  /** The last failure will not pass by waiting: a damaged file, one removed under the proxy. */
  #failureLasts = false;
  #stopping = false;
  #stopped: Promise<StopReport> | null = null;
  #closed: Promise<void> | null = null;
  #idle: (() => void)[] = [];

  constructor(repository: TaskRepository, options: LocalBackendOptions) {
    this.kind = repository.kind;
    this.#repo = repository;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#queue = new TaskScheduler(options.tenantMaxInFlight ?? null);
    const rate = options.rateLimit ?? null;
    this.#limiter = rate && new RateLimiter(rate.perSecond, rate.burst, this.#clock.monotonic());
    this.#retryDecision = options.retry ?? NEVER_RETRY;
    this.#wakeTimer = new WakeTimer(this.#clock, () => this.#pump());
    this.#commits = new GroupCommit(repository.durable, () => repository.commit(), {
      succeeded: () => {
        if (this.#failure !== null) this.#succeeded();
      },
      failed: (error) => this.#failed(error, 'committing'),
    });
    this.#events = new EventWindow(
      options.eventWindow ?? 10_000,
      this.#clock.now(),
      (error, type) => options.onError?.(error, `telling a listener about a ${type} event`),
    );
  }

  async open(): Promise<RecoveryReport> {
    const opened = this.#repo.open();
    this.#nextSeq = opened.nextSeq;
    const now = this.#clock.now();
    const requeued: QueuedRow[] = [];
    const spent: string[] = [];
    const interrupted: string[] = [];
    const { maxRequeues } = this.#options;
    try {
      for (const task of opened.processing) {
        if (this.#repo.durable && task.cutOffs < maxRequeues) {
          this.#repo.requeue(task.id, now);
          requeued.push(task);
          continue;
        }
        if (this.#repo.durable && maxRequeues > 0) {
          this.#repo.finish(task.id, pastMaxRequeues(maxRequeues), now, false);
          spent.push(task.id);
        } else {
          this.#repo.finish(task.id, LEFT_BY_DEAD_PROCESS, now, false);
        }
        interrupted.push(task.id);
      }
      this.#repo.commit();
    } catch (error) {
      // The first writes of a restart after the disk filled: the store's words for its open.
      throw this.#repo.refusalAtStart?.(error) ?? error;
    }
    // Read once: a million tasks need not read both clocks each.
    const wallNow = this.#clock.now();
    const offset = this.#clock.monotonic() - wallNow;
    // A wait is never longer than the one it was given: with the wall clock behind the one that
    // stored it (a start before NTP sets the time), `at` alone would be as far off as the clock.
    const steady = (at: number, since: number | null) =>
      (since === null ? at : Math.min(at, wallNow + at - since)) + offset;
    for (const task of [...opened.pending, ...requeued]) {
      if (task.nextAttemptAt !== null) {
        this.#queue.addDelayed(entryOf(task), steady(task.nextAttemptAt, task.waitingSince));
      } else {
        const { deadlineAt } = task;
        this.#queue.add(
          entryOf(task),
          deadlineAt === null ? null : steady(deadlineAt, task.waitingSince),
        );
      }
    }
    return {
      pending: opened.pending.length,
      requeued: requeued.length,
      requeuedIds: requeued.map((task) => task.id),
      interrupted: interrupted.length,
      interruptedIds: interrupted,
      pastMaxRequeues: spent,
      total: this.#repo.counts().total,
      finishedCalls: opened.finishedCalls,
      schemaUpgrade: opened.schemaUpgrade,
    };
  }

  admit(task: NewTask): Promise<AdmitResult> {
    let known: { id: string; requestHash: string | null } | undefined;
    try {
      known =
        task.idempotencyKey === null
          ? undefined
          : this.#repo.findByIdempotencyKey(task.idempotencyKey);
    } catch (error) {
      return Promise.reject(this.#unavailable('reading an idempotency key', error));
    }
    if (known) return this.#answerKnown(known, task);
    const { policy } = task;
    const tenant = policy.tenant ?? '';
    const tenantCap = this.#options.tenantMaxQueued ?? null;
    if (tenantCap !== null) {
      const tenantQueued = this.#queue.tenantQueued(tenant) + (this.#admittingOf.get(tenant) ?? 0);
      if (tenantQueued >= tenantCap) {
        return Promise.resolve({ ok: false, reason: 'tenant_queue_full', queued: tenantQueued });
      }
    }
    const queued = this.#queue.size + this.#admitting;
    // Both checks come before anything changes, as on Redis: a refused submission sheds no task.
    const victim =
      queued >= this.#options.maxQueueSize ? this.#queue.newestBelow(policy.priority) : null;
    if (victim === undefined) return Promise.resolve({ ok: false, reason: 'queue_full', queued });
    try {
      if (!this.#makeRoom()) return Promise.resolve({ ok: false, reason: 'tasks_full', queued });
    } catch (error) {
      return Promise.reject(this.#unavailable('making room for a task', error));
    }
    const seq = this.#nextSeq++;
    let shed: SummaryRow | undefined;
    try {
      // Both writes or neither: a newcomer the store refused must not have shed a task.
      shed = victim
        ? this.#repo.atomically(() => {
            const row = this.#repo.finish(victim.id, SHED, this.#clock.now(), false);
            this.#repo.insert(seq, task);
            return row;
          })
        : void this.#repo.insert(seq, task);
    } catch (error) {
      return Promise.reject(this.#unavailable('saving a new task', error));
    }
    if (victim) this.#shed(victim, shed);
    this.#countAdmitting(tenant, 1);
    return new Promise((resolve, reject) => {
      this.#commits.after({
        committed: () => {
          this.#countAdmitting(tenant, -1);
          this.#queue.add(
            { id: task.id, order: seq, priority: policy.priority, tenant },
            this.#steadyDeadline(policy.deadlineAt),
          );
          this.#emit('created', createdSummary(task, seq));
          resolve({ ok: true, taskId: task.id, existing: false });
          this.#pump();
        },
        failed: (error) => {
          this.#countAdmitting(tenant, -1);
          reject(this.#unavailable('saving a new task', error));
        },
      });
    });
  }

  #countAdmitting(tenant: string, by: 1 | -1): void {
    this.#admitting += by;
    if ((this.#options.tenantMaxQueued ?? null) === null) return;
    const admitting = (this.#admittingOf.get(tenant) ?? 0) + by;
    if (admitting === 0) this.#admittingOf.delete(tenant);
    else this.#admittingOf.set(tenant, admitting);
  }

  /**
   * A full queue makes room for a task by dropping `victim`, the newest task of the lowest level
   * below the new one's (`newestBelow`): it ends failed, `shed`, as `row` (written) says.
   */
  #shed(victim: QueueEntry, row: SummaryRow | undefined): void {
    this.#queue.remove(victim);
    if (row) {
      this.#commits.after({
        committed: () => this.#finished(victim.id, row),
        failed: () => this.#queue.add(victim, this.#firstStartDeadline(row, 0)),
      });
    }
  }

  /**
   * Under `maxTasks`, removes as many of the oldest finished tasks as one more task needs;
   * false when too few were finished to make room. At most a batch at a time: a store far over
   * the cap (a restart with a lower `--max-tasks`) comes down a batch per admission, as one
   * removal of all of it would hold the thread for seconds.
   */
  #makeRoom(): boolean {
    const { maxTasks } = this.#options;
    if (maxTasks === null || maxTasks === undefined) return true;
    const excess = this.#repo.counts().total + 1 - maxTasks;
    if (excess <= 0) return true;
    const wanted = Math.min(excess, REMOVE_BATCH);
    const removed = this.#repo.removeOldestFinished(wanted);
    if (removed > 0) {
      this.#commits.after({
        committed: () => this.#events.publish({ type: 'removed', count: removed, local: true }),
        failed: () => undefined,
      });
    }
    return removed === wanted;
  }

  /**
   * A task already holds this idempotency key. Answered once whatever wrote it is committed
   * too, so no caller hears of a task that a crash could still take back.
   */
  #answerKnown(
    known: { id: string; requestHash: string | null },
    task: NewTask,
  ): Promise<AdmitResult> {
    const answer: AdmitResult =
      known.requestHash === task.requestHash
        ? { ok: true, taskId: known.id, existing: true }
        : { ok: false, reason: 'idempotency_conflict', taskId: known.id };
    return new Promise((resolve, reject) => {
      this.#commits.after({
        committed: () => resolve(answer),
        failed: (error) => reject(this.#unavailable('reading an idempotency key', error)),
      });
    });
  }

  cancel(id: string): Promise<CancelResult> {
    let row: TaskRow | undefined;
    try {
      row = this.#repo.get(id);
    } catch (error) {
      return Promise.reject(this.#unavailable('reading a task', error));
    }
    if (!row) return Promise.resolve({ ok: false, reason: 'not_found' });
    if (isTerminalStatus(row.status)) {
      return Promise.resolve({ ok: false, reason: 'finished', task: this.#recordOf(row) });
    }
    const entry = entryOf(row);
    const inLine = row.status === 'pending' && this.#queue.remove(entry);
    const run = this.#running.get(id);
    const processingMs = run ? this.#clock.monotonic() - run.startedSteady : undefined;
    const isLong = processingMs !== undefined && processingMs > this.#options.longTaskThresholdMs;
    const completedAt = this.#clock.now();
    let saved: SummaryRow | undefined;
    try {
      saved = this.#repo.finish(id, CANCELLED, completedAt, isLong);
    } catch (error) {
      if (inLine) this.#restore(row);
      return Promise.reject(this.#unavailable('cancelling a task', error));
    }
    if (!saved) return this.cancel(id);
    if (run) {
      run.cancelled = true;
      run.controller.abort(new Error('the task was cancelled'));
    }
    const unsaved = this.#unsaved.get(id);
    this.#unsaved.delete(id);
    const cancelled = saved;
    return new Promise((resolve, reject) => {
      this.#commits.after({
        committed: () => {
          this.#finished(id, cancelled, processingMs);
          const task = this.#repo.get(id);
          resolve(
            task ? { ok: true, task: this.#recordOf(task) } : { ok: false, reason: 'not_found' },
          );
        },
        failed: (error) => {
          // Rolled back: the task is as it was, and goes on as it would have; but a call
          // aborted already ends the task cancelled all the same, saved once the store takes it.
          if (inLine) this.#restore(row);
          if (unsaved) this.#saveLater(id, unsaved, error);
          else if (run)
            this.#saveLater(id, { outcome: CANCELLED, completedAt, isLong, processingMs }, error);
          reject(this.#unavailable('cancelling a task', error));
        },
      });
    });
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const row = this.#read('reading a task', () => this.#repo.get(id));
    return row && this.#recordOf(row);
  }

  async getRequest(id: string): Promise<TaskRequest | undefined> {
    return this.#read('reading a request', () => this.#repo.getRequest(id));
  }

  async list(query: ListQuery): Promise<TaskPage> {
    const page = this.#read('listing tasks', () => this.#repo.list(query));
    return { tasks: page.rows.map((row) => this.#summaryOf(row)), total: page.total };
  }

  async counts(): Promise<BackendCounts> {
    const counts = this.#read('counting tasks', () => this.#repo.counts());
    const steadyNow = this.#clock.monotonic();
    // Read once, not per call: thousands in flight would each read the clock.
    const now = this.#clock.now();
    let long = counts.long;
    const inFlightStartedAt: number[] = [];
    // In start order, so the longest-running first.
    for (const run of this.#running.values()) {
      const ranMs = steadyNow - run.startedSteady;
      // Read as an age (estimates, metrics): as long ago as the call has really run, not
      // its start time, which is off by any step of the wall clock since.
      inFlightStartedAt.push(now - ranMs);
      if (ranMs > this.#options.longTaskThresholdMs) long++;
    }
    return {
      ...counts,
      long,
      queued: this.#queue.size,
      inFlight: this.#running.size,
      inFlightStartedAt,
      retrying: this.#queue.size - this.#queue.readySize,
      tenants: busiestTenants(this.#queue.tenantLoads()),
    };
  }

  removeFinished(completedBefore: number): Promise<number> {
    return removeInBatches(
      () => this.#removeBatch(completedBefore),
      () => this.#stopping,
    );
  }

  #removeBatch(completedBefore: number): Promise<number> {
    let removed: number;
    try {
      removed = this.#repo.removeFinished(completedBefore, REMOVE_BATCH);
    } catch (error) {
      return Promise.reject(this.#unavailable('removing finished tasks', error));
    }
    return new Promise((resolve, reject) => {
      this.#commits.after({
        committed: () => {
          if (removed > 0) this.#events.publish({ type: 'removed', count: removed, local: true });
          resolve(removed);
        },
        failed: (error) => reject(this.#unavailable('removing finished tasks', error)),
      });
    });
  }

  setCallback(id: string, callback: CallbackState): Promise<boolean> {
    let found: boolean;
    try {
      found = this.#repo.setCallback(id, callback);
    } catch (error) {
      return Promise.reject(this.#unavailable('saving a callback delivery', error));
    }
    return new Promise((resolve, reject) => {
      this.#commits.after({
        committed: () => resolve(found),
        failed: (error) => reject(this.#unavailable('saving a callback delivery', error)),
      });
    });
  }

  async pendingCallbacks(): Promise<{ id: string; callback: CallbackState }[]> {
    return this.#read('reading callbacks', () => this.#repo.pendingCallbacks());
  }

  waitForFinish(id: string, signal: AbortSignal): Promise<TaskRecord | undefined> {
    return waitForFinish(
      this.#waiters,
      id,
      signal,
      () => {
        const row = this.#read('reading a task', () => this.#repo.get(id));
        return row && this.#recordOf(row);
      },
      (task) => isTerminalStatus(task.status),
    );
  }

  subscribe(listener: TaskEventListener, options: SubscribeOptions = {}): Subscription {
    return this.#events.subscribe(listener, {
      after: options.after,
      resumable: options.resumable === true || options.after !== undefined,
    });
  }

  listenerCounts(): ListenerCounts {
    return { subscribers: this.#events.size, waiters: this.#waiters.size };
  }

  start(processor: TaskProcessor): void {
    this.#processor = processor;
    this.#pump();
  }

  stop(graceMs: number): Promise<StopReport> {
    this.#stopped ??= this.#stop(graceMs);
    return this.#stopped;
  }

  close(): Promise<void> {
    this.#closed ??= this.stop(0).then(() => {
      if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
      this.#wakeTimer.cancel();
      this.#repo.close();
    });
    return this.#closed;
  }

  async health(): Promise<StoreHealth> {
    // A failure already told stays told; a file removed while no write came is found here.
    if (this.#failure === null) {
      try {
        this.#repo.checkFiles();
      } catch (error) {
        this.#failed(error, 'checking its files');
      }
    }
    return { available: this.#failure === null, message: this.#failure };
  }

  /**
   * Starts queued tasks while slots are free (and the rate limit allows): first retries that
   * have come due join the queue and queued tasks past their deadline expire.
   */
  #pump(): void {
    const processor = this.#processor;
    if (processor === null || this.#stopping) return;
    const now = this.#clock.now();
    const steadyNow = this.#clock.monotonic();
    this.#queue.promote(steadyNow);
    this.#expire(steadyNow, now);
    // Outcomes the store could not take wait in memory: no new call adds to them meanwhile.
    while (
      this.#unsaved.size === 0 &&
      this.#running.size < this.#options.concurrency &&
      this.#queue.readySize > 0
    ) {
      if (this.#limiter && !this.#limiter.hasToken(steadyNow)) {
        this.#wakeAt(this.#limiter.nextTokenAt(steadyNow));
        break;
      }
      const entry = this.#queue.take();
      if (!entry) break;
      let started: StartedRow | undefined;
      try {
        started = this.#repo.start(entry.id, now);
      } catch (error) {
        this.#queue.add(entry);
        this.#failed(error, 'starting a task');
        this.#retryLater();
        return;
      }
      // No longer pending (cancelled while its admission was being committed): skip it.
      if (!started) continue;
      this.#limiter?.take(steadyNow);
      const { task, request, timeoutMs } = started;
      const run: Running = {
        id: entry.id,
        entry,
        attempt: task.attempts,
        maxAttempts: task.maxAttempts,
        startedAt: now,
        startedSteady: steadyNow,
        controller: new AbortController(),
        cutOffs: cutOffsOf(task.attemptLog),
        stoppedForShutdown: false,
        cancelled: false,
      };
      this.#running.set(run.id, run);
      this.#queue.started(entry.tenant);
      this.#commits.after({
        committed: () => {
          this.#emit('started', task);
          // Cancelled before its start was committed: no call, and its slot is free again.
          if (run.cancelled) this.#callEnded(run, CANCELLED);
          else this.#call(processor, run, request, timeoutMs);
        },
        failed: (error) => {
          this.#running.delete(run.id);
          this.#queue.ended(entry.tenant);
          this.#queue.add(entry, this.#firstStartDeadline(task, 1));
          this.#failed(error, 'starting a task');
          this.#retryLater();
        },
      });
    }
    this.#wakeAt(this.#queue.nextWakeAt());
  }

  /** Ends the queued tasks whose deadline has passed (`expired`). */
  #expire(steadyNow: number, now: number): void {
    for (const entry of this.#queue.expire(steadyNow)) {
      this.#save(entry.id, { outcome: EXPIRED, completedAt: now, isLong: false });
    }
  }

  /**
   * Pumps again at `at`, a monotonic reading (or sooner, if already due sooner); one timer for
   * everything.
   */
  #wakeAt(at: number | null): void {
    if (at !== null && !this.#stopping) this.#wakeTimer.at(at);
  }

  #call(
    processor: TaskProcessor,
    run: Running,
    request: TaskRequest,
    timeoutMs: number | null,
  ): void {
    let outcome: Promise<TaskOutcome>;
    try {
      outcome = processor(
        { id: run.id, request, attempt: run.attempt, timeoutMs },
        run.controller.signal,
      );
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (ended) => this.#callEnded(run, ended),
      (error: unknown) =>
        this.#callEnded(run, {
          status: 'failed',
          result: null,
          error: taskError('upstream_error', `the proxy failed to forward it: ${String(error)}`),
        }),
    );
  }

  #callEnded(run: Running, outcome: TaskOutcome): void {
    if (this.#running.get(run.id) !== run) return;
    this.#running.delete(run.id);
    this.#queue.ended(run.entry.tenant);
    const completedAt = this.#clock.now();
    // A stop is no reason to give up on a task with attempts left: a durable store keeps its
    // retry for the next start. Only a call the stop cut off, or a store that dies with the
    // process, ends with this outcome.
    const retryInMs =
      run.stoppedForShutdown || (this.#stopping && !this.#repo.durable)
        ? null
        : this.#retryDecision(outcome, run.attempt, run.maxAttempts);
    const { maxRequeues } = this.#options;
    // Flagged by the stop as its call ended on its own (an answer in hand): that answer stands.
    const requeueing =
      run.stoppedForShutdown && isCutOff(outcome) && this.#repo.durable && maxRequeues > 0;
    if (run.cancelled) {
      // Cancelled while in flight: the cancel wrote the task's end.
    } else if (requeueing && run.cutOffs < maxRequeues) {
      this.#requeue(run.id, completedAt);
    } else if (retryInMs !== null) {
      this.#scheduleRetry(run, outcome, completedAt, completedAt + retryInMs);
    } else {
      const processingMs = this.#clock.monotonic() - run.startedSteady;
      const isLong = processingMs > this.#options.longTaskThresholdMs;
      // Past the cap, the task's end says why it did not go back in line.
      const ended = requeueing ? pastMaxRequeues(maxRequeues) : outcome;
      this.#save(run.id, { outcome: ended, completedAt, isLong, processingMs });
    }
    if (this.#running.size === 0) for (const wake of this.#idle.splice(0)) wake();
    this.#pump();
  }

  /** Writes a finish; one that cannot be saved now is kept and retried, never dropped. */
  #save(id: string, finish: UnsavedFinish): void {
    let row: SummaryRow | undefined;
    try {
      row = this.#repo.finish(id, finish.outcome, finish.completedAt, finish.isLong);
    } catch (error) {
      this.#saveLater(id, finish, error);
      return;
    }
    // Already finished: a cancel got there first.
    if (!row) return;
    const saved = row;
    this.#commits.after({
      committed: () => this.#finished(id, saved, finish.processingMs),
      failed: (error) => this.#saveLater(id, finish, error),
    });
  }

  /** A finish is durable: tell the listeners, then whoever waits for this task. */
  #finished(id: string, row: SummaryRow, processingMs?: number): void {
    this.#emit('finished', row, processingMs);
    if (!this.#waiters.has(id)) return;
    const task = this.#repo.get(id);
    if (task) this.#waiters.finished(this.#recordOf(task));
  }

  /** The call failed in a way worth another try: the task waits in the queue until `runAt`. */
  #scheduleRetry(run: Running, outcome: TaskOutcome, finishedAt: number, runAt: number): void {
    const attempt = retriedAttempt(run, outcome, finishedAt, runAt);
    // Should it not be put back, the call's outcome is its end, timed like any other.
    const end = {
      outcome,
      completedAt: finishedAt,
      isLong: false,
      processingMs: this.#clock.monotonic() - run.startedSteady,
    };
    const order = this.#nextSeq++;
    let row: SummaryRow | undefined;
    try {
      row = this.#repo.retry(run.id, attempt, runAt, order);
    } catch (error) {
      this.#failed(error, `scheduling a retry of task ${run.id}`);
      this.#save(run.id, end);
      return;
    }
    if (!row) return;
    const retrying = row;
    const entry = { ...run.entry, order };
    this.#commits.after({
      committed: () => {
        this.#emit('retrying', retrying);
        // A cancel between the write and its commit found it in no line: it must not join one.
        if (!this.#stillPending(run.id)) return;
        const due = this.#steady(runAt);
        this.#queue.addDelayed(entry, due);
        this.#wakeAt(due);
      },
      failed: (error) => {
        this.#failed(error, `scheduling a retry of task ${run.id}`);
        this.#save(run.id, end);
      },
    });
  }

  /** Whether a task is still pending; one that cannot be read is taken to be (a start checks). */
  #stillPending(id: string): boolean {
    try {
      return this.#repo.get(id)?.status === 'pending';
    } catch {
      return true;
    }
  }

  #saveLater(id: string, finish: UnsavedFinish, error: unknown): void {
    this.#unsaved.set(id, finish);
    this.#failed(error, `saving the outcome of task ${id} (kept, retried)`);
    this.#retryLater();
  }

  /** Kept and retried, as a finish is, when the store does not take it. */
  #requeue(id: string, endedAt: number): void {
    const failed = (error: unknown) => {
      this.#unsavedRequeues.set(id, endedAt);
      this.#failed(error, `requeueing task ${id}`);
    };
    try {
      const row = this.#repo.requeue(id, endedAt);
      if (!row) return;
      // A durable store only: this process is stopping, the next one queues it at open.
      this.#commits.after({ committed: () => this.#emit('requeued', row), failed });
    } catch (error) {
      failed(error);
    }
  }

  /** Retries unsaved finishes and starts after a delay that doubles while the store fails. */
  #retryLater(): void {
    if (this.#retryTimer !== null) return;
    const delay = this.#retryDelayMs;
    this.#retryDelayMs = Math.min(RETRY_DELAY_MS.max, delay * 2);
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = null;
      this.#retrySaves();
      this.#pump();
    }, delay);
    this.#retryTimer.unref?.();
  }

  #retrySaves(): void {
    const unsaved = [...this.#unsaved];
    this.#unsaved.clear();
    for (const [id, finish] of unsaved) this.#save(id, finish);
    const requeues = [...this.#unsavedRequeues];
    this.#unsavedRequeues.clear();
    for (const [id, endedAt] of requeues) this.#requeue(id, endedAt);
  }

  async #stop(graceMs: number): Promise<StopReport> {
    // Monotonic, as every wait here: a wall clock stepped meanwhile neither stretches the grace
    // nor ends it.
    const graceEndsAt = this.#clock.monotonic() + graceMs;
    this.#stopping = true;
    let notStarted = 0;
    if (!this.#repo.durable) {
      // Nothing queued here outlives the process: say so now, not at exit.
      const now = this.#clock.now();
      for (const task of this.#queue.drain()) {
        this.#save(task.id, { outcome: NOT_STARTED, completedAt: now, isLong: false });
        notStarted++;
      }
    }
    if (this.#running.size > 0 && !(await this.#idleWithin(graceMs))) {
      for (const run of this.#running.values()) {
        run.stoppedForShutdown = true;
        run.controller.abort(new Error('the proxy is shutting down'));
      }
      await this.#idleWithin(Number.POSITIVE_INFINITY);
    }
    this.#retrySaves();
    this.#commits.flush();
    return { unsavedOutcomes: await this.#savedWithin(graceEndsAt), notStarted };
  }

  /**
   * Tries the outcomes (and requeues) the store has not taken yet until `deadline`, a reading of
   * the monotonic clock (a full disk may get room), or not at all once the store's failure is one
   * that waiting will not mend (the stop would sit out the grace for nothing); those left are
   * lost, and said so by task, since the restart cannot tell: it finds their tasks as they were
   * before (processing, or pending for one that expired in line). Resolves with their ids.
   */
  async #savedWithin(deadline: number): Promise<string[]> {
    const unsavedCount = () => this.#unsaved.size + this.#unsavedRequeues.size;
    for (let delay = RETRY_DELAY_MS.first; unsavedCount() > 0; delay *= 2) {
      const left = deadline - this.#clock.monotonic();
      if (left <= 0 || this.#failureLasts) break;
      await new Promise<void>((resolve) => {
        this.#clock.setTimeout(resolve, Math.min(delay, left, RETRY_DELAY_MS.max));
      });
      this.#retrySaves();
      this.#commits.flush();
    }
    // A requeue not taken leaves its task processing, as an outcome not saved does.
    const ids = [...this.#unsaved.keys(), ...this.#unsavedRequeues.keys()];
    if (ids.length === 0) return ids;
    const lost =
      ids.length === 1
        ? 'the outcome of 1 task could not be saved before the stop and is lost'
        : `the outcomes of ${ids.length} tasks could not be saved before the stop and are lost`;
    this.#options.onError?.(new Error(`${lost}: ${ids.join(', ')}`), 'stopping');
    return ids;
  }

  /** Resolves true once no call is in flight, or false after `ms`. */
  #idleWithin(ms: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: Timer | null = null;
      const wake = () => {
        if (timer !== null) this.#clock.clearTimeout(timer);
        resolve(true);
      };
      this.#idle.push(wake);
      if (Number.isFinite(ms)) {
        timer = this.#clock.setTimeout(() => {
          this.#idle = this.#idle.filter((waiting) => waiting !== wake);
          resolve(false);
        }, ms);
      }
    });
  }

  #emit(type: TransitionEvent['type'], row: SummaryRow, processingMs?: number): void {
    this.#events.publish({ type, task: this.#summaryOf(row), local: true, processingMs });
  }

  /** Rows are fresh copies made for each read: the place in line is filled in on them. */
  #recordOf(row: TaskRow): TaskRecord {
    row.queuePosition = this.#positionOf(row);
    row.runningMs = this.#runningMsOf(row);
    return row;
  }

  #summaryOf(row: SummaryRow): TaskSummary {
    row.queuePosition = this.#positionOf(row);
    row.runningMs = this.#runningMsOf(row);
    return row;
  }

  #runningMsOf(row: SummaryRow): number | undefined {
    const run = row.status === 'processing' ? this.#running.get(row.id) : undefined;
    return run === undefined ? undefined : this.#clock.monotonic() - run.startedSteady;
  }

  /** Null while a retry waits for its time: it is set aside, not in line, until then. */
  #positionOf(row: SummaryRow): number | null {
    return row.status === 'pending' ? this.#queue.position(entryOf(row)) : null;
  }

  /** Puts a task back in the queue as its row says (a cancel that could not be saved). */
  #restore(row: TaskRow): void {
    if (row.nextAttemptAt !== null) {
      this.#queue.addDelayed(entryOf(row), this.#steady(row.nextAttemptAt));
    } else {
      this.#queue.add(entryOf(row), this.#firstStartDeadline(row, 0));
    }
  }

  /**
   * The deadline of a task put back in line (a write undone), which bounds its first start only:
   * `attempts` is what the task shows when that start is still to come.
   */
  #firstStartDeadline(
    task: { attempts: number; deadlineAt: number | null },
    attempts: number,
  ): number | null {
    return task.attempts === attempts ? this.#steadyDeadline(task.deadlineAt) : null;
  }

  /**
   * A moment on the wall clock (a deadline, a retry's time: stored that way, since they outlive
   * the process) as a reading of the monotonic clock, which the queue waits on: a step of the
   * wall clock (NTP, a VM resumed, a date set back) then neither expires every queued task at
   * once nor holds a retry back for as long as the step.
   */
  #steady(at: number): number {
    return at + wallToMonotonic(this.#clock);
  }

  #steadyDeadline(at: number | null): number | null {
    return at === null ? null : this.#steady(at);
  }

  #read<T>(doing: string, read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw this.#unavailable(doing, error);
    }
  }

  #unavailable(doing: string, error: unknown) {
    this.#failed(error, doing);
    if (isStoreUnavailableError(error)) return error;
    return new StoreUnavailableError(this.#failure ?? doing, {
      cause: error,
      lasting: this.#damage(error) !== '',
    });
  }

  #failed(error: unknown, doing: string): void {
    const reason = error instanceof Error ? error.message : String(error);
    const damage = this.#damage(error);
    this.#failure = `the task store failed ${doing}: ${reason}${damage}`;
    this.#failureLasts = damage !== '' || (isStoreUnavailableError(error) && error.lasting);
    this.#options.onError?.(error, doing);
  }

  /**
   * A full disk or a lock passes; a damaged file does not, and 503s with Retry-After would have
   * callers wait for it forever: said so, with what to do.
   */
  #damage(error: unknown): string {
    if (!isDamagedDatabaseError(error)) return '';
    return ` (${this.#repo.location} is damaged and will not mend by itself: stop the proxy, move it and its -wal and -shm files away and restore a backup)`;
  }

  #succeeded(): void {
    this.#failure = null;
    this.#failureLasts = false;
    this.#retryDelayMs = RETRY_DELAY_MS.first;
  }
}

function entryOf(row: {
  id: string;
  order: number;
  priority: QueueEntry['priority'];
  tenant: string | null;
}): QueueEntry {
  return { id: row.id, order: row.order, priority: row.priority, tenant: row.tenant ?? '' };
}

/** A task just admitted, as the local repositories write it: in line at `seq`. */
function createdSummary(task: NewTask, seq: number): SummaryRow {
  // Fields added to the new object, not spread into another: V8 copies a spread followed by
  // more fields field by field at runtime (microseconds a task, measured), and this runs per
  // submission.
  return Object.assign(admittedSummary(task, null), { seq, order: seq });
}
