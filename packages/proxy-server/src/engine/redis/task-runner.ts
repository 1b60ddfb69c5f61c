import { DelayedError, type Job, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock, Timer } from '../../clock.js';
import type { RetryDecision } from '../retry-policy.js';
import type { StopReport, TaskEvent, TaskJob, TaskProcessor } from '../task-backend.js';
import { taskError } from '../task-error.js';
import {
  isCutOff,
  pastMaxRequeues,
  pastMaxRequeuesWarning,
  retriedAttempt,
  type TaskOutcome,
} from '../task-record.js';
import { EXPIRED, LEFT_BY_DEAD_PROCESS, pastMaxRequeuesError } from './recovery.js';
import type { RedisKeys } from './redis-keys.js';
import type { StoreFailures } from './store-failures.js';
import type { RedisTaskStore, StartReply } from './task-store.js';

export interface TaskRunnerOptions {
  store: RedisTaskStore;
  keys: RedisKeys;
  /** Calls this instance makes at once (BullMQ's global concurrency caps all instances). */
  concurrency: number;
  longTaskThresholdMs: number;
  /** How many times a task cut off goes back in line (0: never), as the backend's option. */
  maxRequeues: number;
  /** Whether and when a failed call is tried again. */
  retry: RetryDecision;
  /** Most calls in flight for one tenant, across the instances (fair sharing); null: no cap. */
  tenantMaxInFlight: number | null;
  /** Promotes the delayed jobs of tasks set aside for their tenant's cap whose turn came. */
  promote: (ids: readonly string[]) => Promise<void>;
  /** How long a worker's lease on a call lasts unless renewed: how soon a dead one's is free. */
  lockDurationMs: number;
  /** How often BullMQ looks for calls whose lease ran out. */
  stalledIntervalMs: number;
  clock: Clock;
  failures: StoreFailures;
  /** Tells an event this instance made to every listener. */
  publish: (event: TaskEvent) => void;
  onError: (error: unknown, doing: string) => void;
  /** Hears what an operator should know that is no failure of Redis to answer. */
  onWarning: (message: string) => void;
}

/** A task's job carries nothing: the task's record holds its request. */
type JobData = Record<string, never>;

/**
 * A task whose upstream call runs in this instance, from the moment its start is asked for: a stop waits for it and cuts it off, and a
 * cancel aborts it, even before its call begins. The attempt and its times are set once started.
 */
interface Run {
  readonly id: string;
  attempt: number;
  maxAttempts: number;
  startedAt: number;
  readonly controller: AbortController;
  /** The call has ended (its outcome is being saved). */
  ended: boolean;
  /** A cancel (or another instance) finished the task: this call's outcome does not count. */
  finishedElsewhere: boolean;
  stoppedForShutdown: boolean;
}

const RETRY_DELAY_MS = { first: 100, max: 5_000 } as const;
/** After a shutdown's grace, how long outcomes may take to be saved before they are left behind. */
const SAVE_GRACE_MS = 5_000;
/**
 * BullMQ fails a job handed out again after a stall this many times, without calling us; the
 * start script decides instead (interrupted, or run again), so BullMQ never should.
 */
const STALLS_BEFORE_FAILING = 1_000_000;
/**
 * How long the job of a task set aside for its tenant's cap on calls stays delayed unless it is
 * released first: when a call of its tenant ends, or by the sweep (every instance's, every 5 s),
 * which finds a tenant with room and tasks set aside. Only should every instance stop for that
 * long does the delay's end hand the job out again; a shorter one would hand out every task set
 * aside again and again, each taking a start from --max-rps.
 */
const PARKED_JOB_DELAY_MS = 3_600_000;

/**
 * Runs tasks through the processor as BullMQ's `Worker` hands their jobs out: BullMQ keeps the
 * order, the lease on each job (renewed while the call runs), the global cap on calls across
 * instances, and hands out again the jobs of a worker that died. Around each call this marks
 * the task started and saves its outcome (the start and finish scripts), holding the job the
 * while: a save that fails is retried, and the slot stays taken, until it is written.
 */
