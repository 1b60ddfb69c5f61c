import Fastify from 'fastify';
import {
  BODY_ENCODINGS,
  CALLBACK_STATES,
  CleanupBodySchema,
  type DataBodySchema,
  ERROR_CODES,
  type ErrorBody,
  ErrorBodySchema,
  type HealthBody,
  HealthBodySchema,
  PRIORITIES,
  type ServiceInfo,
  ServiceInfoBodySchema,
  STORE_KINDS,
  type Static,
  type Stats,
  StatsBodySchema,
  type SubmitBody,
  SubmitBodySchema,
  TASK_ERROR_CODES,
  TASK_STATUSES,
  type Task,
  TaskBodySchema,
  type TaskList,
  TaskListBodySchema,
  type TaskSummary,
  TERMINAL_STATUSES,
  type TSchema,
} from 'proxy-client/wire';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { named, sharedSchemas } from '../src/schemas/route-schemas.js';

// The wire types are derived from the schemas, and the routes serialise with those schemas; what
// could still go wrong is a schema that does not say what its type says (a hand-shaped helper, a
// nullable written as an anyOf the serialiser guesses at) or an example that leaves a field out.
// So: one fully populated example of every body, serialised by Fastify (fast-json-stringify) with
// the route's schema, must come back equal, field for field; and every field a schema names must
// be present, and not null, in at least one example.

type Full<T> = { [K in keyof T]-?: T[K] };

const ID = '0b7a6a2e-1d6c-4f3e-9b0a-2f4c8d9e1a7b';
const ID2 = '5d1e8c3f-7a2b-4c9d-8e1f-3a4b5c6d7e8f';

const result = {
  status_code: 502,
  headers: { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] },
  body: { nested: [1, 'two', null, { three: true }] },
  body_encoding: 'json',
  body_bytes: 42,
} as const satisfies Full<NonNullable<Task['result']>>;

const task = {
  task_id: ID,
  status: 'failed',
  method: 'POST',
  path: '/api/report?year=2026',
  created_at: '2026-01-02T03:04:05.000Z',
  started_at: '2026-01-02T03:04:06.000Z',
  completed_at: '2026-01-02T03:04:07.500Z',
  is_long_task: true,
  result,
  error: { code: 'upstream_status', message: 'The target answered 502' },
  queue_position: 3,
  estimated_start_at: '2026-01-02T03:05:00.000Z',
  queue_ms: 1000.5,
  duration_ms: 1500.25,
  attempts: 2,
  retry_of: ID2,
  retried_as: ID2,
  priority: 'high',
  tenant: 'team-a',
  deadline_at: '2026-01-02T03:14:05.000Z',
  next_attempt_at: '2026-01-02T03:04:08.000Z',
  max_attempts: 3,
  attempt_history: [
    {
      attempt: 1,
      started_at: '2026-01-02T03:04:05.500Z',
      finished_at: '2026-01-02T03:04:05.900Z',
      outcome: 'failed',
      status_code: 503,
      error_code: 'upstream_status',
      retry_at: '2026-01-02T03:04:06.000Z',
    },
  ],
  callback: {
    url: 'https://hooks.example.com/done',
    state: 'pending',
    deliveries: [
      { attempt: 1, at: '2026-01-02T03:04:08.000Z', ok: false, status_code: 500, error: 'refused' },
    ],
    next_at: '2026-01-02T03:04:09.000Z',
  },
} satisfies Full<Task>;

const { body: _body, ...resultSummary } = result;
const summary = { ...task, result: resultSummary } satisfies Full<TaskSummary>;

const stats = {
  tasks: {
    pending: 1,
    processing: 2,
    completed: 3,
    failed: 4,
    cancelled: 5,
    expired: 6,
    total: 21,
  },
  queue_size: 1,
  max_queue_size: 100,
  max_concurrent: 10,
  num_workers: 5,
  effective_concurrency: 5,
  in_flight: 2,
  long_tasks: 1,
  avg_processing_ms: 12.5,
  totals: {
    submitted: 30,
    completed: 3,
    failed: 4,
    cancelled: 5,
    expired: 6,
    rejected_queue_full: 7,
    removed: 8,
  },
  store: 'sqlite',
  delivery: {
    retrying: 1,
    retries: 2,
    shed: 3,
    rate_limit: { max_rps: 2.5, burst: 5 },
    tenants: [{ tenant: 'team-a', queued: 4, in_flight: 1 }],
    rejected_tenant_queue_full: 2,
    callbacks: { delivered: 6, failed: 1, pending: 3 },
  },
  uptime_s: 12.345,
  started_at: '2026-01-02T03:04:05.000Z',
  target: 'http://localhost:8000',
  version: '0.1.0',
  instance: 'proxy-a:8080',
} satisfies Full<Stats>;

const health = {
  success: true,
  status: 'degraded',
  target: { url: 'http://localhost:8000', reachable: true, latency_ms: 1.5, message: null },
  store: { kind: 'sqlite', available: false, message: 'disk full' },
} satisfies Full<HealthBody>;

