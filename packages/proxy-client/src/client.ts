import { asRecord, asTask, dataOf } from './answers.js';
import { checkIsNumber, checkOptions, optionLabel } from './check-options.js';
import { invalidResponseError } from './errors/error-from-response.js';
import { isProxyOutage } from './errors/outage.js';
import { isProxyResponseError } from './errors/proxy-response-error.js';
import { isProxyUnreachableError } from './errors/proxy-unreachable-error.js';
import { isQueueFullError } from './errors/queue-full-error.js';
import { TaskFailedError } from './errors/task-failed-error.js';
import { isTaskFinishedError, TaskFinishedError } from './errors/task-finished-error.js';
import { isTaskNotFinishedError } from './errors/task-not-finished-error.js';
import { isWaitTimeoutError, WaitTimeoutError } from './errors/wait-timeout-error.js';
import type { OpenStream } from './events/follow-event-stream.js';
import type { TaskEvent } from './events/task-event.js';
import { watchAllEvents } from './events/watch-events.js';
import { NoEventStream, watchOneTask } from './events/watch-task.js';
import { isSendableApiKey, isSubmittableMethod, isThenable, shownValue } from './input-checks.js';
import type {
  CleanupOptions,
  IterateTasksOptions,
  ListTasksOptions,
  ProxyClientOptions,
  RequestOptions,
  ResultOptions,
  RetryTaskOptions,
  RunOptions,
  SubmitOptions,
  WaitOptions,
  WatchEventsOptions,
  WatchTaskOptions,
} from './options.js';
import { pollCeilingMs } from './polling/schedule.js';
import { sleep, untilAborted } from './polling/sleep.js';
import {
  holdAfterCut,
  type TaskRead,
  validateWaitOptions,
  waitUntilFinished,
} from './polling/wait-until-finished.js';
import { isReplayedResult, type RawResult, toRawResult } from './result/raw-result.js';
import { undecodableResultError } from './result/undecodable-result.js';
import { parseRetryAfterMs } from './retry-after.js';
import { type Submission, toSubmission } from './submit/submission.js';
import {
  controlHeaders,
  newIdempotencyKey,
  preferWaitSeconds,
  withControlHeaders,
} from './submit/submit-headers.js';
import { toSubmitPath } from './submit/submit-path.js';
import { MAX_TIMER_MS } from './timer-limit.js';
import { twoOf } from './transport/body-stream.js';
import { encodeBody } from './transport/request-body.js';
import { readRetry, submitRetry } from './transport/retry-policy.js';
import { callTimeoutError } from './transport/translate-error.js';
import { type HttpAnswer, type HttpRequest, Transport } from './transport/transport.js';
import type { QueryValue } from './transport/url.js';
import { normalizeBaseUrl, resolveUrl } from './transport/url.js';
import { endsUnderApi } from './url-under-api.js';
import {
  type HealthBody,
  isTaskStatus,
  LAST_EVENT_ID_HEADER,
  MAX_CLEANUP_AGE_HOURS,
  MAX_PAGE_SIZE,
  MAX_WAIT_SECONDS,
  type ServiceInfo,
  type Stats,
  SUBMIT_HEADERS,
  TASK_STATUSES,
  type Task,
  type TaskList,
  type TaskSummary,
  WAIT_MAX_HEADER,
} from './wire.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_READ_RETRIES = 2;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
const DEFAULT_PAGE_SIZE = 100;
const HOUR_MS = 3_600_000;
/** Least time between two held reads of a result, should a server answer them at once. */
const MIN_REREAD_MS = 1000;
/** What a submission does when the base URL ends in /api. */
const SUBMITTED_UNDER_API = 'the task would go to the target under /api/api/';

/** Typed client of a proxy-server: submit slow requests, then read or await their tasks. */
export class ProxyClient {
  /** The proxy's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  /** The base URL ends in /api, the proxy's submission prefix: see `#refuseUnderApi`. */
  readonly #underApi: boolean;

