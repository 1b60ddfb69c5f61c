import {
  CleanupSchema,
  ErrorBodySchema,
  HealthBodySchema,
  ServiceInfoSchema,
  StatsSchema,
  SubmitBodySchema,
  TaskAttemptSchema,
  TaskListSchema,
  TaskSchema,
  TaskSummarySchema,
  type TSchema,
} from 'proxy-client/wire';

/**
 * The wire shapes the OpenAPI document names (`components.schemas`), under the names the SDK
 * gives their types, so that a generated client has them as types of their own rather than the
 * same shape spelt out inline at every use. Nullable shapes (a task's result, its callback) stay
 * inline: a reference to them would take an `anyOf` with null, which the serialiser checks value
 * by value.
 */
const NAMED = new Map<object, string>([
  [TaskSchema, 'Task'],
  [TaskSummarySchema, 'TaskSummary'],
  [TaskAttemptSchema, 'TaskAttempt'],
  [TaskListSchema, 'TaskList'],
  [SubmitBodySchema, 'SubmitBody'],
  [ErrorBodySchema, 'ErrorBody'],
  [StatsSchema, 'Stats'],
  [HealthBodySchema, 'HealthBody'],
  [ServiceInfoSchema, 'ServiceInfo'],
  [CleanupSchema, 'Cleanup'],
]);

/**
 * `schema` with every named shape in it (itself included) as a reference to the shared schema of
 * that name. The wire schemas compose by holding the very objects they are made of, so a shape is
 * found by identity. Fastify's serialiser resolves the references when it compiles a route, so the
 * answers are the same as with the shapes inline.
 */
export function named(schema: TSchema): TSchema {
  return withReferences(schema, undefined) as TSchema;
}

function withReferences(value: unknown, self: object | undefined): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const name = value === self ? undefined : NAMED.get(value);
  if (name !== undefined) return { $ref: `${name}#` };
  if (Array.isArray(value)) return value.map((item) => withReferences(item, self));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, withReferences(item, self)]),
  );
}

/** The named shapes, for `app.addSchema`: each with its name as `$id`, the others referenced. */
export const sharedSchemas: { $id: string }[] = [...NAMED].map(([schema, name]) => ({
  $id: name,
  ...(withReferences(schema, schema) as object),
}));

/**
 * What the routes add to the wire contract's schemas (`proxy-client/wire`, the one place bodies,
 * queries and headers are defined): every route answers its errors with the envelope.
 */
export const errorResponses = { '4xx': named(ErrorBodySchema), '5xx': named(ErrorBodySchema) };