const serviceInfo = {
  name: 'proxy-server',
  version: '0.1.0',
  target: 'http://localhost:8000',
  endpoints: [{ method: 'GET', path: '/', description: 'this description' }],
} satisfies Full<ServiceInfo>;

const submit = {
  success: true,
  task_id: ID,
  status: 'pending',
  message: 'Task created',
  data: { task_id: ID, status_url: `/task/${ID}` },
} satisfies Full<SubmitBody>;

const taskList = { tasks: [summary], total: 1, limit: 50, offset: 0 } satisfies Full<TaskList>;

const error = {
  success: false,
  error: 'queue_full',
  message: 'The queue is full',
} satisfies Full<ErrorBody>;

/** Each answer body with the schema its route serialises it with, and its examples. */
const BODIES: Array<{ name: string; schema: TSchema; examples: unknown[] }> = [
  {
    name: 'TaskBody',
    schema: TaskBodySchema,
    examples: [
      { success: true, data: task },
      // The same task with every nullable field null, and a text and a base64 result.
      {
        success: true,
        data: {
          ...task,
          status: 'pending',
          started_at: null,
          completed_at: null,
          result: null,
          error: null,
          queue_position: null,
          estimated_start_at: null,
          duration_ms: null,
          retry_of: null,
          retried_as: null,
          tenant: null,
          deadline_at: null,
          next_attempt_at: null,
          attempt_history: [
            {
              ...task.attempt_history[0],
              status_code: null,
              error_code: null,
              retry_at: null,
            },
          ],
          callback: {
            ...task.callback,
            deliveries: [{ ...task.callback.deliveries[0], status_code: null, error: null }],
            next_at: null,
          },
        },
      },
      { success: true, data: { ...task, callback: null } },
      {
        success: true,
        data: { ...task, result: { ...result, body: 'plain', body_encoding: 'text' } },
      },
      {
        success: true,
        data: { ...task, result: { ...result, body: 'AAEC/w==', body_encoding: 'base64' } },
      },
    ],
  },
  {
    name: 'TaskListBody',
    schema: TaskListBodySchema,
    examples: [{ success: true, data: taskList }],
  },
  {
    name: 'StatsBody',
    schema: StatsBodySchema,
    examples: [
      { success: true, data: stats },
      {
        success: true,
        data: {
          ...stats,
          avg_processing_ms: null,
          delivery: { ...stats.delivery, rate_limit: null },
        },
      },
    ],
  },
  {
    name: 'HealthBody',
    schema: HealthBodySchema,
    examples: [
      health,
      {
        ...health,
        target: {
          ...health.target,
          reachable: false,
          latency_ms: null,
          message: 'The target refused the connection (connect ECONNREFUSED 127.0.0.1:8000)',
        },
      },
    ],
  },
  {
    name: 'ServiceInfoBody',
    schema: ServiceInfoBodySchema,
    examples: [{ success: true, data: serviceInfo }],
  },
  { name: 'SubmitBody', schema: SubmitBodySchema, examples: [submit] },
  {
    name: 'CleanupBody',
    schema: CleanupBodySchema,
    examples: [{ success: true, data: { removed: 4 } }],
  },
  { name: 'ErrorBody', schema: ErrorBodySchema, examples: [error] },
];

/** Serialises `body` the way a route with `schema` as its 200 answer does, and parses it back. */
async function roundTrip(schema: TSchema, body: unknown): Promise<unknown> {
  const app = Fastify();
  app.get('/', { schema: { response: { 200: schema } } }, async () => body);
  try {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  } finally {
    await app.close();
  }
}

/**
 * The answer a route sends with `schema` as its 200, as it is written: the named shapes of
 * `shared` are added first, as the server adds them, for a schema that references them.
 */
async function sent(schema: TSchema, body: unknown, shared: object[] = []): Promise<string> {
  const app = Fastify();
  for (const named of shared) app.addSchema(named);
  app.get('/', { schema: { response: { 200: schema } } }, async () => body);
  try {
    return (await app.inject({ method: 'GET', url: '/' })).body;
  } finally {
    await app.close();
  }
}

/** Checks `value` against `schema` with Fastify's own validator (Ajv, as for a request body). */
async function validate(schema: TSchema, value: unknown): Promise<string | null> {
  const app = Fastify();
  app.post('/', { schema: { body: schema } }, async () => ({ ok: true }));
  try {
    const response = await app.inject({ method: 'POST', url: '/', payload: value as object });
    return response.statusCode === 200 ? null : (response.json() as { message: string }).message;
  } finally {
    await app.close();
  }
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: unknown[];
  oneOf?: unknown[];
};

/** Every property path a schema names (`data.tasks[].result.status_code`), with its schema. */
function propertyPaths(schema: JsonSchema, prefix = ''): Array<[string, JsonSchema]> {
  const paths: Array<[string, JsonSchema]> = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    paths.push([path, property], ...propertyPaths(property, path));
  }
  if (schema.items) paths.push(...propertyPaths(schema.items, `${prefix}[]`));
  return paths;
}

