import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Clock, systemClock, wallToMonotonic } from '../../clock.js';
import { REMOVE_BATCH, removeInBatches } from '../remove-in-batches.js';
import { NEVER_RETRY, type RetryDecision } from '../retry-policy.js';
import { isStoreRefusedError, StoreRefusedError } from '../store-refused.js';
import { StoreUnavailableError } from '../store-unavailable.js';
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
  type TaskEvent,
  type TaskEventListener,
  type TaskPage,
  type TaskProcessor,
} from '../task-backend.js';
import { newTaskId } from '../task-id.js';
import type {
  CallbackState,
  NewTask,
  TaskOutcome,
  TaskRecord,
  TaskRequest,
} from '../task-record.js';
import { WakeTimer } from '../wake-timer.js';
import { aclDenial, aclRefusal } from './acl-denial.js';
import {
  commandConnection,
  connectFailure,
  connectToRedis,
  displayUrl,
  type RedisConnector,
  redisUser,
  startCheckConnection,
  waitingConnection,
} from './connections.js';
import { credentialsRefusal } from './credentials-refusal.js';
import { EventFeed } from './event-feed.js';
import { FinishWatch } from './finish-watch.js';
import { EXPIRED, JOB_NAME, recoverDeadInstances, SHED } from './recovery.js';
import { RedisKeys } from './redis-keys.js';
import {
  isCommandTimeout,
  isConnectionLoss,
  isUnreachable,
  RedisUnreachableError,
  StoreFailures,
  withRemedy,
} from './store-failures.js';
import { TaskRunner } from './task-runner.js';
import { LuaTaskStore, type RedisTaskStore, type WakeReply } from './task-store.js';

export interface RedisBackendOptions {
  /** `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. */
  url: string;
  /**
   * Every key starts with it and a colon: instances with the same prefix share one queue. A
   * prefix with a colon of its own could name another prefix's keys (`a:tasks` is `a`'s queue).
   */
  prefix: string;
  /** The cap on upstream calls in flight, across every instance sharing the prefix. */
  concurrency: number;
  /** Most tasks waiting in line; one more is refused. */
  maxQueueSize: number;
  /**
   * Most tasks held, whatever their status: admitting one more first removes the oldest
   * finished tasks, and is refused when none is finished. Null: no cap.
   */
  maxTasks?: number | null;
  /** Whether and when a failed call is tried again; never by default. */
  retry?: RetryDecision;
  /**
   * Most calls started per second across the instances, `burst` at once; null: no limit.
   * BullMQ's global rate limiter carries it: a fixed window of `burst` starts per
   * `burst / perSecond` seconds, on Redis's clock, not the `clock` option's.
   */
  rateLimit?: { perSecond: number; burst: number } | null;
  /**
   * Most tasks queued for one tenant (fair sharing: tasks admitted with a tenant take turns);
   * one more is refused for that tenant only. Null: no cap.
   */
  tenantMaxQueued?: number | null;
  /**
   * Most calls in flight for one tenant, across the instances; a task of a tenant at its cap
   * waits, its job delayed, until one of the tenant's calls ends. Null: no cap.
   */
  tenantMaxInFlight?: number | null;
  /** Processing time after which a task counts as long. */
  longTaskThresholdMs: number;
  /**
   * How many times a task whose call a shutdown or the death of its instance cut off goes back
   * in line; the cut-off after that fails it `interrupted`, as every one does with 0.
   */
  maxRequeues: number;
  clock?: Clock;
  /** Hears the store failures the backend recovers from (it retries), for the log. */
  onError?: (error: unknown, doing: string) => void;
  /** Hears what an operator should know, no failure: settings this instance changed for all. */
  onWarning?: (message: string) => void;
  /** Events kept for subscribers resuming after one they saw. @default 10000 */
  eventWindow?: number;
  /** A call's lease: a dead instance's calls are recovered this long after it died. @default 15000 */
  lockDurationMs?: number;
  /** How often an instance looks for calls whose lease ran out. @default 5000 */
  stalledIntervalMs?: number;
  /** How long a read or write may wait for Redis before it fails. @default 3000 */
  commandTimeoutMs?: number;
  /** Makes the Redis clients (tests record them to cut them off as a dying process would). */
  connect?: RedisConnector;
  /** Wraps the task store (tests make its operations fail). */
  wrapStore?: (store: RedisTaskStore) => RedisTaskStore;
}

const CANCELLED: TaskOutcome = { status: 'cancelled', result: null, error: null };
const DEFAULT_COMMAND_TIMEOUT_MS = 3_000;
/**
 * The longest an instance goes without running the wake script. Timers follow the events
 * heard, but a retry handed to an instance that died before queueing it, or an event missed
 * while the stream was out of reach, has no event to wake for: the sweep finds it. One short
 * script per instance this often costs Redis next to nothing.
 */
const SWEEP_MS = 5_000;
/**
 * How often the sweep reads Redis's eviction policy again: an operator may change it on the
 * running server (CONFIG SET), which no instance would otherwise hear of. One INFO a minute.
 */