  constructor(options: ProxyClientOptions) {
    const checked = checkOptions('ProxyClient', options);
    this.baseUrl = normalizeBaseUrl(checked.baseUrl);
    this.#underApi = endsUnderApi(this.baseUrl);
    checkApiKey(checked.apiKey);
    this.#maxRetries = count(checked.maxRetries ?? DEFAULT_READ_RETRIES, 'maxRetries');
    this.#timeoutMs = timeoutOf(checked.timeoutMs) ?? DEFAULT_TIMEOUT_MS;
    this.#transport = new Transport({
      baseUrl: this.baseUrl,
      apiKey: checked.apiKey,
      timeoutMs: this.#timeoutMs,
      headers: checked.headers,
      fetch: checked.fetch,
      hooks: checked.hooks,
    });
  }

  /**
   * Submits a request for the target through the proxy and answers the new task's id at once.
   * `path` may be `api/x`, `/api/x` or `x`. A string, bytes, Blob, FormData or URLSearchParams
   * body is sent as-is; any other value (null included) as JSON; `undefined` sends no body.
   * `submit` takes the same and answers more: the finished task under `waitMs`, a replay.
   */
  async submitTask(path: string, body?: unknown, options?: SubmitOptions): Promise<string> {
    this.#refuseUnderApi('submitTask', SUBMITTED_UNDER_API);
    return (await this.#submit(path, body, checkOptions('submitTask', options))).taskId;
  }

  /**
   * `submitTask`, answering the whole `Submission`: the id, the status, the finished task when
   * it finished within `waitMs`, whether an idempotency key named an existing task, and the key.
   */
  async submit(path: string, body?: unknown, options?: SubmitOptions): Promise<Submission> {
    this.#refuseUnderApi('submit', SUBMITTED_UNDER_API);
    return this.#submit(path, body, checkOptions('submit', options));
  }

  /**
   * Submits and resolves with the finished task, in any terminal status (or, under
   * `throwOnFailure`, rejects with `TaskFailedError` unless it completed). The proxy is asked to
   * hold the submission's answer until the task finishes (`Prefer: wait`), so a quick task costs
   * one round trip; a slower one is then waited for as `waitForTask` does. `timeoutMs` bounds the
   * whole call.
   */
  async submitAndWait(path: string, body?: unknown, options?: RunOptions): Promise<Task> {
    this.#refuseUnderApi('submitAndWait', SUBMITTED_UNDER_API);
    return this.#submitAndWait(path, body, checkOptions('submitAndWait', options));
  }

  /** Reads a task once. Rejects with `TaskNotFoundError` when the proxy holds no such task. */
  async getTask(taskId: string, options?: RequestOptions): Promise<Task> {
    const call = this.#call(checkOptions('getTask', options));
    return (await this.#readTask(taskId, undefined, call)).task;
  }

  /**
   * Resolves with the finished task, in any terminal status (or, under `throwOnFailure`, rejects
   * with `TaskFailedError` unless it completed). Uses the server's waiting read when offered,
   * else polls adaptively.
   * `timeoutMs` bounds the whole wait; each read keeps the client's.
   */
  async waitForTask(taskId: string, options?: WaitOptions): Promise<Task> {
    return this.#waitForTask(taskId, checkOptions('waitForTask', options), false);
  }

  /** `taskSeen`: a submission's answer named the task, so an outage at once is waited out too. */
  async #waitForTask(taskId: string, checked: WaitOptions, taskSeen: boolean): Promise<Task> {
    const reads = this.#call({ ...checked, timeoutMs: undefined });
    return waitUntilFinished(
      taskId,
      // A held read is not retried as it is: the wait rides out its failure itself, and a read
      // cut on the way for holding too long is asked again holding less.
      ({ waitSeconds, signal }) =>
        this.#readTask(taskId, waitSeconds, {
          ...reads,
          signal,
          ...(waitSeconds === undefined ? {} : { maxRetries: 0 }),
        }),
      checked,
      taskSeen,
    );
  }

  /** One page of tasks, newest first. */
  async listTasks(options?: ListTasksOptions): Promise<TaskList> {
    const checked = checkOptions('listTasks', options);
    if (checked.status !== undefined) checkStatus(checked.status);
    if (checked.limit !== undefined) checkPageSize('limit', checked.limit);
    const answer = await this.#read('tasks', this.#call(checked), {
      query: { status: checked.status, limit: checked.limit, offset: checked.offset },
    });
    const list = asRecord(dataOf(answer.body, answer.request));
    if (!Array.isArray(list?.['tasks']))
      throw invalidResponseError(answer.request, 'no tasks array');
    return list as unknown as TaskList;
  }

  /**
   * Every task, page by page, newest first. Tasks that move between pages while iterating (new
   * ones push older ones along) are yielded once; tasks removed meanwhile may be missed.
   */
  async *iterateTasks(options?: IterateTasksOptions): AsyncGenerator<TaskSummary, void, undefined> {
    const { pageSize = DEFAULT_PAGE_SIZE, ...rest } = checkOptions('iterateTasks', options);
    checkPageSize('pageSize', pageSize);
    const seen = new Set<string>();
    for (let offset = 0; ; ) {
      const page = await this.listTasks({ ...rest, limit: pageSize, offset });
      for (const task of page.tasks) {
        if (seen.has(task.task_id)) continue;
        seen.add(task.task_id);
        // A page in hand is no reason to go on: an aborted walk ends like any aborted call.
        rest.signal?.throwIfAborted();
        yield task;
      }
      offset += page.tasks.length;
      if (page.tasks.length === 0 || offset >= page.total) return;
    }
  }

  async getStats(options?: RequestOptions): Promise<Stats> {
    const answer = await this.#read('stats', this.#call(checkOptions('getStats', options)));
    return dataOf(answer.body, answer.request) as Stats;
  }

  /** Removes tasks that finished longer ago than `maxAgeMs`; answers how many went. */
  async cleanupTasks(options?: CleanupOptions): Promise<{ removed: number }> {
    this.#refuseUnderApi('cleanupTasks', 'its DELETE would reach the target as a task');
    const { maxAgeMs, maxAgeHours, ...checked } = checkOptions('cleanupTasks', options);
    if (maxAgeMs !== undefined && maxAgeHours !== undefined) {
      throw new TypeError("cleanupTasks(): give 'maxAgeMs' or the older 'maxAgeHours', not both");
    }
    const hours = maxAgeMs === undefined ? maxAgeHours : maxAgeMs / HOUR_MS;
    if (hours !== undefined && !(Number.isFinite(hours) && hours >= 0)) {
      throw new RangeError(
        `maxAgeMs must be a number of milliseconds (0 or more), got ${maxAgeMs ?? maxAgeHours}`,
      );
    }
    const answer = await this.#read('tasks/cleanup', this.#call(checked), {
      method: 'DELETE',
      // The proxy reads decimal digits only: a few milliseconds in hours would print as 2.7e-7.
      // Past its most, a hundred years, an age removes the same tasks, and would be refused.
      query: {
        max_age_hours:
          hours === undefined ? undefined : decimalDigits(Math.min(hours, MAX_CLEANUP_AGE_HOURS)),
      },
    });
    const data = asRecord(dataOf(answer.body, answer.request));
    if (typeof data?.['removed'] !== 'number') {
      throw invalidResponseError(answer.request, 'no removed count');
    }
    return { removed: data['removed'] };
  }

  /** The proxy's own health and whether it reaches its target. */
  async health(options?: RequestOptions): Promise<HealthBody> {
    const answer = await this.#read('health', this.#call(checkOptions('health', options)));
    const body = asRecord(answer.body);
    if (body?.['success'] !== true || typeof body['status'] !== 'string') {
      throw invalidResponseError(answer.request, 'not a health answer');
    }
    return body as unknown as HealthBody;
  }

  /** `GET /`: the service's name, version, target and endpoints. */
  async info(options?: RequestOptions): Promise<ServiceInfo> {
    const answer = await this.#read('', this.#call(checkOptions('info', options)));
    const info = asRecord(dataOf(answer.body, answer.request));
    if (typeof info?.['name'] !== 'string') {
      throw invalidResponseError(answer.request, 'not a service description');
    }
    return info as unknown as ServiceInfo;
  }

  /**
   * Submits, waits, and answers the target's response body (`result.body`: parsed JSON, text, or
   * base64 for binary). Rejects with `TaskFailedError` unless the task completed. `timeoutMs`
   * bounds the whole run. Like `submitAndWait`, one round trip for a quick task.
   */
  async run<T = unknown>(path: string, body?: unknown, options?: RunOptions): Promise<T> {
    this.#refuseUnderApi('run', SUBMITTED_UNDER_API);
    const checked = checkOptions('run', options);
    const task = await this.#submitAndWait(path, body, { ...checked, throwOnFailure: true });
    return task.result?.body as T;
  }

  /**
   * Cancels a task: a pending one leaves the queue, a processing one has its call to the target
   * aborted; it resolves with the task, now `cancelled`. A task cancelled already resolves the
   * same way (cancelling is idempotent, so the call is retried like a read). A task that finished
   * otherwise rejects with `TaskFinishedError`, which carries it.
   */
  async cancelTask(taskId: string, options?: RequestOptions): Promise<Task> {
    this.#refuseUnderApi('cancelTask', 'its DELETE would reach the target as a task');
    const call = this.#call(checkOptions('cancelTask', options));
    const path = taskPath(taskId);
    try {
      const answer = await this.#read(path, call, { method: 'DELETE', taskId });
      return asTask(dataOf(answer.body, answer.request), answer.request);
    } catch (error) {
      if (!isTaskFinishedError(error)) throw error;
      const task = await this.#readTask(taskId, undefined, call).then(
        (read) => read.task,
        () => undefined,
      );
      if (task?.status === 'cancelled') return task;
      throw new TaskFinishedError(taskId, error.message, {
        status: error.status,
        headers: error.headers,
        method: error.method,
        url: error.url,
        cause: error,
        task,
      });
    }
  }

  /**
   * Runs a finished task again from its stored request, as a new task linked both ways
   * (`retry_of` on the new one, `retried_as` on the old). Answers the new task's `Submission`;
   * with `waitMs`, the finished task when it finished in time. Rejects with
   * `TaskNotFinishedError` while the task has not finished. Never repeated after a network error
   * or a 5xx: a repeat would run the task once more.
   */
  async retryTask(taskId: string, options?: RetryTaskOptions): Promise<Submission> {
    this.#refuseUnderApi('retryTask', 'its POST would reach the target as a task');
    const checked = checkOptions('retryTask', options);
    const path = `${taskPath(taskId)}/retry`;
    const waitSeconds = preferWaitSeconds(checked.waitMs);
    const answer = await this.#transport.request({
      method: 'POST',
      path,
      headers: withControlHeaders(checked.headers, controlHeaders({ waitSeconds })),
      signal: checked.signal,
      timeoutMs: timeoutOf(checked.timeoutMs),
      extraTimeoutMs: waitSeconds * 1000,
      taskId,
      lostAnswerNote: `task ${taskId} may have been run again: getTask('${taskId}') names the new task as retried_as, before any other retryTask`,
      retry: submitRetry({
        method: 'POST',
        queueFullRetries: count(checked.queueFullRetries ?? 0, 'queueFullRetries'),
        otherRetries: 0,
        maxRetryAfterMs: maxRetryAfterOf(checked.maxRetryAfterMs),
        signal: checked.signal,
      }),
    });
    return toSubmission(answer, undefined);
  }

  /**
   * The target's answer to a finished task as it sent it: status code, headers and body bytes
   * (`GET /task/:id/result`), for binary or large results that base64 in JSON would inflate.
   * With `waitMs`, an unfinished task is waited for that long. Rejects with
   * `TaskNotFinishedError` when it has not finished, `NoResultError` when it finished without an
   * answer from the target.
   */
  async getResult(taskId: string, options?: ResultOptions): Promise<RawResult> {
    const { waitMs = 0, ...checked } = checkOptions('getResult', options);
    const call = this.#call(checked);
    const path = `${taskPath(taskId)}/result`;
    if (!(Number.isFinite(waitMs) && waitMs >= 0)) {
      throw new RangeError(
        `${optionLabel('waitMs')} must be a number of milliseconds (0 or more), got ${waitMs}`,
      );
    }
    const deadline = performance.now() + waitMs;
    /** Lowered when a held read is cut on the way (see `waitForTask`), down to none. */
    let holdCapSeconds = MAX_WAIT_SECONDS;
    /** The cap before the last cut, forgotten when the read after it is refused (a restart). */
    let capBeforeCut: number | undefined;
    let heldRetriesLeft = call.maxRetries;
    for (;;) {
      const leftSeconds = Math.ceil((deadline - performance.now()) / 1000);
      const holdSeconds = Math.min(holdCapSeconds, leftSeconds);
      const askedAt = performance.now();
      try {
        const opened = await this.#transport.open({
          method: 'GET',
          path,
          ...(holdSeconds > 0 ? { query: { wait: holdSeconds } } : {}),
          headers: { ...call.headers, accept: '*/*' },
          signal: call.signal,
          timeoutMs: call.timeoutMs,
          extraTimeoutMs: Math.max(0, holdSeconds) * 1000,
          // A held read is retried here, not by ky: ky would ask again holding as long after a
          // cut, and the time of all its attempts together would then pass for one hold. So is
          // the read after a cut, whose refusal says the proxy went away (see below).
          retry: readRetry(
            holdSeconds > 0 || capBeforeCut !== undefined ? 0 : call.maxRetries,
            call.signal,
            isReplayedResult,
          ),
          isAnswer: isReplayedResult,
          taskId,
        });
        if (!isReplayedResult(opened.response)) {
          void opened.response.body?.cancel().catch(() => {});
          throw invalidResponseError(opened.request, 'not a replayed result (no x-proxy-task-id)');
        }
        const bytes = await this.#transport
          .readBytes(opened, call.signal)
          .catch((error: unknown) => {
            throw undecodableResultError(error, opened.request);
          });
        return toRawResult(taskId, opened.response, bytes);
      } catch (error) {
        const cutHold = holdAfterCut(error, performance.now() - askedAt, holdSeconds);
        if (cutHold !== undefined) {
          if (performance.now() >= deadline || call.signal?.aborted) throw error;
          capBeforeCut ??= holdCapSeconds;
          holdCapSeconds = cutHold;
          continue;
        }
        const afterCut = capBeforeCut !== undefined;
        if (capBeforeCut !== undefined && isProxyOutage(error)) {
          holdCapSeconds = capBeforeCut;
          capBeforeCut = undefined;
        }
        if ((holdSeconds > 0 || afterCut) && heldRetriesLeft > 0 && isRetriedReadFailure(error)) {
          if (performance.now() >= deadline || call.signal?.aborted) throw error;
          await sleep(300 * 2 ** (call.maxRetries - heldRetriesLeft), call.signal);
          heldRetriesLeft -= 1;
          continue;
        }
        if (!isTaskNotFinishedError(error) || leftSeconds <= 0 || performance.now() >= deadline) {
          throw error;
        }
        capBeforeCut = undefined;
        // A server that answers a held read at once must not make this spin; reads without a
        // hold (the way to the proxy allows none) come at the adaptive schedule's first ceiling.
        const pauseMs = holdSeconds > 0 ? MIN_REREAD_MS : pollCeilingMs(0);
        await sleep(Math.max(0, askedAt + pauseMs - performance.now()), call.signal);
      }
    }
  }

  /**
   * The task as it is, then again at each status change, ending after the finished task (which
   * carries its result); an async iterator: `for await (const task of client.watchTask(id))`.
   * Follows `GET /task/:id/events`, reconnecting after a dropped connection; against a proxy
   * without event streams, polls on the adaptive schedule. Stop early with `break` or `signal`.
   * `onOpen` is told of each connection to the stream.
   */
  async *watchTask(
    taskId: string,
    options?: WatchTaskOptions,
  ): AsyncGenerator<Task, void, undefined> {
    const { onOpen, ...checked } = checkOptions('watchTask', options);
    const call = this.#call(checked);
    const path = `${taskPath(taskId)}/events`;
    yield* watchOneTask(
      taskId,
      {
        open: this.#openStream(path, {}, call, { taskId, fallback: true }),
        read: async (signal) => (await this.#readTask(taskId, undefined, { ...call, signal })).task,
        request: { method: 'GET', url: resolveUrl(this.baseUrl, path), taskId },
      },
      { signal: call.signal, onOpen },
    );
  }

  /**
   * Every task's transitions (`GET /events`) as an async iterator of `TaskEvent`s, for
   * dashboards: `created`, `started`, `finished`, `requeued`, and `reset` when events may have
   * been missed (read the list afresh). It resumes after a dropped connection with the last
   * event id and never ends by itself: stop it with `break` or `signal`. `onOpen` is told of
   * each connection, `onOutage` of a proxy away and back.
   */
  async *watchEvents(options?: WatchEventsOptions): AsyncGenerator<TaskEvent, void, undefined> {
    const { status, lastEventId, onOutage, onOpen, ...checked } = checkOptions(
      'watchEvents',
      options,
    );
    const call = this.#call(checked);
    const statuses = status === undefined ? [] : typeof status === 'string' ? [status] : status;
    for (const each of statuses) checkStatus(each);
    const query = statuses.length > 0 ? { status: statuses.join(',') } : {};
    yield* watchAllEvents(
      this.#openStream('events', query, call, { fallback: false }),
      { signal: call.signal, lastEventId, onOutage, onOpen },
      { method: 'GET', url: resolveUrl(this.baseUrl, 'events', query) },
    );
  }

  /**
   * Under the proxy's /api/ every request is a task for the target: a cancel or a cleanup would
   * reach it as a DELETE it may act on, a submission be queued for /api/api/ and fail only there.
   * Reads still go out: the proxy's 202 to one is explained then (see `#read`).
   */
  #refuseUnderApi(method: string, consequence: string): void {
    if (!this.#underApi) return;
    throw new TypeError(
      `${method}(): baseUrl ${this.baseUrl} ends in /api: ${consequence}; nothing was sent. Drop /api from baseUrl: the proxy's own routes (/stats, /tasks, /task/<id>) sit beside /api/, and a request under it goes to the target as a task`,
    );
  }

  async #submit(path: string, body: unknown, checked: SubmitOptions): Promise<Submission> {
    const method = submitMethod(checked.method);
    if ((method === 'GET' || method === 'HEAD') && body !== undefined) {
      throw new TypeError(`A ${method} submission cannot have a body`);
    }
    const submitPath = toSubmitPath(path);
    checkQuery(checked.query);
    const encoded = encodeBody(body);
    const queueFullRetries = count(checked.queueFullRetries ?? 0, 'queueFullRetries');
    const otherRetries =
      checked.maxRetries === undefined ? this.#maxRetries : count(checked.maxRetries, 'maxRetries');
    checkNoControlHeaders(checked);
    const { headers, keyInHeaders } = splitIdempotencyKey(checked.headers);
    // One key for the call and all its retries: a repeat names the task the first one created.
    const idempotencyKey =
      checked.idempotencyKey ??
      keyInHeaders ??
      (queueFullRetries + otherRetries > 0 ? newIdempotencyKey() : undefined);
    // The finished task a held answer would carry is a body, which an answer to HEAD cannot have.
    const waitSeconds = method === 'HEAD' ? 0 : preferWaitSeconds(checked.waitMs);
    const control = controlHeaders({
      idempotencyKey,
      waitSeconds,
      priority: checked.priority,
      callbackUrl: checked.callbackUrl,
      maxAttempts: checked.maxAttempts,
      maxQueueTimeMs: checked.maxQueueTimeMs,
      upstreamTimeoutMs: checked.upstreamTimeoutMs,
    });
    const answer = await this.#transport.request({
      method,
      path: submitPath,
      ...(checked.query ? { query: checked.query } : {}),
      headers: withControlHeaders(headers, control),
      forwarded: true,
      body: encoded,
      signal: checked.signal,
      timeoutMs: timeoutOf(checked.timeoutMs),
      extraTimeoutMs: waitSeconds * 1000,
      retry: submitRetry({
        method,
        queueFullRetries,
        otherRetries: idempotencyKey === undefined ? 0 : otherRetries,
        maxRetryAfterMs: maxRetryAfterOf(checked.maxRetryAfterMs),
        signal: checked.signal,
      }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    const submission = toSubmission(answer, idempotencyKey);
    if (method === 'HEAD' && submission.replayed) {
      // A replay's status is in the answer's body, which HEAD has not: read the task for it.
      const call = this.#call({ signal: checked.signal, timeoutMs: checked.timeoutMs });
      submission.status = (await this.#readTask(submission.taskId, undefined, call)).task.status;
    }
    // A key the SDK made is this call's alone: a replay answers its own retry, with the task its
    // first attempt created (the answer to which was lost), not a task of an earlier request.
    if (checked.idempotencyKey === undefined && keyInHeaders === undefined) {
      submission.replayed = false;
    }
    return submission;
  }

  async #submitAndWait(path: string, body: unknown, checked: RunOptions): Promise<Task> {
    const { pollIntervalMs, onStatus, onOutage, throwOnFailure, timeoutMs, waitMs, ...submitOnly } =
      checked;
    // A mistake in the wait's options must not surface only after a task was created for it.
    validateWaitOptions({ pollIntervalMs, timeoutMs });
    // One deadline for the whole call: the submission may use up part of it, the wait the rest.
    const limit = timeoutOf(timeoutMs);
    const callLimit =
      limit === undefined ? undefined : { ms: limit, deadline: performance.now() + limit };
    const deadline = callLimit?.deadline;
    // The held answer must come back with the task's id before the deadline: leave it a second.
    const holdMs =
      waitMs ??
      (limit === undefined
        ? MAX_WAIT_SECONDS * 1000
        : Math.min(MAX_WAIT_SECONDS, Math.max(0, Math.floor((limit - 1000) / 1000))) * 1000);
    const submission = await this.#submitHeld(path, body, submitOnly, holdMs, callLimit);
    const { task } = submission;
    if (task !== undefined) {
      await untilAborted(Promise.resolve(onStatus?.(task, undefined)), checked.signal);
      if (throwOnFailure && task.status !== 'completed') throw new TaskFailedError(task);
      return task;
    }
    const {
      method: _m,
      query: _q,
      queueFullRetries: _r,
      maxRetryAfterMs: _a,
      ...shared
    } = submitOnly;
    const {
      idempotencyKey: _k,
      priority: _p,
      callbackUrl: _c,
      maxAttempts: _n,
      maxQueueTimeMs: _mq,
      upstreamTimeoutMs: _t,
      ...reads
    } = shared;
    try {
      const waitOptions = checkOptions('waitForTask', {
        ...reads,
        ...defined({ pollIntervalMs, onStatus, onOutage, throwOnFailure }),
        ...(deadline === undefined ? {} : { timeoutMs: Math.max(1, deadline - performance.now()) }),
      });
      return await this.#waitForTask(submission.taskId, waitOptions, true);
    } catch (error) {
      // The wait had what the submission left of the limit: name the limit the caller set.
      if (limit !== undefined && isWaitTimeoutError(error)) {
        throw new WaitTimeoutError(error.taskId, limit, error.lastTask, true);
      }
      throw error;
    }
  }

  /**
   * The submission of `submitAndWait`, its answer held up to `holdMs`. A held submission that
   * fails as an outage (no answer, 502, 503, 504: a gateway in front of the proxy may end a
   * request silent for 30 or 60 s) is not repeated holding as long again: it is made once more
   * without a hold and with the same idempotency key, which names the task the first one created,
   * and the wait that follows reads it. Without a key (no retries asked) it fails as it came, and
   * so it does once the call's limit has run out.
   */
  async #submitHeld(
    path: string,
    body: unknown,
    options: SubmitOptions,
    holdMs: number,
    limit: CallLimit | undefined,
  ): Promise<Submission> {
    /** A submission got no answer by the call's deadline, whose timer may fire a hair early. */
    let ranOut = false;
    const send = async (sent: unknown, submitted: SubmitOptions, hold: number) => {
      if (limit === undefined) return this.#submit(path, sent, { ...submitted, waitMs: hold });
      // Each has what is left of the call's limit, its hold on top, up to the client's own.
      const left = limit.deadline - performance.now() - hold;
      try {
        return await this.#submit(path, sent, {
          ...submitted,
          waitMs: hold,
          timeoutMs: Math.max(1, Math.min(left, this.#timeoutMs)),
        });
      } catch (error) {
        const timedOut = isProxyUnreachableError(error) && error.code === 'response_timeout';
        if (!timedOut || (left > this.#timeoutMs && performance.now() < limit.deadline)) {
          throw error;
        }
        ranOut = true;
        throw callTimeoutError(error, limit.ms);
      }
    };
    if (holdMs <= 0) return send(body, options, 0);
    const retries =
      options.maxRetries === undefined ? this.#maxRetries : count(options.maxRetries, 'maxRetries');
    const given = options.idempotencyKey ?? splitIdempotencyKey(options.headers).keyInHeaders;
    const made = given === undefined && retries > 0 ? newIdempotencyKey() : undefined;
    const keyed = made === undefined ? options : { ...options, idempotencyKey: made };
    if (given === undefined && made === undefined) return send(body, options, holdMs);
    // fetch reads a stream as it sends it: the submission made again sends a copy.
    const [first, again] = twoOf(body);
    try {
      return await send(first, { ...keyed, maxRetries: 0 }, holdMs);
    } catch (error) {
      if (!isProxyOutage(error) || isQueueFullError(error) || options.signal?.aborted) throw error;
      // A submission sent now could only be cut short: the call ends as its limit says.
      if (ranOut || (limit !== undefined && performance.now() >= limit.deadline)) throw error;
      return send(again, keyed, 0);
    }
  }

  /** Opens an event stream at `path`, for `followEventStream`. */
  #openStream(
    path: string,
    query: Record<string, QueryValue>,
    call: CallSettings,
    { taskId, fallback }: { taskId?: string; fallback: boolean },
  ): OpenStream {
    return async (lastEventId, signal) => {
      const opened = await this.#transport
        .open({
          method: 'GET',
          path,
          query,
          headers: {
            ...call.headers,
            accept: 'text/event-stream',
            ...(lastEventId === undefined ? {} : { [LAST_EVENT_ID_HEADER]: lastEventId }),
          },
          signal,
          timeoutMs: call.timeoutMs,
          retry: readRetry(call.maxRetries, signal),
          ...(taskId === undefined ? {} : { taskId }),
        })
        .catch((error: unknown) => {
          throw fallback && isMissingRoute(error) ? new NoEventStream() : error;
        });
      const { response } = opened;
      const type = response.headers.get('content-type') ?? '';
      if (!type.startsWith('text/event-stream') || !response.body) {
        void response.body?.cancel().catch(() => {});
        if (fallback) throw new NoEventStream();
        throw invalidResponseError(opened.request, `not an event stream (${type || 'no type'})`);
      }
      return response.body;
    };
  }

  /** The request settings of one call, from its options over the client's. */
  #call(options: RequestOptions): CallSettings {
    return {
      signal: options.signal,
      timeoutMs: timeoutOf(options.timeoutMs),
      headers: options.headers,
      maxRetries:
        options.maxRetries === undefined
          ? this.#maxRetries
          : count(options.maxRetries, 'maxRetries'),
    };
  }

  async #readTask(
    taskId: string,
    waitSeconds: number | undefined,
    call: CallSettings,
  ): Promise<TaskRead> {
    const answer = await this.#read(taskPath(taskId), call, {
      taskId,
      ...(waitSeconds === undefined
        ? {}
        : { query: { wait: waitSeconds }, extraTimeoutMs: waitSeconds * 1000 }),
    });
    const waitMax = Number(answer.headers.get(WAIT_MAX_HEADER) ?? Number.NaN);
    return {
      task: asTask(dataOf(answer.body, answer.request), answer.request),
      waitMaxSeconds: waitMax > 0 ? waitMax : undefined,
      retryAfterMs: parseRetryAfterMs(answer.headers.get('retry-after')),
    };
  }

  /** An idempotent request, so it may be retried by the read policy. */
  async #read(
    path: string,
    call: CallSettings,
    extra: Partial<Pick<HttpRequest, 'method' | 'query' | 'taskId' | 'extraTimeoutMs'>> = {},
  ): Promise<HttpAnswer> {
    const answer = await this.#transport.request({
      method: 'GET',
      path,
      signal: call.signal,
      timeoutMs: call.timeoutMs,
      ...(call.headers ? { headers: call.headers } : {}),
      retry: readRetry(call.maxRetries, call.signal),
      ...extra,
    });
    // No read route answers 202; a submission does. The base URL ends under the proxy's /api/,
    // and the read went to the target as a task (and will run), so say so plainly.
    if (answer.status === 202) {
      throw invalidResponseError(
        answer.request,
        "202: taken as a submission, so the base URL ends under the proxy's /api/; use the proxy's own base URL",
      );
    }
    return answer;
  }
}

