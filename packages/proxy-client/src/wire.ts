/**
 * The wire contract between proxy-server, proxy-client and proxy-cli, defined once: every JSON
 * body the proxy sends (snake_case field names), every header name it reads or writes, every
 * default and bound of a query. Each body is a TypeBox schema; its TypeScript type is derived
 * from it (`Static<>`), and the server's routes use the very same schemas to validate requests,
 * to serialise answers (fast-json-stringify, which drops any field a schema lacks) and to write
 * the OpenAPI document. So the types, the answers and the docs cannot disagree.
 *
 * Free of ky and of anything Node-only: the server imports it as `proxy-client/wire`, and it runs
 * in browsers. Its one dependency, TypeBox, only builds plain JSON Schema objects.
 *
 * Adding a field: add it to the schema (`Type.Optional(...)` if old servers may leave it out,
 * `Nullable(...)` if it may be null), then to the fully populated examples of
 * `packages/proxy-server/test/wire-contract.test.ts`, which type-checking asks for.
 */
import * as Type from 'typebox';

/** Any schema of this contract. */
export type TSchema = Type.TSchema;
/** The TypeScript type a schema describes. */
export type Static<T extends TSchema> = Type.Static<T>;

// ---------------------------------------------------------------------------------------------
// Schema helpers. They shape schemas the way fast-json-stringify serialises fastest: a nullable
// value is `type: [t, 'null']` and a string enum is `type: 'string', enum: [...]`, never `anyOf`,
// which would make the serialiser validate each value against every branch.
// ---------------------------------------------------------------------------------------------

type Described = { description?: string };

/** A string that is one of `values`, typed as their union. */
export function StringEnum<const V extends readonly string[]>(
  values: V,
  options: Described = {},
): Type.TUnsafe<V[number]> & { type: 'string' } {
  return Type.Unsafe<V[number]>({ ...options, type: 'string', enum: [...values] }) as Type.TUnsafe<
    V[number]
  > & { type: 'string' };
}

/** `schema`, or null. */
export function Nullable<T extends Type.TSchema & { type: string }>(
  schema: T,
  options: Described = {},
): Type.TUnsafe<Type.Static<T> | null> {
  const nullable: { [keyword: string]: unknown } = { ...options, type: [schema.type, 'null'] };
  for (const [keyword, value] of Object.entries(schema)) nullable[keyword] ??= value;
  if (Array.isArray(nullable.enum)) nullable.enum = [...nullable.enum, null];
  return Type.Unsafe<Type.Static<T> | null>(nullable);
}

/**
 * Header names to a value, or to the values of a repeated header. `array` comes first: the
 * serialiser tries the types in order, and would write an array as a string.
 */
const HeaderMap = (description: string) =>
  Type.Unsafe<Record<string, string | string[]>>({
    type: 'object',
    description,
    additionalProperties: { type: ['array', 'string'], items: { type: 'string' } },
  });

const Count = (description?: string) =>
  Type.Integer({ minimum: 0, ...(description === undefined ? {} : { description }) });
const IsoTime = (description: string) => Type.String({ format: 'date-time', description });
const Uuid = (description: string) => Type.String({ format: 'uuid', description });

// ---------------------------------------------------------------------------------------------
// Tables: statuses, encodings, error codes, stores.
// ---------------------------------------------------------------------------------------------

export const TASK_STATUSES = [
  'pending',
  'processing',
  'completed',
  'failed',
  'cancelled',
  'expired',
] as const;
export const TaskStatusSchema = StringEnum(TASK_STATUSES, {
  description:
    'pending (queued), processing (upstream call in flight), or a terminal status: completed ' +
    '(2xx), failed, cancelled (DELETE /task/:id), expired (not started before its deadline)',
});
export type TaskStatus = Static<typeof TaskStatusSchema>;

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
export const BODY_ENCODINGS = ['json', 'text', 'base64'] as const;
export const BodyEncodingSchema = StringEnum(BODY_ENCODINGS, {
  description: 'json: body is the parsed JSON; text: a string; base64: the raw bytes in base64',
});
export type BodyEncoding = Static<typeof BodyEncodingSchema>;

