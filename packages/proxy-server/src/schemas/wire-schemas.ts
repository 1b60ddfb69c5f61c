import {
  ERROR_CODES,
  MAX_WAIT_SECONDS,
  PRIORITIES,
  STORE_KINDS,
  TASK_ERROR_CODES,
  TASK_STATUSES,
} from 'proxy-client/wire';

/**
 * JSON schemas of the wire contract (`proxy-client/wire`), for request validation and for
 * fast-json-stringify on every response. `result.body` and header maps are free-form. Every
 * number in a query has a finite minimum and maximum: that is what refuses `Infinity` (see the
 * Ajv options in server.ts).
 */
const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const success = { type: 'boolean' } as const;

export const errorBodySchema = {
  type: 'object',
  required: ['success', 'error', 'message'],
  properties: {
    success,
    error: { type: 'string', enum: Object.keys(ERROR_CODES) },
    message: string,
  },
} as const;

/** Every route answers its errors with the envelope. */
export const errorResponses = { '4xx': errorBodySchema, '5xx': errorBodySchema } as const;

const status = { type: 'string', enum: [...TASK_STATUSES] } as const;
const bodyEncoding = { type: 'string', enum: ['json', 'text', 'base64'] } as const;

const resultSummaryProperties = {
  status_code: { type: 'integer' },
  headers: { type: 'object', additionalProperties: true },
  body_encoding: bodyEncoding,
  body_bytes: { type: 'integer' },
} as const;

const taskFields = (result: object) =>
  ({
    type: 'object',
    required: [
      'task_id',
      'status',
      'method',
      'path',
      'created_at',
      'started_at',
      'completed_at',
      'is_long_task',
      'result',
      'error',
      'queue_position',
      'estimated_start_at',
      'queue_ms',
      'duration_ms',
      'attempts',
      'retry_of',
      'retried_as',
      'priority',
      'tenant',
      'deadline_at',
      'next_attempt_at',
      'max_attempts',
      'attempt_history',
      'callback',
    ],
    properties: {
      task_id: string,
      status,
      method: string,
      path: string,
      created_at: string,
      started_at: nullableString,
      completed_at: nullableString,
      is_long_task: { type: 'boolean' },
      result,
      error: {
        type: ['object', 'null'],
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: Object.keys(TASK_ERROR_CODES) },
          message: string,
        },
      },
      queue_position: { type: ['integer', 'null'] },
      estimated_start_at: nullableString,
      queue_ms: { type: 'number' },
      duration_ms: { type: ['number', 'null'] },
      attempts: { type: 'integer' },
      retry_of: nullableString,
      retried_as: nullableString,
      priority: { type: 'string', enum: [...PRIORITIES] },
      tenant: nullableString,
      deadline_at: nullableString,
      next_attempt_at: nullableString,
      max_attempts: { type: 'integer' },
      attempt_history: {
        type: 'array',
        items: {
          type: 'object',
          required: [
            'attempt',
            'started_at',
            'finished_at',
            'outcome',
            'status_code',
            'error_code',
            'retry_at',
          ],
          properties: {
            attempt: { type: 'integer' },
            started_at: string,
            finished_at: string,
            outcome: status,
            status_code: { type: ['integer', 'null'] },
            error_code: { type: ['string', 'null'] },
            retry_at: nullableString,
          },
        },
      },
      callback: {
        type: ['object', 'null'],
        required: ['url', 'state', 'deliveries', 'next_at'],
        properties: {
          url: string,
          state: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
          deliveries: {
            type: 'array',
            items: {
              type: 'object',
              required: ['attempt', 'at', 'ok', 'status_code', 'error'],
              properties: {
                attempt: { type: 'integer' },
                at: string,
                ok: { type: 'boolean' },
                status_code: { type: ['integer', 'null'] },
                error: nullableString,
              },
            },
          },
          next_at: nullableString,
        },
      },
    },
  }) as const;

const taskSchema = taskFields({
  type: ['object', 'null'],
  required: ['status_code', 'headers', 'body', 'body_encoding', 'body_bytes'],
  properties: { ...resultSummaryProperties, body: {} },
});

/** A task in a list: its result without the body. */
const taskSummarySchema = taskFields({
  type: ['object', 'null'],
  required: ['status_code', 'headers', 'body_encoding', 'body_bytes'],
  properties: resultSummaryProperties,
});

const dataBody = <T extends object>(data: T) =>
  ({
    type: 'object',
    required: ['success', 'data'],
    properties: { success, data },
  }) as const;

export const taskBodySchema = dataBody(taskSchema);

export const taskListBodySchema = dataBody({
  type: 'object',
  required: ['tasks', 'total', 'limit', 'offset'],
  properties: {
    tasks: { type: 'array', items: taskSummarySchema },
    total: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
  },
});

export const cleanupBodySchema = dataBody({
  type: 'object',
  required: ['removed'],
  properties: { removed: { type: 'integer' } },
});