/**
 * `task/<id>`, escaped; an empty id is a mistake of the caller's, and so is `.` or `..`, which
 * the URL parser would resolve to another route.
 */
function taskPath(taskId: string): string {
  if (typeof taskId !== 'string' || taskId === '' || taskId === '.' || taskId === '..') {
    throw new TypeError(`taskId must be a task id, got ${shownValue(taskId, 'submitTask(...)')}`);
  }
  return `task/${encodeURIComponent(taskId)}`;
}

/**
 * What ky retries for a read, as the SDK's errors say it (see `readRetry`): no answer, or a 5xx of
 * the proxy's own; not a time limit, a blocked port or a full queue.
 */
function isRetriedReadFailure(error: unknown): boolean {
  if (isQueueFullError(error)) return false;
  if (isProxyResponseError(error)) return error.status >= 500;
  return isProxyOutage(error) && (error as { code?: unknown }).code === 'unreachable';
}

/** The answer of a proxy that has no such route: an older proxy-server, without event streams. */
function isMissingRoute(error: unknown): boolean {
  return (
    isProxyResponseError(error) &&
    ['not_found', 'http_404', 'http_405', 'http_501'].includes(error.code)
  );
}

/**
 * A caller who put `Idempotency-Key` in `headers` rather than in the option gets the same
 * treatment: it is the call's key, sent once, reused on retries.
 */