/** Why a task failed, when the reason is not just the target's status code. */
export const TASK_ERROR_CODES = {
  upstream_status: 'The target answered with a non-2xx status; its answer is in result',
  upstream_refused: 'The target refused the connection',
  upstream_reset: 'The connection to the target was reset or closed before the whole answer came',
  upstream_timeout: 'The configured upstream timeout ran out',
  upstream_unreachable: 'The target host could not be resolved or reached',
  upstream_error: 'The upstream call failed for another reason',
  result_too_large: "The target's answer was larger than the configured result size limit",
  interrupted: 'The proxy stopped (shut down or crashed) before the task could finish',
  expired: 'The task did not start before its deadline',
  shed: 'The queue was full and dropped this task for one of a higher priority',
} as const;
export const TaskErrorCodeSchema = StringEnum(
  Object.keys(TASK_ERROR_CODES) as (keyof typeof TASK_ERROR_CODES)[],
);
export type TaskErrorCode = keyof typeof TASK_ERROR_CODES;

/** Error codes of the proxy's own answers (not of tasks), each with its HTTP status. */
export const ERROR_CODES = {
  bad_request: 400,
  invalid_task_id: 400,
  invalid_query: 400,
  unauthorized: 401,
  task_not_found: 404,
  no_result: 404,
  not_found: 404,
  method_not_allowed: 405,
  task_finished: 409,
  task_not_finished: 409,
  request_timeout: 408,
  payload_too_large: 413,
  headers_too_large: 431,
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
export const ErrorCodeSchema = StringEnum(Object.keys(ERROR_CODES) as ErrorCode[]);

export const STORE_KINDS = ['memory', 'sqlite', 'redis'] as const;
export const StoreKindSchema = StringEnum(STORE_KINDS, {
  description: 'where tasks are kept: memory, sqlite (a file under the data dir) or redis',
});
export type StoreKind = Static<typeof StoreKindSchema>;

export const HEALTH_STATUSES = ['ok', 'degraded', 'shutting_down'] as const;

/** `X-Proxy-Priority`: served high first, FIFO within a level. */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export const PrioritySchema = StringEnum(PRIORITIES, {
  description: 'X-Proxy-Priority: served high first, FIFO within a level',
});
export type Priority = Static<typeof PrioritySchema>;

export const CALLBACK_STATES = ['pending', 'delivered', 'failed'] as const;

// ---------------------------------------------------------------------------------------------
// Tasks.
// ---------------------------------------------------------------------------------------------

const resultSummaryFields = {
  status_code: Type.Integer({ description: "the target's HTTP status code" }),
  headers: HeaderMap(
    'response headers as the target sent them (lower-case names; repeated headers as arrays)',
  ),
  body_encoding: BodyEncodingSchema,
  body_bytes: Count('size of the body as the target sent it, in bytes'),
};

/** The target's answer, kept whatever its status code. */
export const TaskResultSchema = Type.Object(
  {
    ...resultSummaryFields,
    body: Type.Unknown({
      description: 'the body: parsed JSON, a string, or base64, as body_encoding says',
    }),
  },
  { description: "the target's answer, kept whatever its status code" },
);
export type TaskResult = Static<typeof TaskResultSchema>;

/** A result as lists carry it: everything but the body, which `GET /task/:id` gives. */
export const TaskResultSummarySchema = Type.Object(resultSummaryFields, {
  description: "the target's answer without its body (GET /task/:id has the body)",
});
export type TaskResultSummary = Static<typeof TaskResultSummarySchema>;

/** One upstream call of a task. */
export const TaskAttemptSchema = Type.Object(
  {
    attempt: Type.Integer({ minimum: 1, description: '1 for the first call' }),
    started_at: IsoTime('when this call started'),
    finished_at: IsoTime('when it ended'),
    outcome: StringEnum(TERMINAL_STATUSES, {
      description: 'the status this call would have given the task',
    }),
    status_code: Nullable(
      Type.Integer({ description: "the target's status code, if it answered" }),
    ),
    error_code: Nullable(TaskErrorCodeSchema),
    retry_at: Nullable(
      IsoTime(
        'when the next attempt was due, when this one was retried; null for the last call, and for one a stop cut off (the task ran again once back in line)',
      ),
    ),
  },
  { description: 'one finished upstream call of the task' },
);
export type TaskAttempt = Static<typeof TaskAttemptSchema>;

/** One POST of the finished task to its callback URL. */
export const CallbackDeliverySchema = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  at: IsoTime('when this delivery was made'),
  ok: Type.Boolean({ description: 'the callback URL answered 2xx' }),
  status_code: Nullable(Type.Integer()),
  error: Nullable(Type.String({ description: 'why no answer came (refused, timeout, ...)' })),
});
export type CallbackDelivery = Static<typeof CallbackDeliverySchema>;

