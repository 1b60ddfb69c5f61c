import type { StoreKind, StreamedTaskEventType, TaskCounts, TaskStatus } from 'proxy-client/wire';
import type {
  CallbackState,
  NewTask,
  TaskOutcome,
  TaskRecord,
  TaskRequest,
  TaskSummary,
} from './task-record.js';

/** One task handed to the processor: its id, its request, and which attempt this is (from 1). */
export interface TaskJob {
  id: string;
  request: TaskRequest;
  attempt: number;
  /** This task's own upstream timeout (`X-Proxy-Timeout`); null for the server's. */
  timeoutMs: number | null;
}

/**
 * Makes a task's upstream call. Never rejects on the target's account: every answer or
 * transport failure is an outcome. `signal` aborts when the backend stops the call (shutdown,
 * cancel); the processor then ends promptly with an `interrupted` failure.
 */
export type TaskProcessor = (job: TaskJob, signal: AbortSignal) => Promise<TaskOutcome>;

export type AdmitResult =
  /** `existing`: the idempotency key named a task already held, with the same request. */
  | { ok: true; taskId: string; existing: boolean }
  /** The queue holds `queued` tasks already, its maximum. */
  | { ok: false; reason: 'queue_full'; queued: number }
  /**
   * The store holds its most tasks (`maxTasks`) and too few have finished to make room; `queued`
   * is the queue's length, for the caller's Retry-After.
   */
  | { ok: false; reason: 'tasks_full'; queued: number }
  /** This task's tenant holds `queued` tasks already, its share. */
  | { ok: false; reason: 'tenant_queue_full'; queued: number }
  /** The idempotency key names a task held with another request. */
  | { ok: false; reason: 'idempotency_conflict'; taskId: string };

export type CancelResult =
  | { ok: true; task: TaskRecord }
  | { ok: false; reason: 'not_found' }
  /** Already finished (completed, failed, cancelled or expired): nothing changed. */
  | { ok: false; reason: 'finished'; task: TaskRecord };

export interface ListQuery {
  status?: TaskStatus | undefined;
  limit: number;
  offset: number;
}

export interface TaskPage {
  tasks: TaskSummary[];
  /** How many tasks match the filter in all. */
  total: number;
}

export interface BackendCounts extends TaskCounts {
  /** Tasks held now that ran (or have been running) longer than the long-task threshold. */
  long: number;
  /** Tasks waiting in line for a slot. */
  queued: number;
  /** Upstream calls in flight (across every instance sharing the backend). */
  inFlight: number;
  /**
   * When each call in flight started, the longest-running first, for their ages (estimates, the
   * oldest call's metric): the local backend gives now minus how long each has really run.
   */
  inFlightStartedAt: number[];
  /** Of `queued`, the tasks waiting for their next attempt after a failed one. */
  retrying: number;
  /**
   * Finished tasks whose callback is not settled yet: its first delivery due, or a retry after a
   * failed one. A count the store keeps, not a scan: it shows a receiver that is down piling up.
   */
  callbacksPending: number;
  /** The tenants with the most queued tasks (fair sharing), busiest first, at most 20. */
  tenants: TenantLoad[];
}

/** One tenant's share of the queue and of the calls in flight (fair sharing). */
export interface TenantLoad {
  tenant: string;
  queued: number;
  inFlight: number;
}

/** How many tenants `/stats` shows. */
export const BUSIEST_TENANTS = 20;

/**
 * The tenants with the most tasks queued (then calls in flight), at most BUSIEST_TENANTS, in that
 * order (ties in the order given). One pass keeping the few busiest, not a sort of them all:
 * `--fair-key ip` may queue tens of thousands, and `/stats` and `/metrics` ask each scrape.
 */
export function busiestTenants(loads: Iterable<TenantLoad>): TenantLoad[] {
  const busiest: TenantLoad[] = [];
  for (const load of loads) {
    let at = busiest.length;
    while (at > 0 && busier(load, busiest[at - 1] as TenantLoad)) at--;
    if (at === BUSIEST_TENANTS) continue;
    busiest.splice(at, 0, load);
    if (busiest.length > BUSIEST_TENANTS) busiest.pop();
  }
  return busiest;
}