function splitIdempotencyKey(headers: Record<string, string> | undefined): {
  headers: Record<string, string> | undefined;
  keyInHeaders: string | undefined;
} {
  if (headers === undefined) return { headers, keyInHeaders: undefined };
  let keyInHeaders: string | undefined;
  const rest: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === SUBMIT_HEADERS.idempotencyKey) {
      keyInHeaders = unquoted(value);
    } else rest[name] = value;
  }
  return { headers: rest, keyInHeaders };
}

/** An `Idempotency-Key` value as a key: the header is a structured-field string, quoted. */
function unquoted(value: string): string {
  return value.trim().replace(/^"(.*)"$/, '$1');
}

/** The submission options that each set a header of the proxy's, and that header. */
const CONTROL_OPTIONS = {
  idempotencyKey: SUBMIT_HEADERS.idempotencyKey,
  priority: SUBMIT_HEADERS.priority,
  callbackUrl: SUBMIT_HEADERS.callbackUrl,
  maxAttempts: SUBMIT_HEADERS.maxAttempts,
  maxQueueTimeMs: SUBMIT_HEADERS.maxQueueTime,
  upstreamTimeoutMs: SUBMIT_HEADERS.timeout,
} as const satisfies Partial<Record<keyof SubmitOptions, string>>;

