import {
  TASK_STATUSES,
  type TaskError,
  type TaskStatus,
  TERMINAL_STATUSES,
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
  type NewTask,
  newCallback,
  type StoredResult,
  type TaskOutcome,
  type TaskPolicy,
  type TaskRequest,
} from '../task-record.js';
import { RecentStrings } from './recent-strings.js';
import { TaskList } from './task-list.js';
import { TextSlabs } from './text-slabs.js';

/**
 * Answers at least this long are kept outside the heap (`TextSlabs`); a shorter one costs less
 * as a string than the view that bytes outside the heap need.
 */
const OFF_HEAP_FROM_CHARS = 256;

/**
 * A task as memory keeps it: fixed fields (one hidden class) plus its list links. Most tasks
 * share the one default policy object and keep no attempt history or callback, so a task held
 * by the million costs few objects.
 */
class MemoryTask {
  status: TaskStatus = 'pending';
  startedAt: number | null = null;
  completedAt: number | null = null;
  isLong = false;
  attempts = 0;
  result: StoredResult | null = null;
  error: TaskError | null = null;
  retriedAs: string | null = null;
  nextAttemptAt: number | null = null;
  earlierAttempts: AttemptRecord[] | null = null;
  callback: CallbackState | null;
  order: number;
  newerInAll: MemoryTask | null = null;
  olderInAll: MemoryTask | null = null;
  newerInStatus: MemoryTask | null = null;
  olderInStatus: MemoryTask | null = null;

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
 * Tasks in a Map for lookup by id, threaded on an all-tasks list and one list per status, so
 * counts are list sizes, pages walk only what they return, and finished tasks sit in completion
 * order for retention sweeps that start at the oldest. Nothing outlives the process.
 */
export class MemoryRepository implements TaskRepository {
  readonly kind = 'memory';
  readonly durable = false;
  readonly location = 'memory';
  readonly #tasks = new Map<string, MemoryTask>();
  readonly #byIdempotencyKey = new Map<string, MemoryTask>();
  readonly #all = new TaskList<MemoryTask>('all');
  readonly #byStatus = Object.fromEntries(
    TASK_STATUSES.map((status) => [status, new TaskList<MemoryTask>('status')]),
  ) as Record<TaskStatus, TaskList<MemoryTask>>;
  readonly #texts = new TextSlabs();
  readonly #strings = new RecentStrings();
  #long = 0;

  open(): OpenedRepository {
    return { pending: [], processing: [], nextSeq: 1 };
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
    if (original) original.retriedAs = record.id;
  }

  findByIdempotencyKey(key: string): { id: string; requestHash: string | null } | undefined {
    const task = this.#byIdempotencyKey.get(key);
    return task && { id: task.id, requestHash: task.requestHash };
  }

  start(id: string, startedAt: number): StartedRow | undefined {
    const task = this.#tasks.get(id);
    if (task?.status !== 'pending') return undefined;
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
    if (task?.status !== 'pending' && task?.status !== 'processing') return undefined;
    this.#move(task, outcome.status);
    task.completedAt = completedAt;
    task.nextAttemptAt = null;
    task.result = outcome.result && this.#kept(outcome.result);
    task.error = outcome.error;
    if (isLong) {
      task.isLong = true;
      this.#long++;
    }
    return summaryOf(task);
  }

  retry(id: string, attempt: AttemptRecord, runAt: number, order: number): SummaryRow | undefined {
    const task = this.#tasks.get(id);
    if (task?.status !== 'processing') return undefined;
    this.#move(task, 'pending');
    task.earlierAttempts = [...(task.earlierAttempts ?? []), attempt];
    task.startedAt = null;
    task.nextAttemptAt = runAt;
    task.order = order;
    return summaryOf(task);
  }

  requeue(id: string): SummaryRow | undefined {
    const task = this.#tasks.get(id);
    if (task?.status !== 'processing') return undefined;
    this.#move(task, 'pending');
    task.startedAt = null;
    return summaryOf(task);
  }

  setCallback(id: string, callback: CallbackState): boolean {
    const task = this.#tasks.get(id);
    if (!task) return false;
    task.callback = callback;
    return true;
  }

  pendingCallbacks(): { id: string; callback: CallbackState }[] {
    return [];
  }

  get(id: string): TaskRow | undefined {
    const task = this.#tasks.get(id);
    return task && Object.assign(summaryOf(task), { result: task.result && readable(task.result) });
  }

  getRequest(id: string): TaskRequest | undefined {
    const task = this.#tasks.get(id);
    return task && requestOf(task);
  }

  list(query: ListQuery): { rows: SummaryRow[]; total: number } {
    const list = query.status ? this.#byStatus[query.status] : this.#all;
    return { rows: list.page(query.offset, query.limit).map(summaryOf), total: list.size };
  }

  counts(): RepositoryCounts {
    const counts = { total: this.#all.size, long: this.#long } as RepositoryCounts;
    for (const status of TASK_STATUSES) counts[status] = this.#byStatus[status].size;
    return counts;
  }

  removeFinished(completedBefore: number): number {
    let removed = 0;
    for (const status of TERMINAL_STATUSES) {
      const list = this.#byStatus[status];
      for (
        let task = list.oldest;
        task && (task.completedAt ?? 0) <= completedBefore;
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
      let oldest: MemoryTask | null = null;
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

  close(): void {}

  #remove(task: MemoryTask): void {
    this.#byStatus[task.status].remove(task);
    this.#all.remove(task);
    this.#tasks.delete(task.id);
    if (task.idempotencyKey !== null) this.#byIdempotencyKey.delete(task.idempotencyKey);
    if (task.isLong) this.#long--;
  }

  /**
   * The result as kept: a long text body moved out of the heap (`readable` brings it back), and
   * header values that repeat earlier answers' shared with them.
   */
  #kept(result: StoredResult): StoredResult {
    const { body } = result;
    const headers: Record<string, string | string[]> = {};
    // `for...in`, not `Object.entries`: no array per header on every finish. Header objects are
    // plain, so it sees the same own names.
    for (const name in result.headers) {
      const value = result.headers[name] as string | string[];
      headers[name] = typeof value === 'string' ? this.#strings.same(value) : value;
    }
    const long = typeof body === 'string' && body.length >= OFF_HEAP_FROM_CHARS;
    return resultWith(result, headers, long ? this.#texts.keep(body) : body);
  }

  #move(task: MemoryTask, status: TaskStatus): void {
    this.#byStatus[task.status].remove(task);
    task.status = status;
    this.#byStatus[status].addNewest(task);
  }
}

/** A kept result as the store hands it out: json and text bodies as strings, binary as bytes. */
function readable(result: StoredResult): StoredResult {
  const { body } = result;
  if (typeof body === 'string' || result.encoding === 'base64') return result;
  return resultWith(result, result.headers, body.toString('utf8'));
}

/** `result` with other headers and body; kept and readable results share one shape. */
function resultWith(
  result: StoredResult,
  headers: StoredResult['headers'],
  body: StoredResult['body'],
): StoredResult {
  return {
    statusCode: result.statusCode,
    headers,
    encoding: result.encoding,
    bodyBytes: result.bodyBytes,
    body,
  };
}

function requestOf(task: MemoryTask): TaskRequest {
  return { method: task.method, path: task.path, headers: task.headers, body: task.body };
}

function summaryOf(task: MemoryTask): SummaryRow {
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