export const submitBodySchema = {
  type: 'object',
  required: ['success', 'task_id', 'status', 'message', 'data'],
  properties: {
    success,
    task_id: string,
    status,
    message: string,
    data: {
      type: 'object',
      required: ['task_id', 'status_url'],
      properties: { task_id: string, status_url: string },
    },
  },
} as const;

const count = { type: 'integer' } as const;
const storeKind = { type: 'string', enum: [...STORE_KINDS] } as const;

export const statsBodySchema = dataBody({
  type: 'object',
  required: [
    'tasks',
    'queue_size',
    'max_queue_size',
    'max_concurrent',
    'num_workers',
    'effective_concurrency',
    'in_flight',
    'long_tasks',
    'avg_processing_ms',
    'totals',
    'store',
    'delivery',
    'uptime_s',
    'started_at',
    'target',
    'version',
  ],
  properties: {
    tasks: {
      type: 'object',
      required: [...TASK_STATUSES, 'total'],
      properties: {
        ...Object.fromEntries(TASK_STATUSES.map((name) => [name, count])),
        total: count,
      },
    },
    queue_size: count,
    max_queue_size: count,
    max_concurrent: count,
    num_workers: count,
    effective_concurrency: count,
    in_flight: count,
    long_tasks: count,
    avg_processing_ms: { type: ['number', 'null'] },
    totals: {
      type: 'object',
      required: [
        'submitted',
        'completed',
        'failed',
        'cancelled',
        'expired',
        'rejected_queue_full',
        'removed',
      ],
      properties: {
        submitted: count,
        completed: count,
        failed: count,
        cancelled: count,
        expired: count,
        rejected_queue_full: count,
        removed: count,
      },
    },
    store: storeKind,
    delivery: {
      type: 'object',
      required: ['retrying', 'retries', 'shed', 'rate_limit', 'tenants', 'callbacks'],
      properties: {
        retrying: count,
        retries: count,
        shed: count,
        rate_limit: {
          type: ['object', 'null'],
          required: ['max_rps', 'burst'],
          properties: { max_rps: { type: 'number' }, burst: count },
        },
        tenants: {
          type: 'array',
          items: {
            type: 'object',
            required: ['tenant', 'queued', 'in_flight'],
            properties: { tenant: string, queued: count, in_flight: count },
          },
        },
        callbacks: {
          type: 'object',
          required: ['delivered', 'failed'],
          properties: { delivered: count, failed: count },
        },
      },
    },
    uptime_s: { type: 'number' },
    started_at: string,
    target: string,
    version: string,
  },
});

export const healthBodySchema = {
  type: 'object',
  required: ['success', 'status', 'target', 'store'],
  properties: {
    success,
    status: { type: 'string', enum: ['ok', 'degraded', 'shutting_down'] },
    store: {
      type: 'object',
      required: ['kind', 'available', 'message'],
      properties: { kind: storeKind, available: { type: 'boolean' }, message: nullableString },
    },
    target: {
      type: 'object',
      required: ['url', 'reachable', 'latency_ms'],
      properties: {
        url: string,
        reachable: { type: 'boolean' },
        latency_ms: { type: ['number', 'null'] },
      },
    },
  },
} as const;

export const serviceInfoBodySchema = dataBody({
  type: 'object',
  required: ['name', 'version', 'target', 'endpoints'],
  properties: {
    name: string,
    version: string,
    target: string,
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        required: ['method', 'path', 'description'],
        properties: { method: string, path: string, description: string },
      },
    },
  },
});

const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const taskParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: UUID_PATTERN } },
} as const;

export const taskQuerySchema = {
  type: 'object',
  properties: { wait: { type: 'number', minimum: 0, maximum: MAX_WAIT_SECONDS } },
} as const;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
/**
 * Exact as an integer; a page past the end is empty, and no page costs more than walking the
 * tasks held, so a bigger offset needs no smaller bound.
 */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

export const listQuerySchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: [...TASK_STATUSES] },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
    offset: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 },
  },
} as const;

export const DEFAULT_CLEANUP_AGE_HOURS = 24;
/** A hundred years: older than any task a proxy can hold. */
export const MAX_CLEANUP_AGE_HOURS = 876_000;

export const cleanupQuerySchema = {
  type: 'object',
  properties: {
    max_age_hours: {
      type: 'number',
      minimum: 0,
      maximum: MAX_CLEANUP_AGE_HOURS,
      default: DEFAULT_CLEANUP_AGE_HOURS,
    },
  },
} as const;

/** `?status=a,b`: a comma-separated list of task statuses. */
export const eventsQuerySchema = {
  type: 'object',
  properties: {
    status: {
      type: 'string',
      maxLength: 200,
      pattern: `^(${TASK_STATUSES.join('|')})(,(${TASK_STATUSES.join('|')}))*$`,
    },
  },
} as const;