/** The callback a caller asked for with `X-Proxy-Callback-Url`, and how it went. */
export const TaskCallbackSchema = Type.Object(
  {
    url: Type.String(),
    state: StringEnum(CALLBACK_STATES),
    deliveries: Type.Array(CallbackDeliverySchema),
    next_at: Nullable(IsoTime('when the next delivery is due, while pending')),
  },
  { description: 'the callback asked for with X-Proxy-Callback-Url, and how it went' },
);
export type TaskCallback = Static<typeof TaskCallbackSchema>;

export const TaskErrorSchema = Type.Object(
  { code: TaskErrorCodeSchema, message: Type.String() },
  { description: "why the task failed, when it is not just the target's status code" },
);
export type TaskError = Static<typeof TaskErrorSchema>;

/** Every field of a task but its result, which a list and a single read carry differently. */
const taskFields = {
  task_id: Uuid('the task id (a random v4 UUID)'),
  status: TaskStatusSchema,
  method: Type.String({ description: 'HTTP method as submitted' }),
  path: Type.String({
    description: 'path as submitted, query string included, e.g. /api/report?year=2026',
  }),
  created_at: IsoTime('when the task was admitted (ISO 8601, UTC)'),
  started_at: Nullable(IsoTime('when its latest upstream call started; null before')),
  completed_at: Nullable(IsoTime('when it finished; null before')),
  is_long_task: Type.Boolean({
    description: 'processing for longer than --long-task-threshold (nothing interrupts it)',
  }),
  error: Nullable(TaskErrorSchema),
  queue_position: Nullable(
    Type.Integer({
      minimum: 1,
      description: '1-based place in the queue while pending, else null',
    }),
  ),
  estimated_start_at: Nullable(IsoTime('when it is expected to start, while pending, else null')),
  queue_ms: Type.Number({
    minimum: 0,
    description:
      'milliseconds from submission to the start of the latest call (so far, while pending); earlier calls of a retried or requeued task count too',
  }),
  duration_ms: Nullable(
    Type.Number({
      minimum: 0,
      description: 'milliseconds of processing (so far, while processing); null while pending',
    }),
  ),
  attempts: Count('upstream calls made for this task'),
  retry_of: Nullable(Uuid('the task this one runs again (POST /task/:id/retry), else null')),
  retried_as: Nullable(Uuid('the latest task that runs this one again, else null')),
  priority: PrioritySchema,
  tenant: Nullable(
    Type.String({
      description: 'the tenant it counts for in fair sharing (--fair-key), else null',
    }),
  ),
  deadline_at: Nullable(
    IsoTime(
      'its first call must start by then or it ends expired (a retry may run past it); null for no deadline',
    ),
  ),
  next_attempt_at: Nullable(
    IsoTime('while pending after a failed attempt: when the next one is due, else null'),
  ),
  max_attempts: Type.Integer({
    minimum: 1,
    description: 'upstream calls at most, the first included',
  }),
  attempt_history: Type.Array(TaskAttemptSchema, {
    description: 'every finished upstream call, oldest first',
  }),
  callback: Nullable(TaskCallbackSchema),
};

