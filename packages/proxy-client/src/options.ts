import type { ProxyError } from './errors/proxy-error.js';
import type { Hooks } from './hooks.js';
import type { Priority, Task, TaskStatus } from './wire.js';

/*
 * One unit convention: every duration is in milliseconds and its name ends in `Ms`. The contract's
 * spellings `timeout` and `pollInterval` are accepted too, as the same options in milliseconds.
 */

export interface ProxyClientOptions {
  /** Where the proxy listens, e.g. `http://localhost:8080` (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` on every request. */
  apiKey?: string | undefined;
  /**
   * Longest wait for one HTTP answer, in milliseconds (not the wait for a task: see
   * `WaitOptions.timeoutMs`). `Infinity` turns it off.
   * @default 30000
   */
  timeoutMs?: number | undefined;
  /** Same as `timeoutMs`, in milliseconds. */
  timeout?: number | undefined;
  /** Extra headers on every request. */
  headers?: Record<string, string> | undefined;
  /**
   * Retries on network errors and 5xx answers: of reads, and of submissions, which then carry an
   * idempotency key so a retry never creates a second task (`retryTask` excepted: it is never
   * retried). A call's own `maxRetries` wins.
   * @default 2
   */
  maxRetries?: number | undefined;
  /** A fetch to use instead of the global one (tests, proxies, frameworks). */
  fetch?: typeof fetch | undefined;
  /** Hooks run on every request (logging, tracing, signing). */
  hooks?: Hooks | undefined;
}

/** What every method takes as its last argument. */
export interface RequestOptions {
  /** Aborting rejects the call with the signal's reason (an `AbortError` by default). */
  signal?: AbortSignal | undefined;
  /**
   * Longest wait for each HTTP answer of this call, in milliseconds, instead of the client's
   * `timeoutMs` (`waitForTask` and `run`: the longest the whole call may take).
   */
  timeoutMs?: number | undefined;
  /** Same as `timeoutMs`, in milliseconds. */
  timeout?: number | undefined;
  /** Extra headers on this call's requests, over the client's. */
  headers?: Record<string, string> | undefined;
  /**
   * Retries of this call's reads on network errors and 5xx answers, instead of the client's
   * `maxRetries`.
   */
  maxRetries?: number | undefined;
}

/**
 * What `POST /task/:id/retry` takes: it runs a task again, so it is never retried after a
 * network error or a 5xx (a repeat would run it once more); only a full queue, when asked.
 */
export interface RetryTaskOptions extends Omit<RequestOptions, 'maxRetries'> {
  /**
   * Milliseconds the proxy may hold its answer for the new task to finish (`Prefer: wait=N`, in
   * whole seconds rounded up, at most `MAX_WAIT_SECONDS`). Then the answer carries the finished
   * task (`Submission.task`); otherwise it comes when the time is up, with the task's id.
   * @default 0 (answer at once)
   */
  waitMs?: number | undefined;
  /** Same as `waitMs`, in milliseconds: the contract's spelling. */
  wait?: number | undefined;
  /**
   * How many times to ask again when the proxy answers 503 `queue_full`, waiting exactly its
   * `Retry-After` each time.
   * @default 0
   */
  queueFullRetries?: number | undefined;
  /** Longest `Retry-After` honoured between queue-full retries, in milliseconds. @default 60000 */
  maxRetryAfterMs?: number | undefined;
}

/**
 * A submission. It is retried after a network error or a 5xx only with an idempotency key, which
 * the SDK makes for the call when the caller gave none: the proxy answers a repeat with the task
 * the first attempt created.
 */
export interface SubmitOptions extends RequestOptions {
  /** HTTP method forwarded to the target. @default 'POST' */
  method?: string | undefined;
  /** Headers forwarded to the target with the request (the proxy drops hop-by-hop ones). */
  headers?: Record<string, string> | undefined;
  /** Query parameters forwarded to the target, added to any already in the path. */
  query?: Record<string, string | number | boolean> | undefined;
  /**
   * How many times to resubmit when the proxy answers 503 `queue_full`, waiting exactly its
   * `Retry-After` each time. Off unless asked: a full queue is back-pressure the caller may want
   * to see.
   * @default 0
   */
  queueFullRetries?: number | undefined;
  /**
   * Longest `Retry-After` honoured between queue-full retries, in milliseconds; a longer one is
   * cut to this.
   * @default 60000
   */
  maxRetryAfterMs?: number | undefined;
  /**
   * Resubmissions after a network error or a 5xx answer other than `queue_full`, each with the
   * same idempotency key, instead of the client's `maxRetries`.
   * @default the client's (2)
   */
  maxRetries?: number | undefined;
  /**
   * Sent as `Idempotency-Key`: the same key with the same request within the proxy's retention
   * names the existing task, and no second one is created. 1 to 255 printable ASCII characters
   * without `"` or `\`. When unset and retries are on, the SDK makes one per call.
   */
  idempotencyKey?: string | undefined;
  /**
   * Milliseconds the proxy may hold its answer for the task to finish (`Prefer: wait=N`, in whole
   * seconds rounded up, at most `MAX_WAIT_SECONDS`): a quick task's result comes with the
   * submission, in one round trip. `submitTask` still answers the id; `submit` answers the
   * finished task too, `submitAndWait` and `run` use it by themselves.
   * @default 0 (answer at once; `submitAndWait` and `run`: up to 60 s, within their `timeoutMs`)
   */
  waitMs?: number | undefined;
  /** Same as `waitMs`, in milliseconds: the contract's spelling. */
  wait?: number | undefined;
  /** Sent as `X-Proxy-Priority`: `high` tasks are served first, FIFO within a level. */
  priority?: Priority | undefined;
  /**
   * Sent as `X-Proxy-Callback-Url`: where the proxy POSTs the finished task, signed per Standard
   * Webhooks. An absolute http(s) URL without credentials or a #fragment (else a TypeError).
   */
  callbackUrl?: string | undefined;
  /**
   * Sent as `X-Proxy-Max-Attempts`: most calls to the target for this task, the first included,
   * when the proxy retries failures (`--retry-on`); the proxy's `--max-attempts` still caps it.
   */
  maxAttempts?: number | undefined;
  /**
   * Sent as `X-Proxy-Max-Queue-Time` (in seconds): milliseconds the task may wait in the queue;
   * one not started by then ends `expired`. The proxy's `--max-queue-time` still caps it.
   */
  maxQueueTimeMs?: number | undefined;
  /**
   * Sent as `X-Proxy-Timeout` (in seconds): milliseconds one call to the target may take before
   * the task fails with `upstream_timeout`. The proxy's `--upstream-timeout` still caps it. Not
   * to be confused with `timeoutMs`, the SDK's own HTTP timeout.
   */
  upstreamTimeoutMs?: number | undefined;
}

