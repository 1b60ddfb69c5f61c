import type { StoreKind, TaskCounts } from 'proxy-client/wire';
import type { ListQuery } from '../task-backend.js';
import type { NewTask, TaskOutcome, TaskRecord, TaskRequest, TaskSummary } from '../task-record.js';

/** A task as a repository keeps it: the record's fields and its place in admission order. */
export interface TaskRow extends Omit<TaskRecord, 'queuePosition'> {
  readonly seq: number;
}

export interface SummaryRow extends Omit<TaskSummary, 'queuePosition'> {
  readonly seq: number;
}

/** What a repository holds when it is opened. */
export interface OpenedRepository {
  /** Tasks pending, in admission order. */
  pending: { id: string; seq: number }[];
  /** Tasks a process that died left processing, in admission order. */
  processing: { id: string; seq: number }[];
  /** The sequence number the next admitted task gets. */
  nextSeq: number;
}

export type RepositoryCounts = TaskCounts & {
  /** Finished tasks whose processing took longer than the long-task threshold. */
  long: number;
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
  /** Writes a new pending task; with `retryOf`, links the original to it too (if still held). */
  insert(seq: number, task: NewTask): void;
  /** The task held under an idempotency key, with its request's fingerprint. */
  findByIdempotencyKey(key: string): { id: string; requestHash: string | null } | undefined;
  /**
   * pending → processing, one more attempt; gives the task as it is now and its request, or
   * undefined when the task is not pending (any more).
   */
  start(id: string, startedAt: number): { task: SummaryRow; request: TaskRequest } | undefined;
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
   * processing → pending, keeping its place in admission order; gives the task as it is now,
   * or undefined when it was not processing.
   */
  requeue(id: string): SummaryRow | undefined;
  get(id: string): TaskRow | undefined;
  getRequest(id: string): TaskRequest | undefined;
  list(query: ListQuery): { rows: SummaryRow[]; total: number };
  counts(): RepositoryCounts;
  /** Removes finished tasks that finished at or before `completedBefore`; returns how many. */
  removeFinished(completedBefore: number): number;
  /** Removes up to `count` finished tasks, those that finished first; returns how many. */
  removeOldestFinished(count: number): number;
  commit(): void;
  close(): void;
}