export const TaskSchema = Type.Object({ ...taskFields, result: Nullable(TaskResultSchema) });
export type Task = Static<typeof TaskSchema>;

/** A task as lists carry it: the result without its body. */
export const TaskSummarySchema = Type.Object({
  ...taskFields,
  result: Nullable(TaskResultSummarySchema),
});
export type TaskSummary = Static<typeof TaskSummarySchema>;

export const TaskListSchema = Type.Object({
  tasks: Type.Array(TaskSummarySchema, { description: 'newest first' }),
  total: Count('tasks that match the filter, in all'),
  limit: Count(),
  offset: Count(),
});
export type TaskList = Static<typeof TaskListSchema>;

// ---------------------------------------------------------------------------------------------
// Stats and health.
// ---------------------------------------------------------------------------------------------

type CountFields = { [S in TaskStatus]: Type.TInteger } & { total: Type.TInteger };
const countFields = Object.fromEntries([
  ...TASK_STATUSES.map((status) => [status, Count()]),
  ['total', Count()],
]) as CountFields;

/** How many tasks of each status are held now, and all of them. */
export const TaskCountsSchema = Type.Object(countFields, {
  description: 'counts of the tasks held now, by status',
});
export type TaskCounts = Static<typeof TaskCountsSchema>;

export const DeliveryStatsSchema = Type.Object(
  {
    retrying: Count('tasks waiting now for their next attempt after a failed one'),
    retries: Count('retries scheduled since start'),
    shed: Count('tasks dropped from a full queue for higher-priority ones since start'),
    rate_limit: Nullable(
      Type.Object(
        { max_rps: Type.Number({ exclusiveMinimum: 0 }), burst: Count() },
        { description: 'calls to the target per second at most, and the burst' },
      ),
      { description: 'null without --max-rps' },
    ),
    tenants: Type.Array(
      Type.Object({ tenant: Type.String(), queued: Count(), in_flight: Count() }),
      { description: 'the tenants with the most queued tasks, busiest first (fair sharing)' },
    ),
    rejected_tenant_queue_full: Type.Optional(
      Count(
        'submissions refused with 503 tenant_queue_full (--tenant-max-queued) since start; ' +
          'absent from proxies older than it',
      ),
    ),
    callbacks: Type.Object(
      {
        delivered: Count('callbacks this process delivered since start'),
        failed: Count('callbacks this process gave up since start'),
        pending: Type.Optional(
          Count(
            'finished tasks held now whose callback is not settled yet: its first delivery ' +
              'due, or a retry after a failed one; absent from proxies older than it',
          ),
        ),
      },
      { description: 'callback deliveries' },
    ),
  },
  { description: 'what the delivery policy did' },
);
export type DeliveryStats = Static<typeof DeliveryStatsSchema>;

export const StatsSchema = Type.Object({
  tasks: TaskCountsSchema,
  queue_size: Count('tasks waiting in the queue'),
  max_queue_size: Count(),
  max_concurrent: Count(),
  num_workers: Count(),
  effective_concurrency: Count(
    'min(num_workers, max_concurrent): the most upstream calls that can really be in flight',
  ),
  in_flight: Count('upstream calls in flight'),
  long_tasks: Count('tasks processing for longer than the long-task threshold'),
  avg_processing_ms: Nullable(
    Type.Number({
      description:
        'mean processing time of the calls finished here and, on a durable or shared store, of the last 100 it had completed at start, in ms; null before the first',
    }),
  ),
  totals: Type.Object(
    {
      submitted: Count(),
      completed: Count(),
      failed: Count(),
      cancelled: Count(),
      expired: Count(),
      rejected_queue_full: Count(),
      removed: Count(),
    },
    { description: 'what this process did since it started, including tasks since removed' },
  ),
  store: StoreKindSchema,
  delivery: DeliveryStatsSchema,
  uptime_s: Type.Number({ minimum: 0 }),
  started_at: IsoTime('when this process started'),
  target: Type.String({ description: 'the target URL' }),
  version: Type.String(),
  instance: Type.String({
    description: 'the instance that answered: --metrics-instance, by default <hostname>:<port>',
  }),
});
export type Stats = Static<typeof StatsSchema>;

