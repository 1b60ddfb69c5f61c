import type { Task, TaskStatus, TaskSummary as WireSummary } from 'proxy-client/wire';
import type { Clock } from '../clock.js';
import type { TaskBackend } from '../engine/task-backend.js';
import type { TaskRecord, TaskSummary } from '../engine/task-record.js';
import { estimateInputs, type Pace, queueWaits, retryAfterSeconds } from './estimates.js';
import type { InFlightReads } from './in-flight-reads.js';
import type { Totals } from './totals.js';
import { toWireSummary, toWireTask, type WireContext } from './wire-task.js';

export interface TaskViewsOptions {
  backend: TaskBackend;
  /** Aborts when waiting reads must end (shutdown). */
  waitsOver: AbortSignal;
  totals: Totals;
  clock: Clock;
  pace: Pace;
  longTaskThresholdMs: number;
  /** When the calls in flight started, read at most once a second (shared with admission). */
  inFlight: InFlightReads;
}

export interface WirePage {
  tasks: WireSummary[];
  total: number;
}

const PENDING_RETRY_AFTER_S = { min: 1, max: 30 } as const;
/** Tasks as callers read them: the wire form, with queue position and estimated start. */
export class TaskViews {
  readonly #options: TaskViewsOptions;

  constructor(options: TaskViewsOptions) {
    this.#options = options;
  }

  async get(id: string): Promise<Task | undefined> {
    const task = await this.#options.backend.get(id);
    return task && this.toWire(task);
  }

  async toWire(task: TaskRecord): Promise<Task> {
    return toWireTask(task, await this.#context([task]));
  }

  /** An event's task as callers read it, as `get` answers it. */
  async summaryToWire(task: TaskSummary): Promise<WireSummary> {
    return toWireSummary(task, await this.#context([task]));
  }

  /**
   * An event's task as callers read it, without waiting for a read of the store: every stream
   * of all tasks then shares one message built at once. A queued task's estimate goes by the
   * calls in flight as last read (when each started does not change; a call that ended since
   * counts as overdue), and asks for a fresh read when that one is over a second old.
   */
  summaryToWireNow(task: TaskSummary): WireSummary {
    if (task.queuePosition === null) return toWireSummary(task, this.#contextNow(null));
    this.readInFlight();
    return toWireSummary(task, this.#contextNow(this.#options.inFlight.last));
  }

  /** Reads the calls in flight unless a read is under a second old: for `summaryToWireNow`. */
  readInFlight(): void {
    void this.#options.inFlight.startedAt();
  }

  /**
   * The task once it is finished, or as it is after `waitMs` or when `signal` aborts (the
   * client went away); undefined when there is no such task.
   */
  async waitForFinish(id: string, waitMs: number, signal: AbortSignal): Promise<Task | undefined> {
    const { backend, clock } = this.#options;
    const stop = new AbortController();
    const timer = clock.setTimeout(() => stop.abort(new Error('wait over')), waitMs);
    const onClientGone = () => stop.abort(signal.reason);
    const { waitsOver } = this.#options;
    signal.addEventListener('abort', onClientGone, { once: true });
    waitsOver.addEventListener('abort', onClientGone, { once: true });
    if (signal.aborted) stop.abort(signal.reason);
    if (waitsOver.aborted) stop.abort(waitsOver.reason);
    try {
      const finished = await backend.waitForFinish(id, stop.signal);
      return finished && toWireTask(finished, await this.#context([finished]));
    } catch (error) {
      if (!stop.signal.aborted) throw error;
      return this.get(id);
    } finally {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onClientGone);
      waitsOver.removeEventListener('abort', onClientGone);
    }
  }

  async list(query: { status?: TaskStatus; limit: number; offset: number }): Promise<WirePage> {
    const page = await this.#options.backend.list(query);
    const context = await this.#context(page.tasks);
    return { tasks: page.tasks.map((task) => toWireSummary(task, context)), total: page.total };
  }

  /** `Retry-After` for a pending task: seconds to its estimated start, within [1, 30]. */
  retryAfterS(task: Task): number | null {
    if (task.status !== 'pending' || task.estimated_start_at === null) return null;
    const waitMs = Date.parse(task.estimated_start_at) - this.#options.clock.now();
    return retryAfterSeconds(waitMs, PENDING_RETRY_AFTER_S.min, PENDING_RETRY_AFTER_S.max);
  }

  /**
   * Fixed at one moment, so a whole page agrees; asks the backend for the calls in flight only
   * when a task of it is queued.
   */
  async #context(tasks: readonly TaskSummary[]): Promise<WireContext> {
    const estimating = tasks.some((task) => task.queuePosition !== null);
    return this.#contextNow(estimating ? await this.#options.inFlight.startedAt() : null);
  }

  #contextNow(inFlightStartedAt: readonly number[] | null): WireContext {
    const { totals, clock, pace, longTaskThresholdMs } = this.#options;
    const now = clock.now();
    const inputs = estimateInputs(totals.avgProcessingMs, inFlightStartedAt, pace, now);
    return { now, longTaskThresholdMs, waitMsAt: queueWaits(inputs) };
  }
}
