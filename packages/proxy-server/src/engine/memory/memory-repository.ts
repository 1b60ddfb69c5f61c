import {
  TASK_STATUSES,
  type TaskStatus,
  TERMINAL_STATUSES,
  type TerminalStatus,
} from 'proxy-client/wire';
import type {
  OpenedRepository,
  RepositoryCounts,
  StartedRow,
  SummaryRow,
  TaskRepository,
  TaskRow,
} from '../local/task-repository.js';
import type { BinaryString, PackedHeaders } from '../stored-request.js';
import type { ListQuery } from '../task-backend.js';
import {
  type AttemptRecord,
  attemptLogOf,
  type CallbackState,
  cutOffAttempt,
  type NewTask,
  newCallback,
  type StoredResult,
  type TaskOutcome,
  type TaskPolicy,
  type TaskRequest,
} from '../task-record.js';
import { ByteSlabs } from './byte-slabs.js';
import {
  type FinishedFields,
  type RecordPlace,
  readFinished,
  readRequest,
  readResultBody,
  type TaskFields,
  writeFinished,
} from './finished-record.js';
import { RecentStrings } from './recent-strings.js';
import { TaskList } from './task-list.js';

/**
 * A task that is yet to finish, as memory keeps it: fixed fields (one hidden class) plus its
 * list links. Most tasks share the one default policy object and keep no attempt history or
 * callback, so a queue a million long costs few objects.
 */
class MemoryTask implements TaskFields {
  status: TaskStatus = 'pending';
  startedAt: number | null = null;
  readonly completedAt = null;
  readonly isLong = false;
  attempts = 0;
  readonly result = null;
  readonly error = null;
  retriedAs: string | null = null;
  nextAttemptAt: number | null = null;
  earlierAttempts: AttemptRecord[] | null = null;
  callback: CallbackState | null;
  order: number;
  newerInAll: Held | null = null;
  olderInAll: Held | null = null;
  newerInStatus: Held | null = null;
  olderInStatus: Held | null = null;

  constructor(
    readonly seq: number,
    readonly id: string,
    readonly method: string,
    readonly path: string,
    readonly createdAt: number,
    readonly headers: PackedHeaders,
    readonly body: BinaryString | null,
    readonly idempotencyKey: string | null,
    readonly requestHash: string | null,
    readonly retryOf: string | null,
    readonly policy: TaskPolicy,
  ) {
    this.order = seq;
    this.callback = newCallback(policy.callbackUrl);
  }
}

/**
 * A finished task: its fields as one record of bytes outside the heap (`finished-record.ts`),
 * with on the heap only its id, its list links and what the retention sweeps read. Finished
 * tasks are what memory holds by the million, and a young collection costs more the more
 * old-generation pages there are (docs/benchmarks.md, 5b).
 */
class FinishedTask implements RecordPlace {
  newerInAll: Held | null = null;
  olderInAll: Held | null = null;
  newerInStatus: Held | null = null;
  olderInStatus: Held | null = null;

  constructor(
    readonly id: string,
    readonly status: TerminalStatus,
    readonly completedAt: number,
    readonly isLong: boolean,
    readonly idempotencyKey: string | null,
    public slab: Buffer,
    public start: number,
  ) {}
}

type Held = MemoryTask | FinishedTask;

/**
 * Tasks in a Map for lookup by id, threaded on an all-tasks list and one list per status, so
 * counts are list sizes, pages walk only what they return, and finished tasks sit in completion
 * order for retention sweeps that start at the oldest. Nothing outlives the process.
 */