const EVICTION_CHECK_MS = 60_000;
/** Where the last instance opened keeps its tenant caps, in `<prefix>:meta`. */
const TENANT_CAP_FIELDS = ['tenant-max-in-flight', 'tenant-max-queued'] as const;
/** Errors that came from what answered, not from the socket. */
const SERVER_SAID = /^(WRONGPASS|NOAUTH|Unknown RESP type|ERR unknown command)/;

/**
 * A backend several proxy instances share, on Redis with BullMQ: one queue (BullMQ's, one per
 * prefix) with one global cap on calls, the task records and events in keys of the proxy's own
 * beside it, so that any instance answers for any task. See docs/architecture.md.
 */
export class RedisBackend implements TaskBackend {
  readonly kind = 'redis' as const;
  readonly #options: RedisBackendOptions;
  readonly #clock: Clock;
  readonly #keys: RedisKeys;
  readonly #origin = newTaskId();
  readonly #failures: StoreFailures;
  readonly #waiters: FinishWatch;
  readonly #clients: Redis[] = [];
  readonly #commands: Redis;
  readonly #store: RedisTaskStore;
  readonly #feed: EventFeed;
  readonly #runner: TaskRunner;
  /** Admissions whose job could not be added nor the task taken back: retried. */
  readonly #undiscarded = new Set<string>();
  #queue: Queue | null = null;
  /**
   * The timer for the next deadline or retry due (any instance's; the first to wake does it),
   * or for the next sweep.
   */
  readonly #wakeTimer: WakeTimer;
  /** Retries due that the wake script handed to this instance, their jobs not added yet: priority. */
  readonly #dueRetries = new Map<string, number>();
  /** When a wake last read the cap, on the monotonic clock. */
  #limitsReadAt = Number.NEGATIVE_INFINITY;
  /**
   * While the sweep fails (an outage): when it first failed, on the monotonic clock, and how
   * often since. Its first failure is logged, the rest only noted, and its success said.
   */
  #sweepOutage: { since: number; failures: number } | null = null;
  /** When the eviction policy was last read, on the monotonic clock. */
  #evictionReadAt = Number.NEGATIVE_INFINITY;
  /** The policy under which Redis evicts keys, as last read; null when it evicts none. */
  #evicting: string | null = null;
  #restoring: Promise<void> | null = null;
  #connectionError: string | null = null;
  /** The PING `health()` sends after a failure, while it waits for its answer. */
  #probing: Promise<void> | null = null;
  #stopped: Promise<StopReport> | null = null;
  #closed: Promise<void> | null = null;

