import type { BodyEncoding, TaskError, TaskStatus, TerminalStatus } from 'proxy-client/wire';
import type { BinaryString, PackedHeaders } from './stored-request.js';

/** The request a task sends to the target, as it was submitted. */
export interface TaskRequest {
  method: string;
  /** Origin-form path as submitted, query string included. */
  path: string;
  headers: PackedHeaders;
  body: BinaryString | null;
}

/** The target's answer without its body: what lists carry. */
export interface ResultSummary {
  statusCode: number;
  /** As the target sent them: lower-case names, repeated headers as arrays. */
  headers: Record<string, string | string[]>;
  encoding: BodyEncoding;
  /** Size of the body as the target sent it. */
  bodyBytes: number;
}

/**
 * The target's answer as kept: the body stays the raw text (json, text) or bytes (base64) and is
 * turned into its wire form only when read, so a finished task holds one copy of it.
 */
export interface StoredResult extends ResultSummary {
  body: string | Buffer;
}

/** How a task's upstream call ended: the status it finishes with, and why. */
export interface TaskOutcome {
  status: TerminalStatus;
  result: StoredResult | null;
  error: TaskError | null;
}

interface RecordFields<Result> {
  readonly id: string;
  readonly method: string;
  /** As submitted, query string included. */
  readonly path: string;
  /** Epoch milliseconds, like every time here. */
  readonly createdAt: number;
  readonly status: TaskStatus;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  /** Finished after processing longer than the long-task threshold. */
  readonly isLong: boolean;
  /** Upstream calls started for this task. */
  readonly attempts: number;
  readonly result: Result | null;
  readonly error: TaskError | null;
  /** 1-based place in the queue while pending and in line, else null. */
  readonly queuePosition: number | null;
  /** The task this one runs again (`POST /task/:id/retry`), else null. */
  readonly retryOf: string | null;
  /** The latest task that runs this one again, else null. */
  readonly retriedAs: string | null;
}

/** One task as a backend hands it out: a copy, never the backend's own record. */
export type TaskRecord = RecordFields<StoredResult>;

/** A task as lists carry it: the result without its body. */
export type TaskSummary = RecordFields<ResultSummary>;

/** What admission hands a backend: the new task's id, creation time and request. */
export interface NewTask {
  id: string;
  createdAt: number;
  request: TaskRequest;
  /** The caller's `Idempotency-Key` (already scoped to its API key), or null. */
  idempotencyKey: string | null;
  /** A fingerprint of the request, compared when the idempotency key is seen again. */
  requestHash: string | null;
  /** The finished task this one runs again, or null. */
  retryOf: string | null;
}