/**
 * Called when the status read differs from the one before; `previous` is undefined the first time.
 * May be async: the wait goes on once its promise settles, and a rejection rejects the wait.
 */
export type StatusListener = (task: Task, previous: TaskStatus | undefined) => unknown;

/**
 * Told of the proxy going away during a wait or an event stream (`error`: no answer, or a 502,
 * 503 or 504), once per outage, and of it answering again (`undefined`). It only reports: what
 * it throws or rejects with is ignored, and the wait does not wait for it.
 */
export type OutageListener = (error: ProxyError | undefined) => void;

/**
 * Told each time a watch's event stream is connected (the proxy answered with the stream):
 * `reconnected` is false for the first connection and true for one made again after a drop or an
 * outage. It only reports: what it throws or rejects with is ignored.
 */
export type OpenListener = (connection: { reconnected: boolean }) => void;

export interface WaitOptions extends RequestOptions {
  /**
   * Milliseconds to wait for the task before rejecting with `WaitTimeoutError` (the task goes on).
   * Each read of the wait keeps the client's `timeoutMs`.
   * @default no limit
   */
  timeoutMs?: number | undefined;
  /**
   * Fixed milliseconds between polls. Leave unset for the adaptive schedule, which is quicker for
   * short tasks and gentler for long ones.
   */
  pollIntervalMs?: number | undefined;
  /** Same as `pollIntervalMs`, in milliseconds: the contract's spelling. */
  pollInterval?: number | undefined;
  /** Told about every status change, including the first status read. */
  onStatus?: StatusListener | undefined;
  /**
   * Told when a read finds the proxy away after the task was read once (the wait rides that out,
   * up to five minutes) and when it answers again, with a refusal too (told before the wait
   * rejects with it), so a caller can say so meanwhile.
   */
  onOutage?: OutageListener | undefined;
  /**
   * Reject with `TaskFailedError` when the task ends `failed`, instead of resolving with it.
   * @default false
   */
  throwOnFailure?: boolean | undefined;
}

/**
 * `submitTask`'s options and `waitForTask`'s (`submitAndWait`, `run`): `timeoutMs` bounds the
 * whole call, `headers` go on every request, `maxRetries` applies to the submission and each read.
 */
export type RunOptions = SubmitOptions & WaitOptions;

export interface ResultOptions extends RequestOptions {
  /**
   * Milliseconds to wait for an unfinished task to finish before rejecting with
   * `TaskNotFinishedError` (held reads of up to `MAX_WAIT_SECONDS` each).
   * @default 0 (reject at once)
   */
  waitMs?: number | undefined;
  /** Same as `waitMs`, in milliseconds. */
  wait?: number | undefined;
}

export interface WatchTaskOptions extends RequestOptions {
  /**
   * Told each time the task's event stream is connected, so a caller can say it is watching;
   * never against a proxy without event streams, which is polled instead.
   */
  onOpen?: OpenListener | undefined;
}

export interface WatchEventsOptions extends RequestOptions {
  /** Only transitions into these statuses (one, or several). @default all */
  status?: TaskStatus | readonly TaskStatus[] | undefined;
  /**
   * Resume after this event id (`TaskEvent.id`, kept from an earlier watch): events since then
   * come first, or a `reset` event when the proxy no longer holds them.
   */
  lastEventId?: string | undefined;
  /**
   * Told when a reconnect finds the proxy away (the stream rides that out) and when it is back,
   * a refusal included (told before the watch rejects with it), so a caller can say so meanwhile.
   */
  onOutage?: OutageListener | undefined;
  /**
   * Told each time the stream is connected, the first time and after each reconnect, so a caller
   * can say it is watching: iterating alone tells nothing until an event comes.
   */
  onOpen?: OpenListener | undefined;
}

export interface ListTasksOptions extends RequestOptions {
  status?: TaskStatus | undefined;
  /** Page size; the proxy may cap it. */
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface IterateTasksOptions extends RequestOptions {
  status?: TaskStatus | undefined;
  /** Tasks per request. @default 100 */
  pageSize?: number | undefined;
}

export interface CleanupOptions extends RequestOptions {
  /** Remove finished tasks that finished longer ago than this, in milliseconds. @default the proxy's (24 h) */
  maxAgeMs?: number | undefined;
  /**
   * The same age in hours, as the HTTP API's `max_age_hours` takes it.
   * @deprecated Every duration of the SDK is in milliseconds: use `maxAgeMs`.
   */
  maxAgeHours?: number | undefined;
}