export const HealthBodySchema = Type.Object({
  success: Type.Literal(true),
  status: StringEnum(HEALTH_STATUSES, {
    description: 'ok when the target is reachable and the store works; degraded when either is not',
  }),
  target: Type.Object({
    url: Type.String(),
    reachable: Type.Boolean({
      description:
        'whether the target answered a HEAD of its base path within 2 s, or took the connection and is busy with calls in flight',
    }),
    latency_ms: Nullable(
      Type.Number({ description: 'how long its answer took; null without one' }),
    ),
    message: Type.Optional(
      Nullable(
        Type.String({
          description:
            'why the target is not reachable (refused, TLS, no connection, hung...), or that a busy one gave no answer; null when it answered',
        }),
      ),
    ),
  }),
  store: Type.Object(
    {
      kind: StoreKindSchema,
      available: Type.Boolean(),
      message: Nullable(Type.String({ description: 'why the store cannot be used; else null' })),
    },
    { description: 'the task store' },
  ),
});
export type HealthBody = Static<typeof HealthBodySchema>;

export const ServiceInfoSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  target: Type.String(),
  endpoints: Type.Array(
    Type.Object({ method: Type.String(), path: Type.String(), description: Type.String() }),
  ),
});
export type ServiceInfo = Static<typeof ServiceInfoSchema>;

/**
 * The proxy's endpoints as `GET /` lists them, each a route the server has: the one list of
 * them, which the CLI reads to tell a --url at one of them from the proxy's base URL.
 */
export const SERVICE_ENDPOINTS: readonly ServiceInfo['endpoints'][number][] = [
  { method: 'GET', path: '/', description: 'this description' },
  {
    method: 'ANY',
    path: '/api/*',
    description: 'submit: forwarded to the target later; 202 with a task id',
  },
  {
    method: 'GET',
    path: '/task/:id',
    description: 'one task; ?wait=N holds the answer up to N s until it finishes',
  },
  {
    method: 'GET',
    path: '/task/:id/result',
    description: "the target's answer replayed as sent; ?wait=N waits for it",
  },
  {
    method: 'GET',
    path: '/task/:id/events',
    description: 'Server-Sent Events: the task, then each status change until it finishes',
  },
  {
    method: 'DELETE',
    path: '/task/:id',
    description: 'cancel: a pending or processing task ends cancelled',
  },
  {
    method: 'POST',
    path: '/task/:id/retry',
    description: 'run a finished task again as a new task',
  },
  { method: 'GET', path: '/tasks', description: 'tasks, newest first; ?status=&limit=&offset=' },
  {
    method: 'GET',
    path: '/events',
    description: "Server-Sent Events of every task's transitions; ?status=",
  },
  {
    method: 'DELETE',
    path: '/tasks/cleanup',
    description: 'remove finished tasks older than ?max_age_hours= (24)',
  },
  { method: 'GET', path: '/stats', description: 'counts, queue, concurrency, timings' },
  { method: 'GET', path: '/health', description: 'liveness and whether the target is reachable' },
  { method: 'GET', path: '/metrics', description: 'Prometheus metrics (text format)' },
  { method: 'GET', path: '/openapi.json', description: 'the OpenAPI 3 document of this API' },
  {
    method: 'GET',
    path: '/docs',
    description: 'the API reference page, rendered from /openapi.json',
  },
  {
    method: 'GET',
    path: '/ui',
    description: 'the dashboard: live figures, tasks, cancel and retry',
  },
];

// ---------------------------------------------------------------------------------------------
// Envelopes: every answer has `success`.
// ---------------------------------------------------------------------------------------------

