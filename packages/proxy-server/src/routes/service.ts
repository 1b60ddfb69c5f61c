import type { FastifyInstance } from 'fastify';
import type { DataBody, HealthBody, ServiceInfo, Stats } from 'proxy-client/wire';
import {
  errorResponses,
  healthBodySchema,
  serviceInfoBodySchema,
  statsBodySchema,
} from '../schemas/wire-schemas.js';
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
  { method: 'GET', path: '/health', description: 'liveness and whether the target answers' },
];

/** `GET /`, `GET /stats` and `GET /health`: what the proxy is and how it is doing. */
export async function serviceRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/',
    { schema: { response: { 200: serviceInfoBodySchema, ...errorResponses } } },
    async (): Promise<DataBody<ServiceInfo>> => ({
      success: true,
      data: {
        name: 'proxy-server',
        version: VERSION,
        target: app.proxy.config.target.url,
        endpoints: ENDPOINTS,
      },
    }),
  );

  app.get(
    '/stats',
    { schema: { response: { 200: statsBodySchema, ...errorResponses } } },
    async (): Promise<DataBody<Stats>> => ({ success: true, data: await app.proxy.stats.read() }),
  );

  app.get(
    '/health',
    { schema: { response: { 200: healthBodySchema, ...errorResponses } } },
    async (): Promise<HealthBody> => app.proxy.health.check(),
  );
}
