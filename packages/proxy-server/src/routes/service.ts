import type { FastifyInstance } from 'fastify';
import {
  type DataBody,
  type HealthBody,
  HealthBodySchema,
  type ServiceInfo,
  ServiceInfoBodySchema,
  type Stats,
  StatsBodySchema,
} from 'proxy-client/wire';
import { answers } from '../openapi/route-docs.js';
import { errorResponses, named } from '../schemas/route-schemas.js';
import { VERSION } from '../version.js';

const ENDPOINTS: ServiceInfo['endpoints'] = [
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

/** The endpoints as a caller reaches them: behind a gateway's path prefix, under it. */
function underPrefix(prefix: string): ServiceInfo['endpoints'] {
  if (prefix === '') return ENDPOINTS;
  return ENDPOINTS.map((endpoint) => ({ ...endpoint, path: `${prefix}${endpoint.path}` }));
}

/** `GET /`, `GET /stats` and `GET /health`: what the proxy is and how it is doing. */
export async function serviceRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/',
    {
      schema: {
        operationId: 'getServiceInfo',
        summary: 'What the proxy is: version, target, endpoints',
        tags: ['service'],
        response: { 200: named(ServiceInfoBodySchema), ...errorResponses },
      },
      config: { swaggerTransform: answers('The service, its version, its target and its routes') },
    },
    async (request): Promise<DataBody<ServiceInfo>> => ({
      success: true,
      data: {
        name: 'proxy-server',
        version: VERSION,
        target: app.proxy.config.target.url,
        endpoints: underPrefix(request.publicPrefix),
      },
    }),
  );

  app.get(
    '/stats',
    {
      schema: {
        operationId: 'getStats',
        summary: 'Counts, queue, concurrency, timings',
        description:
          'Tasks held by status, the queue and its limit, the concurrency, calls in flight, long tasks, the mean processing time and what this process did since it started. Costs the same with ten tasks as with a million.',
        tags: ['service'],
        response: { 200: named(StatsBodySchema), ...errorResponses },
      },
      config: { swaggerTransform: answers('The figures') },
    },
    async (): Promise<DataBody<Stats>> => ({ success: true, data: await app.proxy.stats.read() }),
  );

  app.get(
    '/health',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Whether the proxy serves, the target answers and the store works',
        description:
          'Open without the API key. 200 while the proxy serves, whatever the target does.',
        tags: ['service'],
        security: [],
        response: { 200: named(HealthBodySchema), ...errorResponses },
      },
      config: { swaggerTransform: answers('ok, degraded or shutting_down, and why') },
    },
    async (): Promise<HealthBody> => app.proxy.health.check(),
  );
}
