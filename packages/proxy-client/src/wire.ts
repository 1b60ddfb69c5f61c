/**
 * The wire contract between proxy-server, proxy-client and proxy-cli: every JSON body the proxy
 * sends, with its snake_case field names. This file is the single source of truth; the server
 * imports it from `proxy-client/wire`, so it must stay free of runtime dependencies.
 */

export const TASK_STATUSES = [
  'pending',
  'processing',
  'completed',
  'failed',
  'cancelled',
  'expired',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/**
 * Statuses after which a task never changes again: `cancelled` is stopped by
 * `DELETE /task/:id`, `expired` was not started before its deadline.
 */
export const TERMINAL_STATUSES = [
  'completed',
  'failed',
  'cancelled',
  'expired',
] as const satisfies readonly TaskStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (TASK_STATUSES as readonly string[]).includes(value);
}

export function isTerminalStatus(status: TaskStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** How `TaskResult.body` is carried: parsed JSON, a UTF-8 string, or base64 of the raw bytes. */
export type BodyEncoding = 'json' | 'text' | 'base64';

/** The target's answer, kept whatever its status code. */
export interface TaskResult {
  status_code: number;
  /** Response headers as the target sent them (lower-case names; repeated headers as arrays). */
  headers: Record<string, string | string[]>;
  body: unknown;
  body_encoding: BodyEncoding;
  /** Size of the body as the target sent it, in bytes. */
  body_bytes: number;
}

/** A result as lists carry it: everything but the body, which `GET /task/:id` gives. */
export type TaskResultSummary = Omit<TaskResult, 'body'>;

/** Why a task failed, when the reason is not just the target's status code. */
export const TASK_ERROR_CODES = {
  upstream_status: 'The target answered with a non-2xx status; its answer is in result',
  upstream_refused: 'The target refused the connection',
  upstream_reset: 'The connection to the target was reset or closed before the answer',
  upstream_timeout: 'The configured upstream timeout ran out',
  upstream_unreachable: 'The target host could not be resolved or reached',
  upstream_error: 'The upstream call failed for another reason',
  result_too_large: "The target's answer was larger than the configured result size limit",
  interrupted: 'The proxy stopped (shut down or crashed) before the upstream call finished',
  expired: 'The task did not start before its deadline',
  shed: 'The queue was full and dropped this task for one of a higher priority',
} as const;
export type TaskErrorCode = keyof typeof TASK_ERROR_CODES;

export interface TaskError {
  code: TaskErrorCode;
  message: string;
}

/** `X-Proxy-Priority`: served high first, FIFO within a level. */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** One upstream call of a task. */
export interface TaskAttempt {
  attempt: number;
  started_at: string;
  finished_at: string;
  /** The status this call would have given the task. */
  outcome: TerminalStatus;
  status_code: number | null;
  error_code: TaskErrorCode | null;
  /** When the next attempt was due, when this one was retried; else null. */
  retry_at: string | null;
}

/** One POST of the finished task to its callback URL. */
export interface CallbackDelivery {
  attempt: number;
  at: string;
  ok: boolean;
  status_code: number | null;
  /** Why no answer came (refused, timeout, ...), else null. */
  error: string | null;
}

/** The callback a caller asked for with `X-Proxy-Callback-Url`, and how it went. */
export interface TaskCallback {
  url: string;
  state: 'pending' | 'delivered' | 'failed';
  deliveries: CallbackDelivery[];
  /** When the next delivery is due while pending. */
  next_at: string | null;
}

export interface Task {
  task_id: string;
  status: TaskStatus;
  method: string;
  /** Path as submitted, query string included, e.g. `/api/report?year=2026`. */
  path: string;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  is_long_task: boolean;
  result: TaskResult | null;
  error: TaskError | null;
  /** 1-based place in the queue while pending, else null. */
  queue_position: number | null;
  /** ISO time the task is expected to start, while pending, else null. */
  estimated_start_at: string | null;
  /** Milliseconds spent waiting in the queue (so far, while pending). */
  queue_ms: number;
  /** Milliseconds of processing (so far, while processing); null while pending. */
  duration_ms: number | null;
  /** Upstream calls made for this task. */
  attempts: number;
  /** The task this one runs again (`POST /task/:id/retry`), else null. */
  retry_of: string | null;
  /** The latest task that runs this one again, else null. */
  retried_as: string | null;
  priority: Priority;
  /** The tenant it counts for in fair sharing (`--fair-key`), else null. */
  tenant: string | null;
  /** It must start by then or end `expired`; null for no deadline. */
  deadline_at: string | null;
  /** While pending after a failed attempt: when the next one is due. */
  next_attempt_at: string | null;
  /** Upstream calls at most, the first included. */
  max_attempts: number;
  /** Every finished upstream call, oldest first. */
  attempt_history: TaskAttempt[];
  callback: TaskCallback | null;
}

/** A task as lists carry it: the result without its body. */
export interface TaskSummary extends Omit<Task, 'result'> {
  result: TaskResultSummary | null;
}

export interface TaskList {
  tasks: TaskSummary[];
  total: number;
  limit: number;
  offset: number;
}

/** How many tasks of each status are held now, and all of them. */
export type TaskCounts = Record<TaskStatus, number> & { total: number };

export interface Stats {
  /** Counts of the tasks held now. */
  tasks: TaskCounts;
  queue_size: number;
  max_queue_size: number;
  max_concurrent: number;
  num_workers: number;
  /** min(num_workers, max_concurrent): the most upstream calls that can really be in flight. */
  effective_concurrency: number;
  in_flight: number;
  long_tasks: number;
  /** Mean processing time of finished tasks, in milliseconds; null before the first. */
  avg_processing_ms: number | null;
  /** Totals since start, including tasks since removed. */
  totals: {
    submitted: number;
    completed: number;
    failed: number;
    cancelled: number;
    expired: number;
    rejected_queue_full: number;
    removed: number;
  };
  /** Where tasks are kept: `memory`, `sqlite` (a file under the data dir) or `redis`. */
  store: StoreKind;
  /** What the delivery policy did. */
  delivery: DeliveryStats;
  uptime_s: number;
  started_at: string;
  target: string;
  version: string;
}

export interface DeliveryStats {
  /** Tasks waiting now for their next attempt after a failed one. */
  retrying: number;
  /** Retries scheduled since start. */
  retries: number;
  /** Tasks dropped from a full queue for higher-priority ones since start. */
  shed: number;
  /** Calls to the target per second at most, and the burst; null without `--max-rps`. */
  rate_limit: { max_rps: number; burst: number } | null;
  /** The tenants with the most queued tasks, busiest first (fair sharing). */
  tenants: Array<{ tenant: string; queued: number; in_flight: number }>;
  /** Callback deliveries since start. */
  callbacks: { delivered: number; failed: number };
}

export const STORE_KINDS = ['memory', 'sqlite', 'redis'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface HealthBody {
  success: true;
  /** `ok` when the target answers and the store works; `degraded` when either fails. */
  status: 'ok' | 'degraded' | 'shutting_down';
  target: { url: string; reachable: boolean; latency_ms: number | null };
  /** The task store: `available` false with the reason in `message` when it cannot be used. */
  store: { kind: StoreKind; available: boolean; message: string | null };
}

export interface SubmitBody {
  success: true;
  task_id: string;
  /** `pending` for a new task; the task's status now when an idempotency key named it. */
  status: TaskStatus;
  message: string;
  data: { task_id: string; status_url: string };
}

/** Submit request headers the proxy reads and never forwards to the target. */
export const SUBMIT_HEADERS = {
  idempotencyKey: 'idempotency-key',
  prefer: 'prefer',
} as const;

/** Answer headers of a submission: which preference was applied, and an idempotent replay. */
export const PREFERENCE_APPLIED_HEADER = 'preference-applied';
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

/** Longest `Idempotency-Key` accepted, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface ServiceInfo {
  name: string;
  version: string;
  target: string;
  endpoints: Array<{ method: string; path: string; description: string }>;
}

/** Error codes of the proxy's own answers (not of tasks), each with its HTTP status. */
export const ERROR_CODES = {
  bad_request: 400,
  invalid_task_id: 400,
  invalid_query: 400,
  unauthorized: 401,
  task_not_found: 404,
  no_result: 404,
  not_found: 404,
  task_finished: 409,
  task_not_finished: 409,
  request_timeout: 408,
  payload_too_large: 413,
  idempotency_key_reused: 422,
  callback_not_allowed: 400,
  expectation_failed: 417,
  queue_full: 503,
  tenant_queue_full: 503,
  shutting_down: 503,
  store_unavailable: 503,
  internal_error: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  success: false;
  error: ErrorCode;
  message: string;
}

export interface DataBody<T> {
  success: true;
  data: T;
}

/** Longest `GET /task/:id?wait=` the server honours, in seconds. */
export const MAX_WAIT_SECONDS = 60;
