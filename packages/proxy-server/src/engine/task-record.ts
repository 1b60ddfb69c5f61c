import type {
  BodyEncoding,
  Priority,
  TaskError,
  TaskErrorCode,
  TaskStatus,
  TerminalStatus,
} from 'proxy-client/wire';
import type { BinaryString, PackedHeaders } from './stored-request.js';
import { taskError } from './task-error.js';

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
  /** The wait the target asked for before another try (its `Retry-After`), in ms. */
  retryAfterMs?: number | null;
}

/** Served first to last; FIFO within a level. The wire contract names them. */
export { PRIORITIES, type Priority } from 'proxy-client/wire';

/** How one task is delivered, decided at admission from the flags and the caller's headers. */
export interface TaskPolicy {
  priority: Priority;
  /** Who the task belongs to for fair sharing; null when fair sharing is off. */
  tenant: string | null;
  /** The task must start by then or it ends `expired`; null for no deadline. */
  deadlineAt: number | null;
  /** Upstream calls at most, first one included. */
  maxAttempts: number;
  /** Total time one upstream call may take; null for the server's setting. */
  timeoutMs: number | null;
  /** Where the finished task is POSTed, signed; null for no callback. */
  callbackUrl: string | null;
}

export const DEFAULT_POLICY: TaskPolicy = {
  priority: 'normal',
  tenant: null,
  deadlineAt: null,
  maxAttempts: 1,
  timeoutMs: null,
  callbackUrl: null,
};

/** One upstream call of a task, as its history keeps it. */
export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  finishedAt: number;
  /** The status the call would have given the task. */
  outcome: TerminalStatus;
  statusCode: number | null;
  errorCode: TaskErrorCode | null;
  /** When the next attempt was due, when this one was retried; else null. */
  retryAt: number | null;
}