/**
 * One setting given both as an option and in `headers` is a TypeError: the option's key would
 * silently win over the header's, and the two priorities would reach the proxy joined
 * (`low, high`), refused with a 400 naming neither. (`waitMs` is left out: `run` sets it itself.)
 */
function checkNoControlHeaders(checked: SubmitOptions): void {
  for (const [name, value] of Object.entries(checked.headers ?? {})) {
    // The same key both ways is one key (headers passed on from a request, say): the header
    // goes, and only the option's is sent.
    const lower = name.toLowerCase();
    if (lower === SUBMIT_HEADERS.idempotencyKey && unquoted(value) === checked.idempotencyKey) {
      continue;
    }
    for (const [option, header] of Object.entries(CONTROL_OPTIONS)) {
      if (name.toLowerCase() === header && checked[option as keyof SubmitOptions] !== undefined) {
        throw new TypeError(
          `headers must not set ${name}, which the ${option} option sets: give one`,
        );
      }
    }
  }
}

/** The `timeoutMs` of a `run` or `submitAndWait`, and when it runs out (`performance.now()`). */
interface CallLimit {
  ms: number;
  deadline: number;
}

interface CallSettings {
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  headers: Record<string, string> | undefined;
  maxRetries: number;
}

/**
 * The key goes in a header, and a proxy's key is printable ASCII without spaces: a control
 * character (a pasted newline), a space or a character beyond ASCII could only be refused. The
 * message never shows the key.
 */