export const SubmitBodySchema = Type.Object({
  success: Type.Literal(true),
  task_id: Uuid('the new task (or, for a known Idempotency-Key, the existing one)'),
  status: TaskStatusSchema,
  message: Type.String(),
  data: Type.Object({ task_id: Uuid('the task id'), status_url: Type.String() }),
});
export type SubmitBody = Static<typeof SubmitBodySchema>;

export const ErrorBodySchema = Type.Object(
  {
    success: Type.Literal(false),
    error: ErrorCodeSchema,
    message: Type.String({ description: 'for people' }),
  },
  { description: 'every error answer of the proxy itself' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

export interface DataBody<T> {
  success: true;
  data: T;
}

/** The `{success: true, data}` envelope around `data`. */
export function DataBodySchema<T extends Type.TSchema>(data: T) {
  return Type.Object({ success: Type.Literal(true), data });
}

export const TaskBodySchema = DataBodySchema(TaskSchema);
export const TaskListBodySchema = DataBodySchema(TaskListSchema);
export const StatsBodySchema = DataBodySchema(StatsSchema);
export const ServiceInfoBodySchema = DataBodySchema(ServiceInfoSchema);
export const CleanupSchema = Type.Object({ removed: Count('finished tasks removed') });
export const CleanupBodySchema = DataBodySchema(CleanupSchema);

// ---------------------------------------------------------------------------------------------
// Requests: path parameters, queries (every number bounded on both sides), headers.
// ---------------------------------------------------------------------------------------------

const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const TaskParamsSchema = Type.Object({
  id: Type.String({ pattern: UUID_PATTERN, description: 'the task id' }),
});

/**
 * Longest `GET /task/:id?wait=` (and `Prefer: wait=`) a request may ask, in seconds; a server's
 * `--max-wait` may hold less.
 */
export const MAX_WAIT_SECONDS = 60;

export const TaskQuerySchema = Type.Object({
  wait: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: MAX_WAIT_SECONDS,
      description: `hold the answer up to this many seconds until the task finishes (at most ${MAX_WAIT_SECONDS}; a server started with a lower --max-wait holds that long at most, which GET /task/{id} names in x-proxy-wait-max)`,
    }),
  ),
});

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
/**
 * Exact as an integer; a page past the end is empty, and no page costs more than walking the
 * tasks held, so a bigger offset needs no smaller bound.
 */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

export const ListQuerySchema = Type.Object({
  status: Type.Optional(TaskStatusSchema),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
  ),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 })),
});

export const DEFAULT_CLEANUP_AGE_HOURS = 24;
/** A hundred years: older than any task a proxy can hold. */
export const MAX_CLEANUP_AGE_HOURS = 876_000;

export const CleanupQuerySchema = Type.Object({
  max_age_hours: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: MAX_CLEANUP_AGE_HOURS,
      default: DEFAULT_CLEANUP_AGE_HOURS,
      description: 'remove finished tasks that finished longer ago than this',
    }),
  ),
});

/** `?status=a,b`: a comma-separated list of task statuses. */
export const EventsQuerySchema = Type.Object({
  status: Type.Optional(
    Type.String({
      maxLength: 200,
      pattern: `^(${TASK_STATUSES.join('|')})(,(${TASK_STATUSES.join('|')}))*$`,
      description: 'only transitions into these statuses (comma-separated)',
    }),
  ),
});

/** The largest `--body-limit` a proxy-server takes: no larger request body can be submitted. */
export const MAX_BODY_LIMIT_BYTES = 256 * 1024 ** 2;

/** Longest `X-Proxy-Timeout` and `X-Proxy-Max-Queue-Time`, in seconds: a year. */
export const MAX_TASK_HEADER_SECONDS = 365 * 24 * 3600;

export { closestName, editDistance, flagGivenAsValue, flagsMeant } from './closest-name.js';
export { parseRetryAfterMs } from './retry-after.js';
export { endsUnderApi } from './url-under-api.js';

/**
 * Node's codes (OpenSSL's) for a TLS certificate signed by no CA the machine trusts, which may be
 * fine all the same: what `NODE_EXTRA_CA_CERTS` mends, as the server and the CLI both say.
 */
