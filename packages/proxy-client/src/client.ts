import { asRecord, asTask, dataOf } from './answers.js';
import { checkOptions } from './check-options.js';
import { invalidResponseError } from './errors/error-from-response.js';
import type {
  CleanupOptions,
  IterateTasksOptions,
  ListTasksOptions,
  ProxyClientOptions,
  RequestOptions,
  RunOptions,
  SubmitOptions,
  WaitOptions,
} from './options.js';
import { type TaskRead, waitUntilFinished } from './polling/wait-until-finished.js';
import { parseRetryAfterMs } from './retry-after.js';
import { toSubmitPath } from './submit-path.js';
import { encodeBody } from './transport/request-body.js';
import { readRetry, submitRetry } from './transport/retry-policy.js';
import { type HttpAnswer, type HttpRequest, Transport } from './transport/transport.js';
import { normalizeBaseUrl } from './transport/url.js';
import type { HealthBody, ServiceInfo, Stats, Task, TaskList, TaskSummary } from './wire.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_READ_RETRIES = 2;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
const DEFAULT_PAGE_SIZE = 100;
const HOUR_MS = 3_600_000;
/** Header by which the server says it holds `GET /task/:id?wait=N` reads, and for how long at most. */
const WAIT_MAX_HEADER = 'x-proxy-wait-max';

/** Typed client of a proxy-server: submit slow requests, then read or await their tasks. */
export class ProxyClient {
  /** The proxy's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;

  constructor(options: ProxyClientOptions) {
    const checked = checkOptions('ProxyClient', options);
    this.baseUrl = normalizeBaseUrl(checked.baseUrl);
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
   */
  async submitTask(path: string, body?: unknown, options?: SubmitOptions): Promise<string> {
    const checked = checkOptions('submitTask', options);
    const method = (checked.method ?? 'POST').toUpperCase();
    if ((method === 'GET' || method === 'HEAD') && body !== undefined) {
      throw new TypeError(`A ${method} submission cannot have a body`);
    }
    const retries = count(checked.queueFullRetries ?? 0, 'queueFullRetries');
    const maxRetryAfterMs = checked.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    const answer = await this.#transport.request({
      method,
      path: toSubmitPath(path),
      ...(checked.query ? { query: checked.query } : {}),
      ...(checked.headers ? { headers: checked.headers } : {}),
      body: encodeBody(body),
      signal: checked.signal,
      timeoutMs: timeoutOf(checked.timeoutMs),
      retry: submitRetry(retries, method, maxRetryAfterMs, checked.signal),
    });
    const taskId = asRecord(answer.body)?.['task_id'];
    if (typeof taskId !== 'string' || taskId === '') {
      throw invalidResponseError(answer.request, 'no task_id in the submission answer');
    }
    return taskId;
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
    const checked = checkOptions('waitForTask', options);
    const reads = this.#call({ ...checked, timeoutMs: undefined });
    return waitUntilFinished(
      taskId,
      ({ waitSeconds, signal }) => this.#readTask(taskId, waitSeconds, { ...reads, signal }),
      checked,
    );
  }

  /** One page of tasks, newest first. */
  async listTasks(options?: ListTasksOptions): Promise<TaskList> {
    const checked = checkOptions('listTasks', options);
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
    if (!(Number.isInteger(pageSize) && pageSize > 0)) {
      throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
    }
    const seen = new Set<string>();
    for (let offset = 0; ; ) {
      const page = await this.listTasks({ ...rest, limit: pageSize, offset });
      for (const task of page.tasks) {
        if (seen.has(task.task_id)) continue;
        seen.add(task.task_id);
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
      query: { max_age_hours: hours },
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
   * bounds the whole run.
   */
  async run<T = unknown>(path: string, body?: unknown, options?: RunOptions): Promise<T> {
    const checked = checkOptions('run', options);
    const {
      method,
      query,
      queueFullRetries,
      maxRetryAfterMs,
      pollIntervalMs,
      onStatus,
      throwOnFailure: _,
      timeoutMs,
      maxRetries,
      ...shared
    } = checked;
    // One deadline for the whole run: the submission may use up part of it, the wait the rest.
    const limit = timeoutOf(timeoutMs);
    const deadline = limit === undefined ? undefined : Date.now() + limit;
    const submit = { method, query, queueFullRetries, maxRetryAfterMs };
    const taskId = await this.submitTask(path, body, {
      ...defined(submit),
      ...shared,
      ...(limit === undefined ? {} : { timeoutMs: Math.min(limit, this.#timeoutMs) }),
    });
    const task = await this.waitForTask(taskId, {
      ...defined({ pollIntervalMs, onStatus, maxRetries }),
      ...shared,
      ...(deadline === undefined ? {} : { timeoutMs: Math.max(1, deadline - Date.now()) }),
      throwOnFailure: true,
    });
    return task.result?.body as T;
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
    if (taskId === '') throw new TypeError('taskId must not be empty');
    const answer = await this.#read(`task/${encodeURIComponent(taskId)}`, call, {
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
  #read(
    path: string,
    call: CallSettings,
    extra: Partial<Pick<HttpRequest, 'method' | 'query' | 'taskId' | 'extraTimeoutMs'>> = {},
  ): Promise<HttpAnswer> {
    return this.#transport.request({
      method: 'GET',
      path,
      signal: call.signal,
      timeoutMs: call.timeoutMs,
      ...(call.headers ? { headers: call.headers } : {}),
      retry: readRetry(call.maxRetries, call.signal),
      ...extra,
    });
  }
}

interface CallSettings {
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  headers: Record<string, string> | undefined;
  maxRetries: number;
}

/** Retry counts must be finite: nothing in the SDK retries forever. */
function count(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 0)) {
    throw new RangeError(`${name} must be a whole number of retries (0 or more), got ${value}`);
  }
  return value;
}

/** A request time limit: positive milliseconds, or `Infinity` for none. */
function timeoutOf(value: number | undefined): number | undefined {
  if (value !== undefined && !(value > 0)) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${value}`);
  }
  return value;
}

/** The entries of `values` that are set, so they do not override defaults with undefined. */
function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