  constructor(options: RedisBackendOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#wakeTimer = new WakeTimer(this.#clock, () => void this.#wake());
    this.#keys = new RedisKeys(options.prefix);
    this.#failures = new StoreFailures(options.onError);
    const eventWindow = options.eventWindow ?? 10_000;
    this.#commands = this.#client(
      commandConnection(options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS),
    );
    this.#commands.on('ready', () => {
      this.#connectionError = null;
      this.#failures.succeeded();
      // A Redis restarted without its data has lost the cap with the rest: put it back.
      if (this.#queue && !this.#closed) void this.#restoreLimits(this.#queue);
      // Tasks waited for may have finished, or gone with Redis's data, while it was away: the
      // event feed's blocked read may come back without an error to say so.
      this.#waiters.recheck();
      this.#runner.retryNow();
      void this.#retryDiscards();
    });
    const store = new LuaTaskStore(this.#commands, this.#keys, this.#origin, eventWindow);
    this.#store = options.wrapStore?.(store) ?? store;
    this.#waiters = new FinishWatch(
      (id) => this.get(id),
      (error, id) => options.onError?.(error, `reading task ${id} for its waiting reads`),
    );
    this.#feed = new EventFeed({
      client: this.#client(waitingConnection('events')),
      key: this.#keys.events,
      origin: this.#origin,
      capacity: eventWindow,
      clock: this.#clock,
      onEvent: (event) => this.#heard(event),
      onResumed: () => this.#waiters.recheck(),
      onError: (error, doing) => this.#logged(error, doing),
    });
    this.#runner = new TaskRunner({
      store: this.#store,
      keys: this.#keys,
      concurrency: options.concurrency,
      longTaskThresholdMs: options.longTaskThresholdMs,
      maxRequeues: options.maxRequeues,
      retry: options.retry ?? NEVER_RETRY,
      tenantMaxInFlight: options.tenantMaxInFlight ?? null,
      promote: (ids) => this.#promote(ids),
      lockDurationMs: options.lockDurationMs ?? 15_000,
      stalledIntervalMs: options.stalledIntervalMs ?? 5_000,
      clock: this.#clock,
      failures: this.#failures,
      publish: (event) => this.#feed.publish(event),
      onError: (error, doing) => this.#logged(error, doing),
      onWarning: (message) => options.onWarning?.(message),
    });
  }

  async open(): Promise<RecoveryReport> {
    const where = displayUrl(this.#options.url);
    // ioredis rejects with "Connection is closed."; the socket's or the server's own errors
    // (ECONNREFUSED, NOAUTH, a reply that is not Redis's) came through the 'error' event and are
    // what the operator can act on: the server's words first, since a server that is not Redis
    // may close the socket before its reply is read (EPIPE).
    const errors: Error[] = [];
    const onError = (error: Error) => {
      errors.push(error);
    };
    const check = (this.#options.connect ?? connectToRedis)(
      this.#options.url,
      startCheckConnection(this.#options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS),
    );
    check.on('error', onError);
    this.#commands.on('error', onError);
    try {
      await check.connect();
      await check.info('server').catch((error: unknown) => {
        this.#refuseIfDenied(error, where);
        throw error;
      });
      await this.#commands.connect();
      await Promise.all(
        this.#clients.filter((client) => client !== this.#commands).map((c) => c.connect()),
      );
    } catch (error) {
      this.#disconnect();
      if (isStoreRefusedError(error)) throw error;
      // A command denied as a connection is set up (SELECT) is the ACL's refusal, whatever
      // failed after it: the grant is what the operator needs.
      for (const said of errors) this.#refuseIfDenied(said, where);
      // Thrown, not logged: the start fails with this one line.
      const messages = errors.map(({ message }) => message);
      const cause =
        messages.find((message) => SERVER_SAID.test(message)) ??
        messages[0] ??
        this.#connectionError ??
        (error instanceof Error ? error.message : String(error));
      throw (
        credentialsRefusal(this.#options.url, cause, error) ??
        new StoreUnavailableError(connectFailure(this.#options.url, cause), { cause: error })
      );
    } finally {
      check.disconnect();
      this.#commands.off('error', onError);
    }
    await this.#checkDatabase(where);
    await this.#checkEvictionPolicy('start');
    try {
      const queue = new Queue(this.#keys.queueName, {
        connection: this.#commands,
        prefix: this.#keys.bullPrefix,
        skipWaitingForReady: true,
        defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
        // The proxy's events are its own stream; BullMQ's are read by nothing here.
        streams: { events: { maxLen: 1_000 } },
      });
      queue.on('error', (error) => this.#logged(error, 'queueing (BullMQ)'));
      this.#queue = queue;
      await queue.waitUntilReady();
      await this.#setLimits(queue);
      await this.#compareTenantCaps();
      const report = await recoverDeadInstances(this.#store, queue, {
        maxRequeues: this.#options.maxRequeues,
        now: this.#clock.now(),
        promote: (ids) => this.#promote(ids),
      });
      await this.#feed.open();
      // Deadlines and retries due while no instance ran, and the first one to come.
      await this.#wake();
      return report;
    } catch (error) {
      // Before the connections close: a refusal from a Redis that answers is told apart by them.
      const explained = this.#explained(error);
      await this.#queue?.close().catch(() => undefined);
      this.#disconnect();
      this.#refuseIfDenied(error, where);
      throw this.#failures.failed(explained, `opening the task store on Redis at ${where}`);
    }
  }

  /**
   * An ACL that denies the proxy a command or key will not change by itself: thrown as a refusal
   * (the start fails with one line and exit 2), not logged as a failure to retry.
   */
  #refuseIfDenied(error: unknown, where: string): void {
    const denial = aclDenial(error);
    if (!denial) return;
    const { url, prefix } = this.#options;
    throw aclRefusal(denial, { where, user: redisUser(url), prefix });
  }

  /**
   * A failure of the worker, the event feed or BullMQ's queue for the log, with the grant beside
   * an ACL denial: under an ACL changed while the proxy runs, the same words as the 503s and
   * /health give.
   */
  #logged(error: unknown, doing: string): void {
    const { url, prefix, onError } = this.#options;
    onError?.(withRemedy(error, redisUser(url), prefix), doing);
  }

  /**
   * ioredis selects the URL's database as it connects, and on a number the server does not have
   * it only emits an error and carries on in database 0, among whatever lives there.
   */
  async #checkDatabase(where: string): Promise<void> {
    const db = this.#commands.options.db ?? 0;
    if (db === 0) return;
    try {
      await this.#commands.select(db);
    } catch (error) {
      this.#disconnect();
      this.#refuseIfDenied(error, where);
      const reason = error instanceof Error ? error.message : String(error);
      if (!/DB index is out of range/.test(reason)) {
        throw this.#failures.failed(error, `selecting database ${db} on Redis at ${where}`);
      }
      throw new StoreRefusedError(
        `Redis at ${where} has no database ${db} (${reason}); its databases are numbered from 0 to its \`databases\` setting less one (16 by default)`,
        { cause: error },
      );
    }
  }

  /**
   * Any eviction policy but noeviction lets a Redis at its `maxmemory` drop keys to make room:
   * task records, queue entries, BullMQ's locks; accepted tasks would vanish. Managed Redis often
   * comes with another policy, which the operator may not be allowed to change: the start goes
   * on, saying so in the proxy's log (BullMQ's own line goes to stderr, unexplained). Read at the
   * start and then by the sweep once in EVICTION_CHECK_MS: a change is said once, when seen.
   */
  async #checkEvictionPolicy(when: 'start' | 'sweep'): Promise<void> {
    this.#evictionReadAt = this.#clock.monotonic();
    // A server with INFO renamed away (some managed ones) cannot say, nor can one that does not
    // answer now: nothing to warn of, and what was read before stands.
    const info = await this.#commands.info('memory').catch(() => '');
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy === undefined) return;
    // Without a maxmemory (0, the default), Redis never evicts, whatever the policy.
    const unbounded = /^maxmemory:0\s*$/m.test(info);
    const evicting = policy === 'noeviction' || unbounded ? null : policy;
    if (evicting === this.#evicting) return;
    this.#evicting = evicting;
    const where = displayUrl(this.#options.url);
    if (evicting === null) {
      this.#options.onWarning?.(
        `Redis at ${where} no longer evicts keys (${unbounded ? 'maxmemory 0' : `maxmemory-policy ${policy}`}): tasks are safe from eviction again`,
      );
      return;
    }
    this.#options.onWarning?.(
      `Redis at ${where} ${when === 'start' ? '' : 'now '}evicts keys when it is full (maxmemory-policy ${evicting}), tasks among them: set maxmemory-policy noeviction, under which a full Redis refuses new tasks (503 store_unavailable) and loses none`,
    );
  }

  /**
   * The cap on calls and the rate limit are BullMQ's queue settings, one for every instance on
   * the prefix: the instance opened last sets them for all (so a rolling deploy can change
   * them). Other values than the ones in place are said in the log, since the instances running
   * go on reporting their own in /stats.
   */
  async #setLimits(queue: Queue): Promise<void> {
    const [concurrency, rateLimit] = await Promise.all([
      queue.getGlobalConcurrency(),
      queue.getGlobalRateLimit(),
    ]);
    const wanted = this.#bullRateLimit();
    if (concurrency !== null && concurrency !== this.#options.concurrency) {
      this.#options.onWarning?.(
        `the instances on --redis-prefix ${this.#options.prefix} had a cap of ${concurrency} calls in flight; this one sets ${this.#options.concurrency} for all of them (give every instance the same --max-concurrent and --num-workers)`,
      );
    }
    if (
      (concurrency !== null || rateLimit !== null) &&
      (rateLimit?.max !== wanted?.max || rateLimit?.duration !== wanted?.duration)
    ) {
      const shown = (limit: { max: number; duration: number } | null | undefined) =>
        limit ? `${limit.max} calls per ${limit.duration} ms` : 'none';
      this.#options.onWarning?.(
        `the instances on --redis-prefix ${this.#options.prefix} had a rate limit of ${shown(rateLimit)}; this one sets ${shown(wanted)} for all of them (give every instance the same --max-rps and --max-rps-burst)`,
      );
    }
    await this.#applyLimits(queue);
  }

  /**
   * After a reconnect, and at each wake: the limits again if Redis lost them (restarted empty,
   * flushed under running instances, or keys evicted), else those in place stay. An instance
   * that finds them lost says so (one, or a few finding it at the same moment).
   */
  #restoreLimits(queue: Queue): Promise<void> {
    // One at a time: a reconnect and a wake finding the cap gone together would both warn.
    this.#restoring ??= this.#restoreLimitsNow(queue).finally(() => {
      this.#restoring = null;
    });
    return this.#restoring;
  }

  async #restoreLimitsNow(queue: Queue): Promise<void> {
    try {
      if ((await queue.getGlobalConcurrency()) !== null) return;
      await this.#applyLimits(queue);
    } catch (error) {
      if (!this.#closed) this.#options.onError?.(error, 'setting the cap on calls again');
      return;
    }
    this.#options.onWarning?.(
      `Redis at ${displayUrl(this.#options.url)} came back without the keys of --redis-prefix ${this.#options.prefix} (restarted without persistence, flushed, or evicted): the tasks it held are gone, and reading them answers 404; the cap on calls is set again`,
    );
  }

  /** BullMQ's rate limiter as a fixed window of `burst` starts per `burst / perSecond` seconds. */
  #bullRateLimit(): { max: number; duration: number } | null {
    const rateLimit = this.#options.rateLimit ?? null;
    if (rateLimit === null) return null;
    return {
      max: rateLimit.burst,
      duration: Math.max(1, Math.round((1_000 * rateLimit.burst) / rateLimit.perSecond)),
    };
  }

  /**
   * The tenant caps are each instance's own (its scripts hold tenants to them), so instances
   * that differ break them: one without `--tenant-max-in-flight` hands out a tenant's tasks past
   * the others' cap. The last instance opened keeps its caps in Redis for the next to compare.
   */
  async #compareTenantCaps(): Promise<void> {
    const shown = (cap: number | null | undefined) =>
      cap === null || cap === undefined ? 'none' : String(cap);
    const inFlight = shown(this.#options.tenantMaxInFlight);
    const queued = shown(this.#options.tenantMaxQueued);
    const meta = `${this.#keys.prefix}:meta`;
    const [hadInFlight, hadQueued] = await this.#commands.hmget(meta, ...TENANT_CAP_FIELDS);
    const known = hadInFlight !== null && hadQueued !== null;
    if (known && (hadInFlight !== inFlight || hadQueued !== queued)) {
      this.#options.onWarning?.(
        `the instance opened last on --redis-prefix ${this.#options.prefix} had --tenant-max-in-flight ${hadInFlight} and --tenant-max-queued ${hadQueued}; this one has ${inFlight} and ${queued}, and holds its tenants to those: give every instance the same --tenant-max-in-flight and --tenant-max-queued`,
      );
    }
    await this.#commands.hset(meta, TENANT_CAP_FIELDS[0], inFlight, TENANT_CAP_FIELDS[1], queued);
  }

  async #applyLimits(queue: Queue): Promise<void> {
    await queue.setGlobalConcurrency(this.#options.concurrency);
    const rateLimit = this.#bullRateLimit();
    if (rateLimit === null) await queue.removeGlobalRateLimit();
    else await queue.setGlobalRateLimit(rateLimit.max, rateLimit.duration);
  }

  async admit(task: NewTask): Promise<AdmitResult> {
    const slots = this.#runner.started ? this.#options.concurrency : 0;
    let reply: Awaited<ReturnType<RedisTaskStore['admit']>>;
    try {
      reply = await this.#write('saving a new task', () =>
        this.#store.admit(task, {
          maxQueueSize: this.#options.maxQueueSize,
          slots,
          maxTasks: this.#options.maxTasks ?? null,
          tenantMaxQueued: this.#options.tenantMaxQueued ?? null,
          shedError: SHED,
        }),
      );
    } catch (error) {
      // Written perhaps, its answer lost with the connection: taken back if it was. Not waited
      // for: against a Redis that hangs, it takes a timeout of its own, and the 503 would too.
      // On this instance's connection it goes before any submission the caller sends again; one
      // sent through another instance with the same Idempotency-Key may be answered with this
      // task just before it goes, and find it gone (a narrow race, of an outage's edge).
      void this.#discard(task.id);
      throw error;
    }
    switch (reply.kind) {
      case 'existing':
        if (reply.jobPriority !== null) await this.#addJob(reply.taskId, reply.jobPriority);
        return { ok: true, taskId: reply.taskId, existing: true };
      case 'conflict':
        return { ok: false, reason: 'idempotency_conflict', taskId: reply.taskId };
      case 'full':
        return { ok: false, reason: 'queue_full', queued: reply.queued };
      case 'tasks_full':
        return { ok: false, reason: 'tasks_full', queued: reply.queued };
      case 'tenant_full':
        return { ok: false, reason: 'tenant_queue_full', queued: reply.queued };
    }
    this.#feed.publish(reply.event);
    if (reply.shed !== null) await this.#dequeue(reply.shed);
    await this.#promote(reply.released);
    try {
      // The job id is the task's: adding the same job twice adds it once.
      await this.#jobs().add(JOB_NAME, {}, { jobId: task.id, priority: reply.jobPriority });
    } catch (error) {
      const unavailable = this.#failures.failed(this.#explained(error), 'queueing a new task');
      // As above: the 503 does not wait for it.
      void this.#discard(task.id);
      throw unavailable;
    }
    if (this.#undiscarded.size > 0) void this.#retryDiscards();
    return { ok: true, taskId: task.id, existing: false };
  }

  async cancel(id: string): Promise<CancelResult> {
    const now = this.#clock.now();
    const reply = await this.#write('cancelling a task', () =>
      this.#store.finish(
        id,
        { outcome: CANCELLED, completedAt: now, isLong: false },
        { allowPending: true, longStartedBefore: now - this.#options.longTaskThresholdMs },
      ),
    );
    if (reply.kind === 'ok') {
      // Aborts the call if it runs here; another instance aborts it when the stream brings it.
      this.#feed.publish(reply.event);
      // Still in BullMQ's queue: out of it now. A worker that took it meanwhile skips it.
      if (reply.previous === 'pending') await this.#dequeue(id);
      await this.#promote(reply.released);
    }
    const task = reply.kind === 'gone' ? undefined : await this.get(id);
    if (!task) return { ok: false, reason: 'not_found' };
    return reply.kind === 'ok' ? { ok: true, task } : { ok: false, reason: 'finished', task };
  }

  get(id: string): Promise<TaskRecord | undefined> {
    return this.#read('reading a task', () => this.#store.get(id));
  }

  getRequest(id: string): Promise<TaskRequest | undefined> {
    return this.#read('reading a request', () => this.#store.getRequest(id));
  }

  list(query: ListQuery): Promise<TaskPage> {
    return this.#read('listing tasks', () => this.#store.list(query));
  }

  async counts(): Promise<BackendCounts> {
    const now = this.#clock.now();
    const counts = await this.#read('counting tasks', () =>
      this.#store.counts(now - this.#options.longTaskThresholdMs),
    );
    const slots = this.#runner.started ? this.#options.concurrency : 0;
    const free = Math.max(0, slots - counts.processing);
    return {
      pending: counts.pending,
      processing: counts.processing,
      completed: counts.completed,
      failed: counts.failed,
      cancelled: counts.cancelled,
      expired: counts.expired,
      total: counts.total,
      long: counts.longFinished + counts.longRunning,
      queued: Math.max(0, counts.pending - free),
      inFlight: counts.processing,
      inFlightStartedAt: counts.inFlightStartedAt,
      retrying: counts.retrying,
      callbacksPending: counts.callbacksPending,
      tenants: busiestTenants(counts.tenants),
    };
  }

  removeFinished(completedBefore: number): Promise<number> {
    return removeInBatches(
      async () => {
        const event = await this.#write('removing finished tasks', () =>
          this.#store.removeFinished(completedBefore, REMOVE_BATCH),
        );
        if (!event) return 0;
        this.#feed.publish(event);
        return event.count;
      },
      () => this.#stopped !== null || this.#closed !== null,
    );
  }

  setCallback(id: string, callback: CallbackState): Promise<boolean> {
    return this.#write('saving a callback delivery', () => this.#store.setCallback(id, callback));
  }

  pendingCallbacks(): Promise<{ id: string; callback: CallbackState }[]> {
    return this.#read('reading callbacks', () => this.#store.pendingCallbacks());
  }

  waitForFinish(id: string, signal: AbortSignal): Promise<TaskRecord | undefined> {
    return this.#waiters.wait(id, signal);
  }

  subscribe(listener: TaskEventListener, options: SubscribeOptions = {}): Subscription {
    return this.#feed.subscribe(
      listener,
      options.after,
      options.resumable === true || options.after !== undefined,
      options.onMissed,
    );
  }

  listenerCounts(): ListenerCounts {
    return { subscribers: this.#feed.size, waiters: this.#waiters.size };
  }

  start(processor: TaskProcessor): void {
    const connection = this.#client(waitingConnection('worker'));
    this.#runner.start(processor, connection);
  }

  stop(graceMs: number): Promise<StopReport> {
    this.#stopped ??= this.#runner.stop(graceMs);
    return this.#stopped;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      // Closing does not wait for Redis: what cannot be saved now is left to recovery.
      this.#runner.giveUpSaving();
      await this.stop(0);
      // A hung Redis keeps the connection 'ready': the commands that failed to reach it tell it
      // apart. A write it refused (out of memory) does not: that Redis answers.
      await this.#closeWorker(this.#commands.status !== 'ready' || this.#failures.unreachable);
      this.#feed.close();
      this.#wakeTimer.cancel();
      await this.#queue?.close().catch(() => undefined);
      // Every write has been answered by now; the feed's XREAD is the only command waiting.
      this.#disconnect();
    })();
    return this.#closed;
  }

  /**
   * BullMQ's close of the worker, forced when Redis is known to be away. In the first seconds of
   * a hang no command has timed out yet to tell of it, and the close waits for what the worker
   * sent (the job it asks for as its wait runs out, the one it marks done) on connections without
   * a timeout: for as long as Redis hangs. Past one command timeout the close is waited for no
   * more (calling it again with force would not do: BullMQ answers a second close with the first
   * one's promise) and the connections are dropped. A job the worker held is recovered as a dead
   * instance's.
   */
  async #closeWorker(redisAway: boolean): Promise<void> {
    const patienceMs = this.#options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const closing = this.#runner.close(redisAway);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Real time, not the clock option's: what it bounds is a wait on Redis.
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), patienceMs);
    });
    try {
      if ((await Promise.race([closing, late])) !== 'late') return;
      this.#options.onError?.(
        new RedisUnreachableError(
          `Redis at ${displayUrl(this.#options.url)} did not answer within ${patienceMs} ms; the connections are dropped, and any job the worker held is recovered as a dead instance's`,
        ),
        'closing the worker',
      );
      this.#disconnect();
    } finally {
      clearTimeout(timer);
    }
  }

  async health(): Promise<StoreHealth> {
    if (this.#closed) return { available: false, message: 'the task store is closed' };
    if (this.#commands.status !== 'ready') {
      const why = this.#connectionError ?? `the connection is ${this.#commands.status}`;
      return {
        available: false,
        message:
          this.#credentialsRefused()?.message ??
          `cannot reach Redis at ${displayUrl(this.#options.url)}: ${why}`,
      };
    }
    if (this.#failures.message !== null) this.#probe();
    return { available: this.#failures.message === null, message: this.#failures.message };
  }

  /**
   * A Redis that stopped answering but kept its connections (paused, or a network losing
   * packets) is never reconnected to, so only a read or write that goes through clears its
   * failure; an instance that gets no requests but health checks (a load balancer took it out of
   * rotation) would say degraded for good. A PING, one at a time and not waited for (a health
   * check stays fast while Redis hangs), clears a failure to reach Redis once Redis answers: the
   * next check says so. A write Redis refused stays until a write goes through, as with a read.
   */
  #probe(): void {
    if (this.#probing) return;
    this.#probing = this.#commands
      .ping()
      .then(
        () => this.#failures.answered(),
        // Still away: the failure already noted says so; nothing more to log per check.
        () => undefined,
      )
      .finally(() => {
        this.#probing = null;
      });
  }

  /**
   * Every event, once, from this instance or another: a finish ends its call here and its
   * waits; a deadline or a retry is something to wake up for.
   */
  #heard(event: TaskEvent): void {
    if (event.type === 'created' && event.task.deadlineAt !== null) {
      this.#wakeAt(event.task.deadlineAt);
    }
    if (event.type === 'retrying' && event.task.nextAttemptAt !== null) {
      this.#wakeAt(event.task.nextAttemptAt);
    }
    if (event.type !== 'finished') return;
    this.#runner.finishedElsewhere(event.task.id);
    this.#waiters.finished(event.task.id);
  }

  /**
   * The job of a task a replayed Idempotency-Key found waiting without one. A failure answers
   * 503, as for a new task; the client's next replay tries again (the task is not taken back:
   * it is not this admission's).
   */
  async #addJob(id: string, priority: number): Promise<void> {
    try {
      await this.#jobs().add(JOB_NAME, {}, { jobId: id, priority });
    } catch (error) {
      throw this.#failures.failed(this.#explained(error), 'queueing a task again');
    }
  }

  /**
   * The delayed jobs of tasks set aside for their tenant's cap on calls, whose turn came: back in
   * line at their priority. A job no longer delayed was promoted (by its delay's end, or another
   * release) or removed meanwhile, and is left as it is.
   */
  async #promote(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        try {
          const job = await Job.fromId(this.#jobs(), id);
          if (job && (await job.isDelayed())) await job.promote();
        } catch (error) {
          // Promoted meanwhile by another instance's sweep, or its own release.
          if (String(error).includes('not in the delayed state')) return;
          if (!this.#closed) this.#options.onError?.(error, `promoting task ${id}`);
        }
      }),
    );
  }

  /** A task that left the line while queued: its job leaves BullMQ's queue too. */
  async #dequeue(id: string): Promise<void> {
    // A worker that took the job meanwhile finds the task finished and skips it.
    await this.#jobs()
      .remove(id)
      .catch((error: unknown) => this.#options.onError?.(error, `dequeueing task ${id}`));
  }

  /**
   * Sets the timer for `at` (wall clock: the instances share the store's times) unless one is set
   * for earlier already.
   */
  #wakeAt(at: number): void {
    if (!this.#closed) this.#wakeTimer.at(at + wallToMonotonic(this.#clock));
  }

  /**
   * Ends the queued tasks past their deadline and queues the retries due, then waits for the
   * next, or for the sweep. Every instance does this on its own timer; the script hands each
   * task to one of them, which keeps it until its job is added (and hands it out again should
   * that instance die first). Should Redis fail, it is tried again a second later.
   */
  async #wake(): Promise<void> {
    // Before the sweep's timer is set, so the next sweep finds a whole SWEEP_MS gone.
    const wokeAt = this.#clock.monotonic();
    try {
      // Its failure is what /health reports on an instance that gets no requests, whose Redis
      // may hang without a socket error to tell of it. Counted as a read: with nothing due it
      // writes nothing, so its success says Redis answers, not that it takes writes.
      const { expired, due, nextDue, released } = await this.#sweep();
      // The retries first: each is handed to this instance on a lease, which a thousand
      // dequeues of expired tasks, one round trip each, could outlast.
      for (const { id, priority } of due) this.#dueRetries.set(id, priority);
      for (const [id, priority] of this.#dueRetries) {
        await this.#jobs().add(JOB_NAME, {}, { jobId: id, priority });
        this.#dueRetries.delete(id);
      }
      for (const id of expired) await this.#dequeue(id);
      if (nextDue !== null) this.#wakeAt(nextDue);
      this.#wakeAt(this.#clock.now() + SWEEP_MS);
      await this.#promote(released);
      // Emptied without a reconnect (FLUSHALL, eviction), Redis has lost the cap unseen. Read
      // once a sweep, not at every wake: deadlines and retries wake an instance once a task.
      if (wokeAt - this.#limitsReadAt >= SWEEP_MS) {
        this.#limitsReadAt = wokeAt;
        await this.#restoreLimits(this.#jobs());
      }
      if (wokeAt - this.#evictionReadAt >= EVICTION_CHECK_MS) {
        await this.#checkEvictionPolicy('sweep');
      }
    } catch (error) {
      // The script's failure is logged already, as it was noted.
      if (!(error instanceof StoreUnavailableError)) {
        this.#options.onError?.(error, 'queueing retries due');
      }
      this.#wakeAt(this.#clock.now() + 1_000);
    }
  }

  /**
   * The wake script, read as any read, but while Redis cannot be reached logged once per outage
   * rather than at every retry (a second apart, on every instance): the store's error log would
   * repeat it each minute, and again whenever ioredis's words for the failure change. Its
   * success after an outage is said. A failure from a Redis that answers (a refused write, a
   * permission taken away) is no outage: it is logged as every other, and lasts as long.
   */
  async #sweep(): Promise<WakeReply> {
    const doing = 'expiring queued tasks and queueing retries';
    let reply: WakeReply;
    try {
      reply = await this.#store.wake(
        this.#clock.now(),
        EXPIRED,
        this.#options.tenantMaxInFlight ?? null,
      );
    } catch (error) {
      const explained = this.#explained(error);
      if (!isUnreachable(explained)) throw this.#failures.failed(explained, doing);
      if (this.#sweepOutage) {
        this.#sweepOutage.failures++;
        throw this.#failures.noted(explained, doing);
      }
      this.#sweepOutage = { since: this.#clock.monotonic(), failures: 1 };
      throw this.#failures.failed(explained, doing);
    }
    this.#failures.answered();
    const outage = this.#sweepOutage;
    if (outage) {
      this.#sweepOutage = null;
      const seconds = Math.round((this.#clock.monotonic() - outage.since) / 1_000);
      this.#options.onWarning?.(
        `Redis at ${displayUrl(this.#options.url)} answers the sweep again after ${seconds} s (${outage.failures} failed ${outage.failures === 1 ? 'sweep' : 'sweeps'})`,
      );
    }
    return reply;
  }

  async #discard(id: string): Promise<void> {
    try {
      const event = await this.#store.discard(id);
      if (event) this.#feed.publish(event);
      this.#undiscarded.delete(id);
    } catch (error) {
      this.#undiscarded.add(id);
      // Redis away: the refusal that led here said so, and Redis's return takes it back then.
      if (isUnreachable(this.#explained(error))) return;
      this.#options.onError?.(error, `taking back task ${id}, whose admission failed`);
    }
  }

  async #retryDiscards(): Promise<void> {
    for (const id of [...this.#undiscarded]) await this.#discard(id);
  }

  /** A write: its failure is noted for `health()` (and thrown as unavailable), its success clears it. */
  async #write<T>(doing: string, operation: () => Promise<T>): Promise<T> {
    const result = await this.#read(doing, operation);
    this.#failures.succeeded();
    return result;
  }

  /** A read: its failure is noted for `health()` and thrown as unavailable. */
  async #read<T>(doing: string, operation: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await operation();
    } catch (error) {
      throw this.#failures.failed(this.#explained(error), doing);
    }
    this.#failures.answered();
    return result;
  }

  /**
   * While the connection is down, ioredis's own words ("Stream isn't writeable") say little.
   * Its status may still read `ready` for a moment after the socket closed, so the words of a
   * lost connection count too. A refusal from a Redis that answers gets the remedy beside it.
   */
  #explained(error: unknown): unknown {
    const where = displayUrl(this.#options.url);
    if (isCommandTimeout(error)) {
      return new RedisUnreachableError(
        `Redis at ${where} did not answer within ${this.#options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS} ms`,
        { cause: error },
      );
    }
    const status = this.#commands.status;
    if (status === 'ready' && !isConnectionLoss(error)) {
      return withRemedy(error, redisUser(this.#options.url), this.#options.prefix);
    }
    const why =
      this.#connectionError ??
      (status === 'ready' ? 'the connection was lost' : `the connection is ${status}`);
    return new RedisUnreachableError(
      this.#credentialsRefused()?.message ?? `Redis at ${where} cannot be reached (${why})`,
      { cause: error },
    );
  }

  /**
   * A Redis that took a password (or changed it) under the running instance refuses its
   * reconnections: the remedy a start gives, not an outage to wait out.
   */
  #credentialsRefused(): Error | null {
    const said = this.#connectionError;
    return said === null ? null : credentialsRefusal(this.#options.url, said, undefined);
  }

  #jobs(): Queue {
    if (!this.#queue) throw new Error('the Redis backend is not open');
    return this.#queue;
  }

  #client(options: Parameters<RedisConnector>[1]): Redis {
    const client = (this.#options.connect ?? connectToRedis)(this.#options.url, options);
    client.on('error', (error: Error) => {
      this.#connectionError = error.message;
    });
    this.#clients.push(client);
    return client;
  }

  #disconnect(): void {
    for (const client of this.#clients) client.disconnect();
  }
}