const busier = (a: TenantLoad, b: TenantLoad) =>
  a.queued > b.queued || (a.queued === b.queued && a.inFlight > b.inFlight);

/** What opening a durable backend found left by the process before. */
export interface RecoveryReport {
  /** Pending tasks found; they run in their original order. */
  pending: number;
  /** Tasks left processing that went back to the queue (`--requeue-interrupted`). */
  requeued: number;
  /**
   * Their ids (SQLite, Redis): the crashed run logged their start and not their requeue.
   * Optional for a backend of the embedder's that can only count them.
   */
  requeuedIds?: string[];
  /** Tasks left processing that were failed with `interrupted`. */
  interrupted: number;
  /**
   * Their ids (SQLite, Redis): the crashed run logged their start and nothing after it. Optional
   * for a backend of the embedder's that can only count them.
   */
  interruptedIds?: string[];
  /**
   * Of those, the ones cut off after going back to the queue `--max-requeues` times: each may be
   * a task whose call itself brings the process down.
   */
  pastMaxRequeues: string[];
  /** Tasks held in all after recovery. */
  total: number;
  /**
   * On a shared store, tasks still processing after recovery: calls of the other instances, or
   * of a dead one whose lease has not run out yet (they are recovered when it does).
   */
  leased?: number;
  /**
   * The calls of the tasks finished before this start, the last 100 at most (none cut off by a
   * stop): their mean duration, which the mean processing time starts from; null for none.
   */
  finishedCalls: FinishedCalls | null;
  /** The store's file, made by an earlier build, upgraded to this build's schema at this open. */
  schemaUpgrade?: SchemaUpgrade;
}

/** A store's schema brought from an earlier build's version to this build's. */
export interface SchemaUpgrade {
  from: number;
  to: number;
}

/** How long some finished calls took, on average. */
export interface FinishedCalls {
  meanMs: number;
  calls: number;
}

/** How many of the last finished tasks a start reads the calls of, for their mean. */
export const RECENT_CALLS = 100;

/** A transition of one task, told once it is durable. */
export interface TransitionEvent {
  /** Orders events; a subscriber can resume after it (see `subscribe`). */
  id: string;
  /**
   * `retrying`: a call failed and the task waits for its next attempt; `requeued`: a call cut
   * off by a shutdown or a crash goes back to the queue (`--requeue-interrupted`).
   */
  type: StreamedTaskEventType;
  /** The task as it is after the transition. */
  task: TaskSummary;
  /** True when this process made the transition (false: another instance did). */
  local: boolean;
  /**
   * A finish that ended a call here: how long the call took on the monotonic clock. The
   * difference of the task's timestamps is off by any step of the wall clock during the call.
   */
  processingMs?: number;
}

/** Finished tasks were removed (retention, cleanup). */
export interface RemovedEvent {
  id: string;
  type: 'removed';
  count: number;
  local: boolean;
}

export type TaskEvent = TransitionEvent | RemovedEvent;

export type TaskEventListener = (event: TaskEvent) => void;

export interface SubscribeOptions {
  /**
   * Replay the events after this id before the live ones (`Last-Event-ID`); implies
   * `resumable`.
   */
  after?: string | undefined;
  /**
   * The listener passes event ids on to clients (an event stream), who may resume after them.
   * A backend may keep no events for resuming while no such listener is there.
   */
  resumable?: boolean;
  /**
   * Events after the subscription began were lost by the store (Redis came back empty, or
   * trimmed its stream past events this instance had not read while it could not reach it):
   * the subscriber should read the state afresh. The local stores never lose one.
   */
  onMissed?: () => void;
}

export interface Subscription {
  /** Stops hearing events. Idempotent. */
  close(): void;
  /**
   * False when `after` is older than the window of events the backend keeps (or unknown to
   * it): some events were missed, and the subscriber should read the state afresh.
   */
  readonly complete: boolean;
}

/** Who is listening now; both fall back to 0 once every client has gone. */
export interface ListenerCounts {
  subscribers: number;
  waiters: number;
}

/** How a stop ended. */
export interface StopReport {
  /**
   * Tasks whose calls ended but whose outcomes the store would not take before the grace ran
   * out: the restart finds them as they were before (processing, so interrupted or requeued).
   */
  readonly unsavedOutcomes: readonly string[];
  /**
   * Queued tasks ended `interrupted` by the stop because the store keeps nothing past the process
   * (memory); 0 where they wait for the next start.
   */
  readonly notStarted: number;
}