/** The values at `path` in `value` (arrays fan out). */
function valuesAt(value: unknown, path: string): unknown[] {
  let values = [value];
  for (const step of path.split('.')) {
    const name = step.replace(/\[\]$/, '');
    values = values.flatMap((v) => {
      if (v === null || typeof v !== 'object' || !(name in v)) return [];
      const next = (v as Record<string, unknown>)[name];
      return step.endsWith('[]') && Array.isArray(next) ? next : [next];
    });
  }
  return values;
}

describe.each(BODIES)('$name', ({ schema, examples }) => {
  it('comes back from the route serialiser exactly as it went in', async () => {
    for (const example of examples) expect(await roundTrip(schema, example)).toEqual(example);
  });

  it('is written the same with its named shapes referenced, as the routes answer with it', async () => {
    for (const example of examples) {
      // A field the schema lacks, at the top and in the data, is dropped the same way.
      const { data } = example as { data?: unknown };
      const body = {
        ...(example as object),
        unknown_field: 1,
        ...(typeof data === 'object' && data !== null && { data: { ...data, unknown_field: 1 } }),
      };
      const answer = await sent(named(schema), body, sharedSchemas);
      expect(answer).toBe(await sent(schema, body));
      expect(answer).not.toContain('unknown_field');
    }
  });

  it('examples are valid by the schema', async () => {
    for (const example of examples) expect(await validate(schema, example)).toBeNull();
  });

  it('examples name every field of the schema, each non-null in at least one', () => {
    const missing = propertyPaths(schema as JsonSchema)
      .filter(
        ([path]) => !examples.some((example) => valuesAt(example, path).some((v) => v != null)),
      )
      .map(([path]) => path);
    expect(missing).toEqual([]);
  });

  it('uses no anyOf/oneOf, which the serialiser resolves by validating every value', () => {
    expect(JSON.stringify(schema)).not.toMatch(/"(anyOf|oneOf)"/);
  });
});

describe('enums come from the tables', () => {
  const field = (schema: TSchema, path: string) =>
    Object.fromEntries(propertyPaths(schema as JsonSchema))[path];

  it.each([
    [TaskBodySchema, 'data.status', TASK_STATUSES],
    [TaskListBodySchema, 'data.tasks[].status', TASK_STATUSES],
    [SubmitBodySchema, 'status', TASK_STATUSES],
    [TaskBodySchema, 'data.result.body_encoding', BODY_ENCODINGS],
    [TaskListBodySchema, 'data.tasks[].result.body_encoding', BODY_ENCODINGS],
    [TaskBodySchema, 'data.error.code', Object.keys(TASK_ERROR_CODES)],
    [ErrorBodySchema, 'error', Object.keys(ERROR_CODES)],
    [StatsBodySchema, 'data.store', STORE_KINDS],
    [HealthBodySchema, 'store.kind', STORE_KINDS],
    [TaskBodySchema, 'data.priority', PRIORITIES],
    [TaskListBodySchema, 'data.tasks[].priority', PRIORITIES],
    [TaskBodySchema, 'data.attempt_history[].outcome', TERMINAL_STATUSES],
    [TaskBodySchema, 'data.callback.state', CALLBACK_STATES],
  ] as const)('%#: %s', (schema, path, table) => {
    expect(field(schema, path)?.enum).toEqual([...table]);
  });

  it('refuses a value outside the table', async () => {
    expect(await validate(ErrorBodySchema, { ...error, error: 'nope' })).toMatch(/error/);
    expect(
      await validate(TaskBodySchema, { success: true, data: { ...task, status: 'paused' } }),
    ).toMatch(/status/);
    expect(
      await validate(TaskBodySchema, {
        success: true,
        data: { ...task, error: { code: 'nope', message: '' } },
      }),
    ).toMatch(/code/);
    expect(
      await validate(TaskBodySchema, {
        success: true,
        data: { ...task, result: { ...result, body_encoding: 'hex' } },
      }),
    ).toMatch(/body_encoding/);
  });

  it('counts every status in stats', () => {
    expect(Object.keys(field(StatsBodySchema, 'data.tasks')?.properties ?? {})).toEqual([
      ...TASK_STATUSES,
      'total',
    ]);
  });
});

describe('types derived from the schemas', () => {
  it('are the types the SDK and the server use', () => {
    expectTypeOf<Static<typeof TaskBodySchema>>().toEqualTypeOf<{ success: true; data: Task }>();
    expectTypeOf<Task['status']>().toEqualTypeOf<(typeof TASK_STATUSES)[number]>();
    expectTypeOf<NonNullable<Task['error']>['code']>().toEqualTypeOf<
      keyof typeof TASK_ERROR_CODES
    >();
    expectTypeOf<ErrorBody['error']>().toEqualTypeOf<keyof typeof ERROR_CODES>();
    expectTypeOf<Task['started_at']>().toEqualTypeOf<string | null>();
    expectTypeOf<NonNullable<Task['result']>['headers']>().toEqualTypeOf<
      Record<string, string | string[]>
    >();
    expectTypeOf<
      Static<ReturnType<typeof DataBodySchema<typeof TaskBodySchema>>>['success']
    >().toEqualTypeOf<true>();
  });
});
