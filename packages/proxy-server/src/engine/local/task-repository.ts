import type { StoreKind, TaskCounts } from 'proxy-client/wire';
import type { FinishedCalls, ListQuery, SchemaUpgrade } from '../task-backend.js';
import type {
  AttemptRecord,
  CallbackState,
  NewTask,
  Priority,
  TaskOutcome,
  TaskRecord,
  TaskRequest,
  TaskSummary,
} from '../task-record.js';

/**
 * A task as a repository keeps it: the record's fields, its place in admission order (`seq`,
 * for lists) and its place in FIFO order (`order`: `seq` until it goes back to the queue).
 */
export interface TaskRow extends Omit<TaskRecord, 'queuePosition'> {
  readonly seq: number;
  readonly order: number;
  /** Null from the repository; the backend, which owns the queue, fills it in. */
  queuePosition: number | null;
  /** Filled in by the backend, which runs the calls. */
  runningMs?: number | undefined;
}

export interface SummaryRow extends Omit<TaskSummary, 'queuePosition' | 'runningMs'> {
  readonly seq: number;
  readonly order: number;
  queuePosition: number | null;
  runningMs?: number | undefined;
}

/** A task waiting to start, as the queue needs it back after a restart. */
export interface QueuedRow {
  id: string;
  /** Its place in FIFO order. */
  order: number;
  priority: Priority;
  tenant: string | null;
  /**
   * Its deadline while it has never started; null once it has (a call cut off and requeued, a
   * retry): a deadline bounds the wait for the first start only.
   */
  deadlineAt: number | null;
  /** When its next attempt is due, after a failed one; null when it waits for its first. */
  nextAttemptAt: number | null;
  /**
   * When the wait that `nextAttemptAt` or `deadlineAt` ends began (the failed attempt's end, the
   * admission), so a start can tell how long that wait may be at most whatever its clock reads.
   */
  waitingSince: number | null;
}

/** A task a process that died left processing. */
export interface LeftRow extends QueuedRow {
  /** Its calls cut off before this one, each of which put it back in line (its history's). */
  cutOffs: number;
}

/** What a repository holds when it is opened. */
export interface OpenedRepository {
  /** Tasks pending, in FIFO order. */
  pending: QueuedRow[];
  /** Tasks a process that died left processing, in FIFO order. */
  processing: LeftRow[];
  /** The number the next admitted task (or re-queued one) gets for its FIFO order. */
  nextSeq: number;
  /** The calls of the last RECENT_CALLS finished tasks, none cut off: their mean; null for none. */
  finishedCalls: FinishedCalls | null;
  /** The file an earlier build made, upgraded at this open; none for a new or current one. */
  schemaUpgrade?: SchemaUpgrade;
}

/** What starting a task gives back: the task as it is now, its request and its policy. */
export interface StartedRow {
  task: SummaryRow;
  request: TaskRequest;
  /** The per-task upstream timeout, or null for the server's. */
  timeoutMs: number | null;
}

export type RepositoryCounts = TaskCounts & {
  /** Finished tasks whose processing took longer than the long-task threshold. */
  long: number;
  /** Finished tasks whose callback is still to be delivered (see BackendCounts). */
  callbacksPending: number;
};

/**
 * Where the local backend keeps its tasks: in memory or in a SQLite file. Synchronous, so the
 * backend's state and the repository's never disagree between two awaits; one process owns it.
 *
 * Writes take effect at once for readers in this process; a durable repository makes them
 * survive the process only at `commit()`, which groups every write since the last one. A
 * write that throws changed nothing; a `commit()` that throws rolled back every write it held.
 */
export interface TaskRepository {
  readonly kind: Exclude<StoreKind, 'redis'>;
  /** Whether writes outlive the process once committed (false: `commit()` does nothing). */
  readonly durable: boolean;
  /** A human-readable place, e.g. the file path; shown at start. */
  readonly location: string;
  open(): OpenedRepository;
  /**
   * What a failed write of the start's recovery (the tasks left processing, requeued or ended)
   * refuses the start with: the store's own refusal where it has one (a full disk), as `open()`
   * would; absent, the error as it is.
   */
  refusalAtStart?(error: unknown): unknown;
  /**
   * Runs several writes as one: when one throws, none of them took effect. A durable
   * repository's writes can fail (the disk full); the memory repository's do not, and it runs
   * them as they come.
   */
  atomically<T>(writes: () => T): T;
  /**
   * Writes a new pending task; with `retryOf`, links the original to it too (if still held),
   * both or neither.
   */
  insert(seq: number, task: NewTask): void;
  /** The task held under an idempotency key, with its request's fingerprint. */
  findByIdempotencyKey(key: string): { id: string; requestHash: string | null } | undefined;
  /**
   * pending → processing, one more attempt; gives the task as it is now and what its call
   * needs, or undefined when the task is not pending (any more).
   */
  start(id: string, startedAt: number): StartedRow | undefined;
  /**
   * pending or processing → the outcome's status; gives the task as it is now, or undefined
   * when it had already finished (nothing changed).
   */
  finish(
    id: string,
    outcome: TaskOutcome,
    completedAt: number,
    isLong: boolean,
  ): SummaryRow | undefined;
  /**
   * processing → pending again: the attempt that ended is kept in the history (the last
   * attempt is read off the task's own fields, so only retried tasks store one) and the next
   * one is due at `runAt`, in FIFO order `order`; undefined when it was not processing.
   */
  retry(id: string, attempt: AttemptRecord, runAt: number, order: number): SummaryRow | undefined;
  /**
   * processing → pending, keeping its place in FIFO order (a call cut off, run again), the
   * cut-off call kept in the history as failed `interrupted` at `endedAt` (`cutOffAttempt`);
   * gives the task as it is now, or undefined when it was not processing.
   */
  requeue(id: string, endedAt: number): SummaryRow | undefined;
  /** Replaces a task's callback state; false when the task is gone. */
  setCallback(id: string, callback: CallbackState): boolean;
  /** Tasks whose callback is still to be delivered, with their state. */
  pendingCallbacks(): { id: string; callback: CallbackState }[];
  get(id: string): TaskRow | undefined;
  getRequest(id: string): TaskRequest | undefined;
  list(query: ListQuery): { rows: SummaryRow[]; total: number };
  counts(): RepositoryCounts;
  /**
   * Removes up to `limit` finished tasks that finished at or before `completedBefore`; returns
   * how many (fewer than `limit`: none are left).
   */
  removeFinished(completedBefore: number, limit: number): number;
  /** Removes up to `count` finished tasks, those that finished first; returns how many. */
  removeOldestFinished(count: number): number;
  commit(): void;
  /**
   * Throws, lasting, when a file the repository keeps was removed or replaced under it: asked
   * by `/health`, so that an idle proxy says so before a submission finds out.
   */
  checkFiles(): void;
  close(): void;
}