export const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/**
 * Whether `key` is one a proxy can have (its `--api-key`): printable ASCII, no space. The SDK and
 * the CLI refuse any other before sending it, as it could only be answered 401.
 */
export function isProxyApiKey(key: string): boolean {
  return /^[\x21-\x7e]+$/.test(key);
}

/**
 * Whether fetch (undici) can send this header value: tabs, printable ASCII and Latin-1. It throws
 * on a character past U+00FF, and fails the request on a control character as though the server
 * could not be reached.
 */
export function isSendableHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

/**
 * Why the proxy refuses `raw` as an `X-Proxy-Callback-Url` whatever its `--callback-allow` lists,
 * as a message naming the value `name` (the header, or the option a caller wrote); undefined when
 * only its origin is left to judge. The SDK and the CLI ask it before sending, so a URL the proxy
 * would answer `callback_not_allowed` fails where it was written, with the same reason.
 */
export function callbackUrlFault(name: string, raw: string): string | undefined {
  let url: URL;
  try {
    // Header values reach the proxy trimmed (fetch trims them too), so they are judged so.
    url = new URL(raw.trim());
  } catch {
    const got = raw.trim() === '' ? 'an empty value' : `'${raw}'`;
    return `${name} must be an absolute http:// or https:// URL, got ${got}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `${name} must be an http:// or https:// URL, got a ${url.protocol} one`;
  }
  // A fragment is never sent, but the task would keep it, show it and log it: a token written
  // there would leak. (`hash` is empty for a bare trailing `#`, which `href` keeps.)
  if (url.href.includes('#')) {
    return `${name} must not carry a #fragment: it is never sent to the receiver`;
  }
  if (url.username || url.password) {
    return `${name} must not carry credentials (user:password@): the signature is what proves the proxy sent it`;
  }
  return undefined;
}

/**
 * Submit request headers the proxy reads and never forwards to the target. The tenant header of
 * fair sharing is not here: `--fair-key header:NAME` names it.
 */
export const SUBMIT_HEADERS = {
  idempotencyKey: 'idempotency-key',
  prefer: 'prefer',
  priority: 'x-proxy-priority',
  maxAttempts: 'x-proxy-max-attempts',
  maxQueueTime: 'x-proxy-max-queue-time',
  timeout: 'x-proxy-timeout',
  callbackUrl: 'x-proxy-callback-url',
} as const;

/** Answer headers of a submission: which preference was applied, and an idempotent replay. */
export const PREFERENCE_APPLIED_HEADER = 'preference-applied';
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
/** On every `GET /task/:id` answer: the longest `?wait=` honoured, in seconds. */
export const WAIT_MAX_HEADER = 'x-proxy-wait-max';
/** On `GET /task/:id/result`: which task the replayed answer belongs to. */
export const TASK_ID_HEADER = 'x-proxy-task-id';
/** Event streams resume after the event id a client sends back in this header. */
export const LAST_EVENT_ID_HEADER = 'last-event-id';

/** Longest `Idempotency-Key` accepted, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * `Idempotency-Key` values the server takes: bare (not opening with `"`; HTTP strips spaces at
 * either end), or an RFC 8941 quoted string whose escapes `\"` and `\\` are one character of
 * the key each. The key's length is counted in the pattern, since a quoted value's is not its own.
 */
const IDEMPOTENCY_KEY_PATTERN = String.raw`^(?:[!#-~](?:[ -~]{0,${MAX_IDEMPOTENCY_KEY_LENGTH - 2}}[!-~])?|"(?:[ !#-\[\]-~]|\\["\\]){1,${MAX_IDEMPOTENCY_KEY_LENGTH}}")$`;
/** The longest value: the longest key quoted, every character of it escaped. */
const MAX_IDEMPOTENCY_KEY_VALUE_LENGTH = 2 * MAX_IDEMPOTENCY_KEY_LENGTH + 2;