/** One POST of the finished task to its callback URL. */
export interface CallbackDelivery {
  attempt: number;
  at: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

export interface CallbackState {
  url: string;
  state: 'pending' | 'delivered' | 'failed';
  deliveries: CallbackDelivery[];
  /** When the next delivery is due while pending; null otherwise. */
  nextAt: number | null;
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
  /**
   * While processing, how long its call has run on the monotonic clock, where the backend knows
   * (the local one): a step of the wall clock does not make a call long. Else undefined.
   */
  readonly runningMs?: number | undefined;
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
  readonly priority: Priority;
  readonly tenant: string | null;
  readonly deadlineAt: number | null;
  readonly maxAttempts: number;
  /** While pending after a failed attempt: when the next one is due; else null. */
  readonly nextAttemptAt: number | null;
  /** Every finished upstream call, oldest first. */
  readonly attemptLog: readonly AttemptRecord[];
  readonly callback: CallbackState | null;
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
  policy: TaskPolicy;
}

/**
 * A task's attempts: those before its last (kept when it was retried) and the last, read off
 * its own fields, so a task that ran once stores no history at all.
 */
export function attemptLogOf(
  task: {
    status: TaskStatus;
    attempts: number;
    startedAt: number | null;
    completedAt: number | null;
    result: { statusCode: number } | null;
    error: TaskError | null;
  },
  earlier: readonly AttemptRecord[],
): AttemptRecord[] {
  const log = [...earlier];
  const { status, startedAt, completedAt } = task;
  if (
    startedAt === null ||
    completedAt === null ||
    status === 'pending' ||
    status === 'processing'
  ) {
    return log;
  }
  log.push({
    attempt: task.attempts,
    startedAt,
    finishedAt: completedAt,
    outcome: status,
    statusCode: task.result?.statusCode ?? null,
    errorCode: task.error?.code ?? null,
    retryAt: null,
  });
  return log;
}

/** One call of a task that ended in a way worth another try, due again at `retryAt`. */
export function retriedAttempt(
  run: { attempt: number; startedAt: number },
  outcome: TaskOutcome,
  finishedAt: number,
  retryAt: number,
): AttemptRecord {
  return {
    attempt: run.attempt,
    startedAt: run.startedAt,
    finishedAt,
    outcome: outcome.status,
    statusCode: outcome.result?.statusCode ?? null,
    errorCode: outcome.error?.code ?? null,
    retryAt,
  };
}

/**
 * The call a stopped process cut off, for a task that runs again (`--requeue-interrupted`): its
 * end is when the stop was seen, and when it runs again is up to the line, so no `retryAt`.
 */
export function cutOffAttempt(
  task: { attempts: number; startedAt: number | null },
  endedAt: number,
): AttemptRecord {
  return {
    attempt: task.attempts,
    startedAt: task.startedAt ?? endedAt,
    finishedAt: endedAt,
    outcome: 'failed',
    statusCode: null,
    errorCode: 'interrupted',
    retryAt: null,
  };
}

/**
 * How many of a task's calls a stop or a crash cut off and it went back in line after: its
 * history keeps each (cutOffAttempt), so the cap on requeues needs nothing stored of its own.
 */
export function cutOffsOf(log: readonly AttemptRecord[]): number {
  return log.filter((attempt) => attempt.errorCode === 'interrupted').length;
}

/**
 * An outcome the stop made: the call was aborted. A stop that flags a run as its call ends on its
 * own leaves an answer in hand, which stands rather than being requeued or ended past the cap.
 */
export function isCutOff(outcome: TaskOutcome): boolean {
  return outcome.error?.code === 'interrupted';
}

/**
 * How a task ends that a stop or a crash cut off once more after it went back to the queue
 * `maxRequeues` times: its message says why this cut-off was not requeued too. `callBegan` is
 * false for a run a stop cut off before its call went out (on Redis: the target never saw it).
 */
export function pastMaxRequeues(maxRequeues: number, callBegan = true): TaskOutcome {
  const when = callBegan
    ? 'its upstream call was in flight'
    : 'it was stopped before its upstream call began';
  return {
    status: 'failed',
    result: null,
    error: taskError(
      'interrupted',
      `${when}, and it had gone back to the queue after a cut-off as often as --max-requeues ${maxRequeues} allows`,
    ),
  };
}
/**
 * What an operator is told of tasks that ended past `--max-requeues`: each may be one whose call
 * brings the proxy down, which is to be looked at before anyone submits it again.
 */
export function pastMaxRequeuesWarning(ids: readonly string[], maxRequeues: number): string {
  const shown =
    ids.length > 10 ? `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more` : ids.join(', ');
  // As often as the setting allows, not a count: a run with a lower setting than the last one
  // ends tasks that went back more often.
  return (
    `${ids.length === 1 ? 'task' : 'tasks'} ${shown} cut off again after going back to the queue ` +
    `as often as --max-requeues ${maxRequeues} allows, ended interrupted: a call that brings the proxy down ends this way; ` +
    'look at its request before anyone submits it again'
  );
}

/** A task's callback as admission writes it: pending, nothing delivered yet. */
export function newCallback(url: string | null): CallbackState | null {
  return url === null ? null : { url, state: 'pending', deliveries: [], nextAt: null };
}

/** A task just admitted, as every backend writes it: pending, nothing tried yet. */
export function admittedSummary(task: NewTask, queuePosition: number | null): TaskSummary {
  const { policy } = task;
  return {
    id: task.id,
    method: task.request.method,
    path: task.request.path,
    createdAt: task.createdAt,
    status: 'pending',
    startedAt: null,
    completedAt: null,
    isLong: false,
    attempts: 0,
    result: null,
    error: null,
    queuePosition,
    retryOf: task.retryOf,
    retriedAs: null,
    priority: policy.priority,
    tenant: policy.tenant,
    deadlineAt: policy.deadlineAt,
    maxAttempts: policy.maxAttempts,
    nextAttemptAt: null,
    attemptLog: [],
    callback: newCallback(policy.callbackUrl),
  };
}