function checkApiKey(apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  if (typeof apiKey !== 'string' || !isSendableApiKey(apiKey)) {
    const got = isThenable(apiKey) ? `, got ${shownValue(apiKey)}` : ' (the key is not shown here)';
    throw new TypeError(
      `apiKey must be a non-empty string of printable ASCII characters, without spaces or control characters such as a newline, as a proxy's --api-key is${got}`,
    );
  }
}

/**
 * Query values are sent through String(): an object would reach the target as `[object Object]`
 * and null as `null`, and a URLSearchParams has no entries of its own, so its parameters would be
 * dropped. Each is a TypeError now, before anything is sent.
 */
function checkQuery(query: Record<string, QueryValue> | undefined): void {
  if (query === undefined) return;
  const prototype = typeof query === 'object' && query !== null && Object.getPrototypeOf(query);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new TypeError('query must be a plain object');
  }
  for (const [name, value] of Object.entries(query)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    if (!['string', 'number', 'boolean', 'undefined'].includes(kind)) {
      throw new TypeError(`query.${name} must be a string, number or boolean, got ${kind}`);
    }
  }
}

/**
 * The submission's method, upper-cased: an RFC 9110 token that fetch can send (it refuses
 * CONNECT, TRACE and TRACK), so a typo is a TypeError rather than a network error.
 */