/** A number of seconds as the task headers take it: digits, with decimals or not. */
const SECONDS_PATTERN = '^([0-9]+([.][0-9]*)?|[.][0-9]+)$';
const SECONDS_RANGE = `from 0.001 to ${MAX_TASK_HEADER_SECONDS} (a year)`;

/**
 * What the submit headers mean, for the OpenAPI document. The server reads them itself (its
 * own errors name the header), so no route validates against these; their patterns are what the
 * server checks of the form, not of the range (`0` matches, and is refused).
 */
export const SubmitHeadersSchema = Type.Object({
  [SUBMIT_HEADERS.idempotencyKey]: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: MAX_IDEMPOTENCY_KEY_VALUE_LENGTH,
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        `1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, bare or quoted (RFC 8941: ` +
        String.raw`\" and \\ escaped, each one character of the key): the same ` +
        'key with the same request answers the existing task; with another request, 422 ' +
        'idempotency_key_reused',
    }),
  ),
  [SUBMIT_HEADERS.prefer]: Type.Optional(
    Type.String({
      description:
        `wait=N (at most ${MAX_WAIT_SECONDS}, or the server's lower --max-wait): answer 200 ` +
        'with the finished task if it finishes within N s, else 202; respond-async. Preference-Applied says which was applied. ' +
        'Other preferences (return=representation...) are forwarded to the target',
    }),
  ),
  [SUBMIT_HEADERS.priority]: Type.Optional(PrioritySchema),
  [SUBMIT_HEADERS.maxAttempts]: Type.Optional(
    Type.String({
      pattern: '^[0-9]*[1-9][0-9]*$',
      description: 'upstream calls at most (≥ 1), never more than the server allows',
    }),
  ),
  [SUBMIT_HEADERS.maxQueueTime]: Type.Optional(
    Type.String({
      pattern: SECONDS_PATTERN,
      description:
        `seconds, ${SECONDS_RANGE}, the task may wait to start, else it ends expired; ` +
        "never longer than the server's --max-queue-time",
    }),
  ),
  [SUBMIT_HEADERS.timeout]: Type.Optional(
    Type.String({
      pattern: SECONDS_PATTERN,
      description: `seconds, ${SECONDS_RANGE}, each upstream call may take, never longer than the server's`,
    }),
  ),
  [SUBMIT_HEADERS.callbackUrl]: Type.Optional(
    Type.String({
      description:
        'POST the finished task here (signed): an absolute http(s) URL without credentials or ' +
        '#fragment, whose origin --callback-allow lists, else 400 callback_not_allowed',
    }),
  ),
});

export const EventStreamHeadersSchema = Type.Object({
  [LAST_EVENT_ID_HEADER]: Type.Optional(
    Type.String({
      description: 'resume after this event id (sent back by EventSource); once, else 400',
    }),
  ),
});

/**
 * A task's transitions: created, started (its call to the target began), retrying (a failed call
 * will be made again, after a backoff), finished (any end: completed, failed, cancelled,
 * expired), requeued (put back in the queue after an interrupted call), removed (cleanup or the
 * --max-tasks bound dropped finished tasks). Event streams carry all but `removed`, which is about
 * many tasks at once and names none.
 */
export const TASK_EVENT_TYPES = [
  'created',
  'started',
  'retrying',
  'finished',
  'requeued',
  'removed',
] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

/** The transitions event streams carry, one task each. */
export type StreamedTaskEventType = Exclude<TaskEventType, 'removed'>;
const STREAMED_TASK_EVENT_TYPES = TASK_EVENT_TYPES.filter(
  (type): type is StreamedTaskEventType => type !== 'removed',
);

/**
 * The `event:` names of `GET /events` (the transition) and `GET /task/:id/events` (`task`);
 * `reset` says events were missed: read the state afresh.
 */
export const STREAM_EVENTS = [...STREAMED_TASK_EVENT_TYPES, 'task', 'reset'] as const;
export type StreamEvent = StreamedTaskEventType | 'task' | 'reset';