export class MemoryRepository implements TaskRepository {
  readonly kind = 'memory';
  readonly durable = false;
  readonly location = 'memory';
  readonly #tasks = new Map<string, Held>();
  readonly #byIdempotencyKey = new Map<string, Held>();
  readonly #all = new TaskList<Held>('all');
  readonly #byStatus = Object.fromEntries(
    TASK_STATUSES.map((status) => [status, new TaskList<Held>('status')]),
  ) as Record<TaskStatus, TaskList<Held>>;
  readonly #slabs = new ByteSlabs();
  readonly #strings = new RecentStrings();
  #long = 0;
  /**
   * The finished tasks whose callback is still to be delivered, by id: their count for `/stats`
   * without reading each record back from its slab, and few (a receiver's backlog) however many
   * tasks are held.
   */
  readonly #callbacksPending = new Set<string>();

  open(): OpenedRepository {
    return { pending: [], processing: [], nextSeq: 1, finishedCalls: null };
  }

  atomically<T>(writes: () => T): T {
    return writes();
  }

  insert(seq: number, task: NewTask): void {
    const { request } = task;
    const record = new MemoryTask(
      seq,
      task.id,
      request.method,
      this.#strings.same(request.path),
      task.createdAt,
      this.#strings.same(request.headers),
      request.body,
      task.idempotencyKey,
      task.requestHash,
      task.retryOf,
      task.policy,
    );
    this.#tasks.set(record.id, record);
    this.#all.addNewest(record);
    this.#byStatus.pending.addNewest(record);
    if (record.idempotencyKey !== null) this.#byIdempotencyKey.set(record.idempotencyKey, record);
    const original = task.retryOf === null ? undefined : this.#tasks.get(task.retryOf);
    if (original instanceof MemoryTask) original.retriedAs = record.id;
    else if (original) this.#rewrite(original, (fields) => ({ ...fields, retriedAs: record.id }));
  }

  findByIdempotencyKey(key: string): { id: string; requestHash: string | null } | undefined {
    const task = this.#byIdempotencyKey.get(key);
    if (!task) return undefined;
    const { requestHash } = task instanceof MemoryTask ? task : readFinished(task.id, task);
    return { id: task.id, requestHash };
  }

  start(id: string, startedAt: number): StartedRow | undefined {
    const task = this.#tasks.get(id);
    if (!(task instanceof MemoryTask) || task.status !== 'pending') return undefined;
    this.#move(task, 'processing');
    task.startedAt = startedAt;
    task.nextAttemptAt = null;
    task.attempts++;
    return { task: summaryOf(task), request: requestOf(task), timeoutMs: task.policy.timeoutMs };
  }

  finish(
    id: string,
    outcome: TaskOutcome,
    completedAt: number,
    isLong: boolean,
  ): SummaryRow | undefined {
    const task = this.#tasks.get(id);
    if (!(task instanceof MemoryTask)) return undefined;
    const fields = finishedFieldsOf(task, outcome, completedAt, isLong);
    const room = writeFinished(this.#slabs, fields, {
      requestHeaders: task.headers,
      requestBody: task.body,
      result: outcome.result?.body ?? null,
    });
    const finished = new FinishedTask(
      id,
      outcome.status,
      completedAt,
      isLong,
      task.idempotencyKey,
      room.slab,
      room.start,
    );
    this.#byStatus[task.status].remove(task);
    this.#byStatus[finished.status].addNewest(finished);
    this.#all.replace(task, finished);
    this.#tasks.set(id, finished);
    if (task.idempotencyKey !== null) this.#byIdempotencyKey.set(task.idempotencyKey, finished);
    if (isLong) this.#long++;
    if (task.callback?.state === 'pending') this.#callbacksPending.add(id);
    return summaryOf(fields);
  }

  retry(id: string, attempt: AttemptRecord, runAt: number, order: number): SummaryRow | undefined {
    const task = this.#tasks.get(id);
    if (!(task instanceof MemoryTask) || task.status !== 'processing') return undefined;
    this.#move(task, 'pending');
    task.earlierAttempts = [...(task.earlierAttempts ?? []), attempt];
    task.startedAt = null;
    task.nextAttemptAt = runAt;
    task.order = order;
    return summaryOf(task);
  }

  requeue(id: string, endedAt: number): SummaryRow | undefined {
    const task = this.#tasks.get(id);
    if (!(task instanceof MemoryTask) || task.status !== 'processing') return undefined;
    this.#move(task, 'pending');
    task.earlierAttempts = [...(task.earlierAttempts ?? []), cutOffAttempt(task, endedAt)];
    task.startedAt = null;
    return summaryOf(task);
  }

  setCallback(id: string, callback: CallbackState): boolean {
    const task = this.#tasks.get(id);
    if (!task) return false;
    if (task instanceof MemoryTask) {
      task.callback = callback;
      return true;
    }
    this.#rewrite(task, (fields) => ({ ...fields, callback }));
    if (callback.state === 'pending') this.#callbacksPending.add(id);
    else this.#callbacksPending.delete(id);
    return true;
  }

  pendingCallbacks(): { id: string; callback: CallbackState }[] {
    return [];
  }

  get(id: string): TaskRow | undefined {
    const task = this.#tasks.get(id);
    if (!task) return undefined;
    if (task instanceof MemoryTask) return Object.assign(summaryOf(task), { result: null });
    const fields = readFinished(id, task);
    const body = readResultBody(task, fields);
    const result: StoredResult | null =
      fields.result && body !== null ? { ...fields.result, body } : null;
    return Object.assign(summaryOf(fields), { result });
  }

  getRequest(id: string): TaskRequest | undefined {
    const task = this.#tasks.get(id);
    if (!task) return undefined;
    if (task instanceof MemoryTask) return requestOf(task);
    return readRequest(task, readFinished(id, task));
  }

  list(query: ListQuery): { rows: SummaryRow[]; total: number } {
    const list = query.status ? this.#byStatus[query.status] : this.#all;
    const rows = list
      .page(query.offset, query.limit)
      .map((task) => summaryOf(task instanceof MemoryTask ? task : readFinished(task.id, task)));
    return { rows, total: list.size };
  }

  counts(): RepositoryCounts {
    const counts = {
      total: this.#all.size,
      long: this.#long,
      callbacksPending: this.#callbacksPending.size,
    } as RepositoryCounts;
    for (const status of TASK_STATUSES) counts[status] = this.#byStatus[status].size;
    return counts;
  }

  removeFinished(completedBefore: number, limit: number): number {
    let removed = 0;
    for (const status of TERMINAL_STATUSES) {
      const list = this.#byStatus[status];
      for (
        let task = list.oldest;
        task && removed < limit && (task.completedAt ?? 0) <= completedBefore;
        task = list.oldest
      ) {
        this.#remove(task);
        removed++;
      }
    }
    return removed;
  }

  removeOldestFinished(count: number): number {
    let removed = 0;
    for (; removed < count; removed++) {
      // Each finished status's list is in completion order: the oldest is one of their tails.
      let oldest: Held | null = null;
      for (const status of TERMINAL_STATUSES) {
        const tail = this.#byStatus[status].oldest;
        if (tail && (oldest === null || (tail.completedAt ?? 0) < (oldest.completedAt ?? 0))) {
          oldest = tail;
        }
      }
      if (oldest === null) break;
      this.#remove(oldest);
    }
    return removed;
  }

  commit(): void {}

  /** No file to lose. */
  checkFiles(): void {}

  close(): void {}

  #remove(task: Held): void {
    this.#byStatus[task.status].remove(task);
    this.#all.remove(task);
    this.#tasks.delete(task.id);
    if (task.idempotencyKey !== null) this.#byIdempotencyKey.delete(task.idempotencyKey);
    if (task.isLong) this.#long--;
    this.#callbacksPending.delete(task.id);
  }

  /** Writes a finished task's record anew with a field changed; the old bytes go with their slab. */
  #rewrite(task: FinishedTask, change: (fields: FinishedFields) => FinishedFields): void {
    const fields = readFinished(task.id, task);
    const request = readRequest(task, fields);
    const room = writeFinished(this.#slabs, change(fields), {
      requestHeaders: request.headers,
      requestBody: request.body,
      result: readResultBody(task, fields),
    });
    task.slab = room.slab;
    task.start = room.start;
  }

  #move(task: MemoryTask, status: TaskStatus): void {
    this.#byStatus[task.status].remove(task);
    task.status = status;
    this.#byStatus[status].addNewest(task);
  }
}