export interface StoreHealth {
  available: boolean;
  /** Why the store cannot be used; null when it can. */
  message: string | null;
}

/**
 * Where tasks live and how they run: the port every backend (memory, SQLite, Redis) implements.
 * It owns everything that must survive a restart or be shared by several proxy instances:
 * admission against the queue's capacity, queue order and position, running tasks through a
 * processor under the concurrency cap, finishing them once, waiting for a finish, counts,
 * listing, retention, and recovery of the tasks a dead process left processing.
 *
 * Every method may reject with a `StoreUnavailableError` when the store cannot be reached or
 * written; nothing else is thrown for the store's sake. Records handed out are copies.
 *
 * Costs every implementation keeps: `counts()` does not grow with the number of tasks; `list()`
 * grows with offset + limit only; `removeFinished()` with the tasks it removes.
 */
export interface TaskBackend {
  readonly kind: StoreKind;
  /** Opens the store and recovers what a dead process left; call once, before anything else. */
  open(): Promise<RecoveryReport>;
  /**
   * Creates the task `pending` at the back of the queue, unless the queue is full. Resolves once
   * the task is durable, so a 202 sent afterwards survives a crash. With an idempotency key,
   * a task already held under that key is answered instead (with the same request) or refused
   * (with another), atomically: a burst with one key creates one task. With `retryOf`, the
   * original task (if still held) gets the new task's id as `retriedAs`.
   */
  admit(task: NewTask): Promise<AdmitResult>;
  /**
   * Stops a task: a pending one leaves the queue, a processing one has its call aborted; both
   * end `cancelled`. One that finished first is answered as it is. Exactly one of a cancel and
   * a finish racing each other wins, and every reader sees that one.
   */
  cancel(id: string): Promise<CancelResult>;
  get(id: string): Promise<TaskRecord | undefined>;
  /** The task's request as submitted (kept for its whole life, finished or not). */
  getRequest(id: string): Promise<TaskRequest | undefined>;
  /**
   * Newest first. Unfiltered: by creation. Filtered by a status: by the time the task entered
   * that status (creation for pending, start for processing, the finish for the others).
   */
  list(query: ListQuery): Promise<TaskPage>;
  counts(): Promise<BackendCounts>;
  /**
   * Removes finished tasks that finished at or before `completedBefore`, in batches each
   * committed on its own; returns how many. A stop ends it between batches (the count so far);
   * a failure rejects, the batches before it removed.
   */
  removeFinished(completedBefore: number): Promise<number>;
  /** Records how a task's callback stands (its deliveries so far); false when the task is gone. */
  setCallback(id: string, callback: CallbackState): Promise<boolean>;
  /**
   * Finished tasks whose callback is still to be delivered: after a restart, where the
   * deliveries resume. A store that does not outlive the process has none to give.
   */
  pendingCallbacks(): Promise<{ id: string; callback: CallbackState }[]>;
  /**
   * Resolves with the task once it is finished (at once if it already is), or undefined when
   * there is no such task. Rejects with `signal.reason` when `signal` aborts first.
   */
  waitForFinish(id: string, signal: AbortSignal): Promise<TaskRecord | undefined>;
  /**
   * Hears every transition once it is durable, from every instance sharing the store; with
   * `after`, first the ones after that event id that the backend still keeps.
   */
  subscribe(listener: TaskEventListener, options?: SubscribeOptions): Subscription;
  listenerCounts(): ListenerCounts;
  /** Starts running queued tasks through `processor`, at most the configured concurrency at once. */
  start(processor: TaskProcessor): void;
  /**
   * Starts nothing more; calls in flight get `graceMs` to end and are then aborted (their tasks
   * fail `interrupted`, or go back to the queue when so configured and the store outlives the
   * process). A store that does not outlive the process fails its queued tasks `interrupted`
   * at once, so that readers see it while the calls finish. Idempotent.
   */
  stop(graceMs: number): Promise<StopReport>;
  /** Stops without grace if not stopped, then releases the store. Idempotent. */
  close(): Promise<void>;
  health(): Promise<StoreHealth>;
}