export class TaskRunner {
  readonly #options: TaskRunnerOptions;
  readonly #running = new Map<string, Run>();
  readonly #sleepers = new Set<() => void>();
  #worker: Worker<JobData, void> | null = null;
  #idle: (() => void)[] = [];
  #stopping = false;
  #abandoning = false;
  /** Tasks whose outcome (or requeue) was left unsaved by `giveUpSaving`. */
  readonly #unsaved: string[] = [];

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
  }

  /** Whether this instance runs tasks (its slots count as free room in the queue). */
  get started(): boolean {
    return this.#worker !== null;
  }

  start(processor: TaskProcessor, connection: Redis): void {
    const { keys, concurrency, lockDurationMs, stalledIntervalMs, onError } = this.#options;
    // Two parameters: BullMQ gives a processor that declares a third an AbortSignal of its own,
    // which nothing here needs (cancels and shutdowns abort the run's own controller).
    const process = (job: Job<JobData, void>, token?: string) =>
      this.#run(processor, job, token ?? '');
    this.#worker = new Worker<JobData, void>(keys.queueName, process, {
      connection,
      prefix: keys.bullPrefix,
      concurrency,
      lockDuration: lockDurationMs,
      stalledInterval: stalledIntervalMs,
      maxStalledCount: STALLS_BEFORE_FAILING,
      runRetryDelay: 1_000,
    });
    this.#worker.on('error', (error) => onError(error, 'running queued tasks (BullMQ worker)'));
  }

  /** Redis answers again: the starts and saves waiting to retry go now. */
  retryNow(): void {
    this.#wakeSleepers();
  }

  /** Task `id` finished (a cancel, or another instance): its call here, if any, is aborted. */
  finishedElsewhere(id: string): void {
    const run = this.#running.get(id);
    if (!run || run.ended) return;
    run.finishedElsewhere = true;
    run.controller.abort(new Error('the task was cancelled'));
  }

  /**
   * Takes no more jobs; calls in flight get `graceMs`, then are aborted and their outcomes
   * saved (or their tasks put back in line), for at most a few seconds more if Redis fails.
   */
  async stop(graceMs: number): Promise<StopReport> {
    this.#stopping = true;
    this.#wakeSleepers();
    await this.#worker?.pause(true);
    if (this.#running.size > 0 && !(await this.#idleWithin(graceMs))) {
      for (const run of this.#running.values()) {
        if (run.ended) continue;
        run.stoppedForShutdown = true;
        run.controller.abort(new Error('the proxy is shutting down'));
      }
      if (!(await this.#idleWithin(SAVE_GRACE_MS))) this.giveUpSaving();
      await this.#idleWithin(Number.POSITIVE_INFINITY);
    }
    const ids = [...this.#unsaved];
    if (ids.length > 0) {
      // A Redis that hung may still apply the writes it was sent once it wakes.
      const lost =
        ids.length === 1
          ? "the outcome of 1 task was not confirmed saved before the stop: unless Redis had it, it is lost and the task is recovered as a dead instance's"
          : `the outcomes of ${ids.length} tasks were not confirmed saved before the stop: those Redis did not have are lost and their tasks recovered as a dead instance's`;
      this.#options.onError(new Error(`${lost}: ${ids.join(', ')}`), 'stopping');
    }
    return { unsavedOutcomes: ids, notStarted: 0 };
  }

  /**
   * From now on an outcome that cannot be saved at once is left behind: BullMQ keeps its job
   * until the lease runs out, and another instance recovers the task.
   */
  giveUpSaving(): void {
    this.#abandoning = true;
    this.#wakeSleepers();
  }

  /**
   * Lets BullMQ finish with its jobs (once every run has returned), then closes the worker. With
   * `redisAway`, BullMQ waits neither for the commands its worker sent nor for Redis to take its
   * QUIT, and jobs it could not mark done are recovered as a dead instance's.
   */
  async close(redisAway = false): Promise<void> {
    await this.#worker?.close(redisAway);
  }

  /** BullMQ's processor: one job, from its start to its saved outcome. */
  async #run(processor: TaskProcessor, job: Job<JobData, void>, token: string): Promise<void> {
    const id = job.id;
    if (id === undefined) return;
    if (this.#stopping) return this.#giveBack(job, token);
    const run: Run = {
      id,
      attempt: 0,
      maxAttempts: 1,
      startedAt: this.#options.clock.now(),
      controller: new AbortController(),
      ended: false,
      finishedElsewhere: false,
      stoppedForShutdown: false,
    };
    // Before the start, not after it: a stop that came meanwhile would not wait for this job,
    // and its call would run on past the grace, holding BullMQ's close open.
    this.#running.set(id, run);
    try {
      const started = await this.#start(id, token);
      if (started === undefined) return await this.#giveBack(job, token);
      if (started.kind === 'capped') return await this.#park(job, token);
      if (started.kind !== 'started') return;
      run.attempt = started.task.attempts;
      run.maxAttempts = started.task.maxAttempts;
      run.startedAt = started.task.startedAt ?? run.startedAt;
      if (run.finishedElsewhere) return;
      const { maxRequeues } = this.#options;
      let outcome: TaskOutcome;
      if (run.stoppedForShutdown) {
        // Cut off by a stop before its call began: the target never saw it, so it goes back in
        // line whatever --requeue-interrupted says. The start counted an attempt and the history
        // keeps it as cut off; with --requeue-interrupted it counts against --max-requeues, as on
        // the local stores, whose call starts with the stop's signal and ends interrupted.
        await this.#requeue(run, job, token, maxRequeues > 0 ? maxRequeues : null);
        outcome = pastMaxRequeues(maxRequeues, false);
      } else {
        outcome = await this.#call(processor, run, {
          id,
          request: started.request,
          attempt: run.attempt,
          timeoutMs: started.timeoutMs,
        });
        run.ended = true;
        if (run.finishedElsewhere) return;
        // Flagged by the stop as its call ended on its own (an answer in hand): that answer stands.
        if (run.stoppedForShutdown && maxRequeues > 0 && isCutOff(outcome)) {
          await this.#requeue(run, job, token, maxRequeues);
          // Still here, past the cap: the task ends, saying why it did not go back in line.
          outcome = pastMaxRequeues(maxRequeues);
        }
      }
      // A stop is no reason to give up on a task with attempts left: its retry waits in Redis,
      // for whichever instance is up when it is due. Only a call the stop cut off ends here.
      const retryInMs = run.stoppedForShutdown
        ? null
        : this.#options.retry(outcome, run.attempt, run.maxAttempts);
      // The job ends here either way; a retry's next job is added when its attempt is due.
      if (retryInMs !== null && (await this.#retry(run, outcome, retryInMs))) return;
      // Left behind: BullMQ keeps the job, its lease runs out, and another instance recovers it.
      if ((await this.#save(run, outcome)) === 'abandoned') {
        this.#unsaved.push(run.id);
        throw new WaitingError();
      }
    } finally {
      // BullMQ may hand a job whose lease lapsed back to this instance while its first call runs:
      // the later run holds the entry then, and the earlier one must not take it away.
      if (this.#running.get(id) === run) this.#running.delete(id);
      if (this.#running.size === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  /** Marks the task started, retrying while Redis fails; undefined when stopping meanwhile. */
  async #start(id: string, token: string): Promise<StartReply | undefined> {
    const { store, clock, failures, publish, maxRequeues, onWarning } = this.#options;
    const leftBehind = {
      maxRequeues,
      interrupted: LEFT_BY_DEAD_PROCESS,
      pastMaxRequeues: pastMaxRequeuesError(maxRequeues),
      expired: EXPIRED,
    };
    for (let delay: number = RETRY_DELAY_MS.first; ; delay = nextDelay(delay)) {
      try {
        const reply = await store.start(
          id,
          clock.now(),
          token,
          leftBehind,
          this.#options.tenantMaxInFlight,
        );
        failures.succeeded();
        if (reply.kind === 'interrupted' || reply.kind === 'expired') {
          publish(reply.event);
          this.#promote(reply.released);
        }
        if (reply.kind === 'interrupted' && maxRequeues > 0)
          onWarning(pastMaxRequeuesWarning([id], maxRequeues));
        if (reply.kind === 'started' && reply.requeued) publish(reply.requeued);
        if (reply.kind === 'started' && reply.event) publish(reply.event);
        return reply;
      } catch (error) {
        failures.failed(error, 'starting a task');
      }
      if (this.#stopping) return undefined;
      await this.#sleep(delay);
    }
  }

  async #call(processor: TaskProcessor, run: Run, job: TaskJob): Promise<TaskOutcome> {
    try {
      return await processor(job, run.controller.signal);
    } catch (error) {
      return {
        status: 'failed',
        result: null,
        error: taskError('upstream_error', `the proxy failed to forward it: ${String(error)}`),
      };
    }
  }

  /** Writes the call's outcome, retrying while Redis fails, until written or abandoned. */
  async #save(run: Run, outcome: TaskOutcome): Promise<'saved' | 'abandoned'> {
    const { store, clock, failures, publish, longTaskThresholdMs } = this.#options;
    const completedAt = clock.now();
    const finish = {
      outcome,
      completedAt,
      isLong: completedAt - run.startedAt > longTaskThresholdMs,
    };
    for (let delay: number = RETRY_DELAY_MS.first; ; delay = nextDelay(delay)) {
      try {
        const reply = await store.finish(run.id, finish, { attempt: run.attempt });
        failures.succeeded();
        if (reply.kind === 'ok') {
          publish(reply.event);
          this.#promote(reply.released);
        }
        if (reply.kind === 'gone') this.#warnGone(run, outcome);
        if (reply.kind === 'stale') this.#warnStale(run, outcome);
        if (reply.kind === 'interrupted') this.#warnInterrupted(run, outcome);
        return 'saved';
      } catch (error) {
        failures.failed(error, `saving the outcome of task ${run.id} (kept, retried)`);
      }
      if (this.#abandoning) return 'abandoned';
      await this.#sleep(delay);
    }
  }

  /**
   * Puts the task back to wait for its next attempt; false when that cannot be written now, and
   * the outcome is then saved as the task's end, as the local backend does, rather than held.
   */
  async #retry(run: Run, outcome: TaskOutcome, retryInMs: number): Promise<boolean> {
    const { store, clock, failures, publish, onError } = this.#options;
    const finishedAt = clock.now();
    const nextAttemptAt = finishedAt + retryInMs;
    const record = retriedAttempt(run, outcome, finishedAt, nextAttemptAt);
    const finish = { outcome, completedAt: finishedAt, isLong: false };
    try {
      const reply = await store.retry(run.id, {
        attempt: run.attempt,
        finish,
        nextAttemptAt,
        record,
      });
      failures.succeeded();
      if (reply.kind === 'retrying') {
        publish(reply.event);
        this.#promote(reply.released);
      }
      // Finished: a cancel ended the task meanwhile, and nothing is left to save or say.
      if (reply.kind === 'gone') this.#warnGone(run, outcome);
      if (reply.kind === 'stale') this.#warnStale(run, outcome);
      if (reply.kind === 'interrupted') this.#warnInterrupted(run, outcome);
      return true;
    } catch (error) {
      onError(error, `scheduling a retry of task ${run.id}`);
      return false;
    }
  }

  /**
   * Only a Redis that lost its data loses a task mid-call (a removal takes finished ones): the
   * task's caller will find it gone, and this line is all that says what its call came to.
   */
  #warnGone(run: Run, outcome: TaskOutcome): void {
    this.#options.onWarning(
      `task ${run.id} was gone from Redis when its call ended (${described(outcome)}): its outcome is not kept; Redis lost its data (restarted without persistence, flushed, or evicted)`,
    );
  }

  /**
   * The call ran on here while the task was started again: its lease ran out (Redis away
   * longer), and BullMQ handed the job out again, to this instance or another.
   */
  #warnStale(run: Run, outcome: TaskOutcome): void {
    this.#options.onWarning(
      `the outcome of task ${run.id}'s attempt ${run.attempt} (${described(outcome)}) came after the task was started again (its lease ran out while this instance could not reach Redis, and its job was handed out again): it is not kept, and the target had the call twice`,
    );
  }

  /**
   * As `#warnStale`, without --requeue-interrupted: the task was not started again but ended
   * `interrupted`, and the answer the target did give is not kept over that end, which readers
   * and a callback may have had already.
   */
  #warnInterrupted(run: Run, outcome: TaskOutcome): void {
    this.#options.onWarning(
      `the outcome of task ${run.id}'s attempt ${run.attempt} (${described(outcome)}) came after another instance ended the task interrupted (its lease ran out while this instance could not reach Redis): it is not kept, though the target had the call`,
    );
  }

  /**
   * A call cut off by a shutdown goes back to the head of the line, task and job; returns only
   * when the task was cut off `maxRequeues` times before (null: no cap), and stays as it is.
   */
  async #requeue(
    run: Run,
    job: Job<JobData, void>,
    token: string,
    maxRequeues: number | null,
  ): Promise<void> {
    const { store, failures, publish, clock } = this.#options;
    const endedAt = clock.now();
    for (let delay: number = RETRY_DELAY_MS.first; ; delay = nextDelay(delay)) {
      try {
        const reply = await store.requeue(run.id, run.attempt, endedAt, maxRequeues);
        failures.succeeded();
        if (reply.kind === 'spent') return;
        if (reply.kind === 'ok') {
          publish(reply.event);
          this.#promote(reply.released);
        }
        return this.#giveBack(job, token, reply.kind === 'ok' ? reply.jobPriority : null);
      } catch (error) {
        failures.failed(error, `putting task ${run.id} back in line`);
      }
      if (this.#abandoning) {
        // The task stays processing, as an outcome left unsaved leaves it: said so alike.
        this.#unsaved.push(run.id);
        throw new WaitingError();
      }
      await this.#sleep(delay);
    }
  }

  /**
   * Hands a job back to the head of BullMQ's queue without running it, with a new priority when
   * its task took a new turn. Should Redis refuse, BullMQ keeps the job until its lease runs out
   * and hands it out again all the same.
   */
  async #giveBack(
    job: Job<JobData, void>,
    token: string,
    priority: number | null = null,
  ): Promise<never> {
    try {
      await job.moveToWait(token);
      if (priority !== null) await job.changePriority({ priority });
    } catch (error) {
      this.#options.onError(error, `putting task ${job.id} back in line`);
    }
    throw new WaitingError();
  }

  /**
   * The job of a task the start script set aside (its tenant at its cap on calls): delayed, so
   * that BullMQ hands out the others' meanwhile, until the task is released (a call of its
   * tenant ends, or the sweep finds room) and its job promoted. Should Redis refuse the move,
   * BullMQ keeps the job until its lease runs out and hands it out again; should the park script
   * fail, the task is set aside all the same, and the sweep finds it.
   */
  async #park(job: Job<JobData, void>, token: string): Promise<never> {
    const { store, tenantMaxInFlight, onError } = this.#options;
    const id = job.id as string;
    try {
      // BullMQ's own time, as it promotes delayed jobs by it.
      await job.moveToDelayed(Date.now() + PARKED_JOB_DELAY_MS, token);
    } catch (error) {
      onError(error, `setting task ${id} aside until its tenant has a call free`);
      throw new WaitingError();
    }
    try {
      const parked = await store.park(id, tenantMaxInFlight ?? 0);
      if (parked === 'free') this.#promote([id]);
      // Cancelled, shed or expired meanwhile: nothing is left to run. (A task released and
      // started by another worker meanwhile, `started`, runs on its job there.)
      if (parked === 'gone') await job.remove();
    } catch (error) {
      onError(error, `setting task ${id} aside until its tenant has a call free`);
    }
    throw new DelayedError();
  }

  #promote(ids: readonly string[]): void {
    if (ids.length > 0) void this.#options.promote(ids);
  }

  #sleep(ms: number): Promise<void> {
    const { clock } = this.#options;
    return new Promise((resolve) => {
      let timer: Timer | null = null;
      const wake = () => {
        if (timer !== null) clock.clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      this.#sleepers.add(wake);
      timer = clock.setTimeout(wake, ms);
      timer.unref?.();
    });
  }

  #wakeSleepers(): void {
    for (const wake of [...this.#sleepers]) wake();
  }

  /** Resolves true once no call is in flight, or false after `ms`. */
  #idleWithin(ms: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    if (ms <= 0) return Promise.resolve(false);
    const { clock } = this.#options;
    return new Promise((resolve) => {
      let timer: Timer | null = null;
      const wake = () => {
        if (timer !== null) clock.clearTimeout(timer);
        resolve(true);
      };
      this.#idle.push(wake);
      if (Number.isFinite(ms)) {
        timer = clock.setTimeout(() => {
          this.#idle = this.#idle.filter((waiting) => waiting !== wake);
          resolve(false);
        }, ms);
      }
    });
  }
}

const nextDelay = (delay: number): number => Math.min(RETRY_DELAY_MS.max, delay * 2);

/** An outcome in a log line: its status, and the target's if it answered. */
function described(outcome: TaskOutcome): string {
  return `${outcome.status}${outcome.result ? `, status ${outcome.result.statusCode}` : ''}`;
}