/** The fields a task ends with, written once as its record. */
function finishedFieldsOf(
  task: MemoryTask,
  outcome: TaskOutcome,
  completedAt: number,
  isLong: boolean,
): TaskFields & { status: TerminalStatus } {
  return {
    seq: task.seq,
    id: task.id,
    method: task.method,
    path: task.path,
    createdAt: task.createdAt,
    idempotencyKey: task.idempotencyKey,
    requestHash: task.requestHash,
    retryOf: task.retryOf,
    policy: task.policy,
    status: outcome.status,
    startedAt: task.startedAt,
    completedAt,
    isLong,
    attempts: task.attempts,
    result: outcome.result,
    error: outcome.error,
    retriedAs: task.retriedAs,
    nextAttemptAt: null,
    earlierAttempts: task.earlierAttempts,
    callback: task.callback,
    order: task.order,
  };
}

function requestOf(task: MemoryTask): TaskRequest {
  return { method: task.method, path: task.path, headers: task.headers, body: task.body };
}

function summaryOf(task: TaskFields): SummaryRow {
  const { result, policy } = task;
  return {
    seq: task.seq,
    order: task.order,
    queuePosition: null,
    id: task.id,
    method: task.method,
    path: task.path,
    createdAt: task.createdAt,
    status: task.status,
    startedAt: task.startedAt,
    completedAt: task.completedAt,
    isLong: task.isLong,
    attempts: task.attempts,
    result: result && {
      statusCode: result.statusCode,
      headers: result.headers,
      encoding: result.encoding,
      bodyBytes: result.bodyBytes,
    },
    error: task.error,
    retryOf: task.retryOf,
    retriedAs: task.retriedAs,
    priority: policy.priority,
    tenant: policy.tenant,
    deadlineAt: policy.deadlineAt,
    maxAttempts: policy.maxAttempts,
    nextAttemptAt: task.nextAttemptAt,
    attemptLog: attemptLogOf(task, task.earlierAttempts ?? []),
    callback: task.callback,
  };
}
