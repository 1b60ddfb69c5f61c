import type { Hooks } from 'ky';
import type { Task, TaskStatus } from './wire.js';

export interface ProxyClientOptions {
  /** Where the proxy listens, e.g. `http://localhost:8080` (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` on every request. */
  apiKey?: string;
  /**
   * Longest wait for one HTTP answer, in milliseconds (not the wait for a task: see
   * `WaitOptions.timeout`). `Infinity` turns it off.
   * @default 30000
   */
  timeoutMs?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** A fetch to use instead of the global one (tests, proxies, frameworks). */
  fetch?: typeof fetch;
  /** ky hooks, run on every request (logging, tracing, signing). */
  hooks?: Hooks;
  retry?: {
    /**
     * Retries of idempotent reads (GET, cleanup) on network errors and 5xx answers.
     * @default 2
     */
    reads?: number;
  };
}

export interface RequestOptions {
  /** Aborting rejects the call with the signal's reason (an `AbortError` by default). */
  signal?: AbortSignal;
}

export interface SubmitOptions extends RequestOptions {
  /** HTTP method forwarded to the target. @default 'POST' */
  method?: string;
  /** Headers forwarded to the target with the request. */
  headers?: Record<string, string>;
  /** Query parameters forwarded to the target, added to any already in the path. */
  query?: Record<string, string | number | boolean>;
  /**
   * How many times to resubmit when the proxy answers 503 `queue_full`, waiting exactly its
   * `Retry-After` each time. Off unless asked: a full queue is back-pressure the caller may want
   * to see.
   * @default 0
   */
  queueFullRetries?: number;
  /**
   * Longest `Retry-After` honoured between queue-full retries, in milliseconds; a longer one is
   * cut to this.
   * @default 60000
   */
  maxRetryAfterMs?: number;
}

/** Called when the status read differs from the one before; `previous` is undefined the first time. */
export type StatusListener = (task: Task, previous: TaskStatus | undefined) => void;

export interface WaitOptions {
  /**
   * Fixed milliseconds between polls. Leave unset for the adaptive schedule, which is quicker for
   * short tasks and gentler for long ones.
   */
  pollInterval?: number;
  /**
   * Milliseconds to wait for the task before rejecting with `WaitTimeoutError` (the task goes on).
   * @default no limit
   */
  timeout?: number;
  signal?: AbortSignal;
  /** Told about every status change, including the first status read. */
  onStatus?: StatusListener;
  /**
   * Reject with `TaskFailedError` when the task ends `failed`, instead of resolving with it.
   * @default false
   */
  throwOnFailure?: boolean;
}

export type RunOptions = SubmitOptions & WaitOptions;

export interface ListTasksOptions extends RequestOptions {
  status?: TaskStatus;
  /** Page size; the proxy may cap it. */
  limit?: number;
  offset?: number;
}

export interface IterateTasksOptions extends RequestOptions {
  status?: TaskStatus;
  /** Tasks per request. @default 100 */
  pageSize?: number;
}

export interface CleanupOptions extends RequestOptions {
  /** Remove finished tasks older than this many hours. @default the proxy's (24) */
  maxAgeHours?: number;
}
