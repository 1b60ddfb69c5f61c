import { asRecord, asTask, dataOf } from './answers.js';
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
import { parseRetryAfter } from './retry-after.js';
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
/** Header by which the server says it holds `GET /task/:id?wait=N` reads, and for how long at most. */
const WAIT_MAX_HEADER = 'x-proxy-wait-max';

/** Typed client of a proxy-server: submit slow requests, then read or await their tasks. */
export class ProxyClient {
  /** The proxy's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly #transport: Transport;
  readonly #readRetries: number;

  constructor(options: ProxyClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.#readRetries = count(options.retry?.reads ?? DEFAULT_READ_RETRIES, 'retry.reads');
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
    this.#transport = new Transport({
      baseUrl: this.baseUrl,
      apiKey: options.apiKey,
      timeoutMs,
      headers: options.headers,
      fetch: options.fetch,
      hooks: options.hooks,
    });
  }

  /**
   * Submits a request for the target through the proxy and answers the new task's id at once.
   * `path` may be `api/x`, `/api/x` or `x`. A string, bytes, Blob, FormData or URLSearchParams
   * body is sent as-is; any other value (null included) as JSON; `undefined` sends no body.
   */
  async submitTask(path: string, body?: unknown, options: SubmitOptions = {}): Promise<string> {
    const method = (options.method ?? 'POST').toUpperCase();
    if ((method === 'GET' || method === 'HEAD') && body !== undefined) {
      throw new TypeError(`A ${method} submission cannot have a body`);
    }
    const retries = count(options.queueFullRetries ?? 0, 'queueFullRetries');
    const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    const answer = await this.#transport.request({
      method,
      path: toSubmitPath(path),
      ...(options.query ? { query: options.query } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
      body: encodeBody(body),
      signal: options.signal,
      retry: submitRetry(retries, method, maxRetryAfterMs, options.signal),
    });
    const taskId = asRecord(answer.body)?.['task_id'];
    if (typeof taskId !== 'string' || taskId === '') {
      throw invalidResponseError(answer.request, 'no task_id in the submission answer');
    }
    return taskId;
  }

  /** Reads a task once. Rejects with `TaskNotFoundError` when the proxy holds no such task. */
  async getTask(taskId: string, options: RequestOptions = {}): Promise<Task> {
    return (await this.#readTask(taskId, undefined, options.signal)).task;
  }

  /**
   * Resolves with the finished task, `completed` or `failed` (or rejects with `TaskFailedError`
   * under `throwOnFailure`). Uses the server's waiting read when offered, else polls adaptively.
   */
  waitForTask(taskId: string, options: WaitOptions = {}): Promise<Task> {
    return waitUntilFinished(
      taskId,
      ({ waitSeconds, signal }) => this.#readTask(taskId, waitSeconds, signal),
      options,
    );
  }

  /** One page of tasks, newest first. */
  async listTasks(options: ListTasksOptions = {}): Promise<TaskList> {
    const answer = await this.#read('tasks', options.signal, {
      query: { status: options.status, limit: options.limit, offset: options.offset },
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
  async *iterateTasks(
    options: IterateTasksOptions = {},
  ): AsyncGenerator<TaskSummary, void, undefined> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!(Number.isInteger(pageSize) && pageSize > 0)) {
      throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
    }
    const seen = new Set<string>();
    for (let offset = 0; ; ) {
      const page = await this.listTasks({
        ...(options.status ? { status: options.status } : {}),
        limit: pageSize,
        offset,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for (const task of page.tasks) {
        if (seen.has(task.task_id)) continue;
        seen.add(task.task_id);
        yield task;
      }
      offset += page.tasks.length;
      if (page.tasks.length === 0 || offset >= page.total) return;
    }
  }

  async getStats(options: RequestOptions = {}): Promise<Stats> {
    const answer = await this.#read('stats', options.signal);
    return dataOf(answer.body, answer.request) as Stats;
  }

  /** Removes finished tasks older than `maxAgeHours`; answers how many went. */
  async cleanupTasks(options: CleanupOptions = {}): Promise<{ removed: number }> {
    const answer = await this.#read('tasks/cleanup', options.signal, {
      method: 'DELETE',
      query: { max_age_hours: options.maxAgeHours },
    });
    const data = asRecord(dataOf(answer.body, answer.request));
    if (typeof data?.['removed'] !== 'number') {
      throw invalidResponseError(answer.request, 'no removed count');
    }
    return { removed: data['removed'] };
  }

  /** The proxy's own health and whether it reaches its target. */
  async health(options: RequestOptions = {}): Promise<HealthBody> {
    const answer = await this.#read('health', options.signal);
    const body = asRecord(answer.body);
    if (body?.['success'] !== true || typeof body['status'] !== 'string') {
      throw invalidResponseError(answer.request, 'not a health answer');
    }
    return body as unknown as HealthBody;
  }

  /** `GET /`: the service's name, version, target and endpoints. */
  async info(options: RequestOptions = {}): Promise<ServiceInfo> {
    const answer = await this.#read('', options.signal);
    const info = asRecord(dataOf(answer.body, answer.request));
    if (typeof info?.['name'] !== 'string') {
      throw invalidResponseError(answer.request, 'not a service description');
    }
    return info as unknown as ServiceInfo;
  }

  /**
   * Submits, waits, and answers the target's response body (`result.body`: parsed JSON, text, or
   * base64 for binary). Rejects with `TaskFailedError` when the task failed.
   */
  async run<T = unknown>(path: string, body?: unknown, options: RunOptions = {}): Promise<T> {
    const taskId = await this.submitTask(path, body, options);
    const task = await this.waitForTask(taskId, { ...options, throwOnFailure: true });
    return task.result?.body as T;
  }

  async #readTask(
    taskId: string,
    waitSeconds: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<TaskRead> {
    if (taskId === '') throw new TypeError('taskId must not be empty');
    const answer = await this.#read(`task/${encodeURIComponent(taskId)}`, signal, {
      taskId,
      ...(waitSeconds === undefined
        ? {}
        : { query: { wait: waitSeconds }, extraTimeoutMs: waitSeconds * 1000 }),
    });
    const waitMax = Number(answer.headers.get(WAIT_MAX_HEADER) ?? Number.NaN);
    const retryAfter = parseRetryAfter(answer.headers.get('retry-after'));
    return {
      task: asTask(dataOf(answer.body, answer.request), answer.request),
      waitMaxSeconds: waitMax > 0 ? waitMax : undefined,
      retryAfterMs: retryAfter === undefined ? undefined : retryAfter * 1000,
    };
  }

  /** An idempotent request, so it may be retried by the read policy. */
  #read(
    path: string,
    signal: AbortSignal | undefined,
    extra: Partial<Pick<HttpRequest, 'method' | 'query' | 'taskId' | 'extraTimeoutMs'>> = {},
  ): Promise<HttpAnswer> {
    return this.#transport.request({
      method: 'GET',
      path,
      signal,
      retry: readRetry(this.#readRetries, signal),
      ...extra,
    });
  }
}

/** Retry counts must be finite: nothing in the SDK retries forever. */
function count(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 0)) {
    throw new RangeError(`${name} must be a whole number of retries (0 or more), got ${value}`);
  }
  return value;
}