function submitMethod(method: string | undefined): string {
  if (method === undefined) return 'POST';
  if (typeof method !== 'string' || !isSubmittableMethod(method)) {
    throw new TypeError(
      `method must be an HTTP method such as GET or POST that fetch sends (not CONNECT, TRACE or TRACK), got ${shownValue(method)}`,
    );
  }
  return method.toUpperCase();
}

/** Retry counts must be finite: nothing in the SDK retries forever. */
function count(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 0)) {
    throw new RangeError(`${name} must be a whole number of retries (0 or more), got ${value}`);
  }
  return value;
}

/**
 * The cap on a queue-full wait: with a negative or NaN cap ky resubmits at once, ignoring
 * `Retry-After`. `Infinity` (ky's own default: no cap) stops at a timer's longest, past which a
 * timer fires at once.
 */
function maxRetryAfterOf(value: number | undefined): number {
  checkIsNumber('maxRetryAfterMs', value);
  if (value === undefined) return DEFAULT_MAX_RETRY_AFTER_MS;
  if (!(value >= 0)) {
    throw new RangeError(
      `maxRetryAfterMs must be a number of milliseconds, 0 or more (Infinity for no cap), got ${value}`,
    );
  }
  return Math.min(value, MAX_TIMER_MS);
}

/** A request time limit: positive milliseconds, or `Infinity` for none. */
function timeoutOf(value: number | undefined): number | undefined {
  checkIsNumber('timeoutMs', value);
  if (value !== undefined && !(value > 0)) {
    throw new RangeError(
      `${optionLabel('timeoutMs')} must be a positive number of milliseconds, got ${value}`,
    );
  }
  return value;
}

/** An unknown status is the caller's typo: a TypeError now rather than the proxy's 400 later. */
function checkStatus(status: unknown): void {
  if (!isTaskStatus(status)) {
    throw new TypeError(
      `status must be one of ${TASK_STATUSES.join(', ')}, got ${JSON.stringify(status)}`,
    );
  }
}

/** The entries of `values` that are set, so they do not override defaults with undefined. */
function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/** A number without exponent notation: twelve decimal places of an hour are a few nanoseconds. */
function decimalDigits(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(12).replace(/\.?0+$/, '');
}

/** Up to the proxy's own limit: above it, a 400 would come back for a mistake made here. */
function checkPageSize(name: 'limit' | 'pageSize', size: number): void {
  if (!(Number.isInteger(size) && size > 0 && size <= MAX_PAGE_SIZE)) {
    // From plain JavaScript a query string's '20' may come as it is: said so, not shown as 20.
    const got = typeof size === 'string' ? `'${size}', a string` : String(size);
    throw new RangeError(`${name} must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${got}`);
  }
}
