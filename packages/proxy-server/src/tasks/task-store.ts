import type {
  BodyEncoding,
  TaskCounts,
  TaskError,
  TaskStatus,
  TerminalStatus,
} from 'proxy-client/wire';
import type { BinaryString, PackedHeaders } from './stored-request.js';

/**
 * The target's answer as kept: the body stays the raw text (json, text) or bytes (base64) and is
 * turned into its wire form only when read, so a finished task holds one copy of it.
 */
export interface StoredResult {
  statusCode: number;
  /** As the target sent them: lower-case names, repeated headers as arrays. */
  headers: Record<string, string | string[]>;
  body: string | Buffer;
  encoding: BodyEncoding;
}

/** One task as a store hands it out; times are epoch milliseconds. */
export interface StoredTask {
  readonly id: string;
  readonly method: string;
  /** As submitted, query string included. */
  readonly path: string;
  readonly createdAt: number;
  /** Place in the queue's sequence, from which the queue position is derived while pending. */
  readonly queueSeq: number;
  readonly status: TaskStatus;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  /** Set once processing took longer than the long-task threshold; never cleared. */
  readonly isLong: boolean;
  readonly attempts: number;
  readonly result: StoredResult | null;
  readonly error: TaskError | null;
}

export interface NewTask {
  id: string;
  method: string;
  path: string;
  createdAt: number;
  queueSeq: number;
  /** The request to send, kept until it is handed to the forwarding lane. */
  headers: PackedHeaders;
  body: BinaryString | null;
}

/** What the forwarding lane needs for a task's upstream call. */
export interface TaskRequest {
  method: string;
  path: string;
  headers: PackedHeaders;
  body: BinaryString | null;
}

export interface TaskOutcome {
  status: TerminalStatus;
  result: StoredResult | null;
  error: TaskError | null;
}

export interface ListQuery {
  status?: TaskStatus;
  limit: number;
  offset: number;
}

export interface TaskPage {
  tasks: StoredTask[];
  /** How many tasks match the filter in all. */
  total: number;
}

export interface StoreCounts extends TaskCounts {
  /** Tasks held now whose `isLong` is set. */
  long: number;
}

export type FinishListener = (task: StoredTask) => void;

/**
 * Where tasks live. Routes and workers only talk to this interface, so a SQLite store or a store
 * shared by several proxies (Redis) can replace the in-memory one; hence every call is async.
 *
 * Costs every implementation must keep: `counts()` O(1); `list()` proportional to
 * offset + limit, never to the number of tasks; `removeFinishedBefore()` proportional to the
 * tasks it removes.
 */
export interface TaskStore {
  create(task: NewTask): Promise<void>;
  get(id: string): Promise<StoredTask | undefined>;
  /**
   * Hands over a pending task's request and stops keeping it; the task stays pending until
   * claimed. Undefined when the task is not pending or its request was already taken (so no
   * task is ever sent twice).
   */
  takeRequest(id: string): Promise<TaskRequest | undefined>;
  /**
   * pending → processing, counting one more attempt. False when the task is not pending, e.g.
   * it already failed at shutdown.
   */
  claim(id: string, startedAt: number): Promise<boolean>;
  markLong(id: string): Promise<void>;
  /**
   * pending or processing → completed or failed (a pending task's request is dropped); listeners
   * of the task are called once.
   */
  finish(id: string, outcome: TaskOutcome, completedAt: number): Promise<void>;
  /**
   * Newest first. Unfiltered: by creation. Filtered by a status: by the time the task entered that
   * status (creation for pending, start for processing, completion for finished ones).
   */
  list(query: ListQuery): Promise<TaskPage>;
  /** Removes finished tasks that completed at or before `cutoffMs`; returns how many. */
  removeFinishedBefore(cutoffMs: number): Promise<number>;
  counts(): Promise<StoreCounts>;
  /** Calls `listener` once when the task finishes; returns the unsubscribe function. */
  onFinished(id: string, listener: FinishListener): () => void;
}
