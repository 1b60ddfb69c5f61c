import type { FastifyInstance } from 'fastify';
import {
  type DataBody,
  type HealthBody,
  HealthBodySchema,
  SERVICE_ENDPOINTS,
  type ServiceInfo,
  ServiceInfoBodySchema,
  type Stats,
  StatsBodySchema,
} from 'proxy-client/wire';
import { answers } from '../openapi/route-docs.js';
import { errorResponses, named } from '../schemas/route-schemas.js';
import { VERSION } from '../version.js';

/** The endpoints as a caller reaches them: behind a gateway's path prefix, under it. */
function underPrefix(prefix: string): ServiceInfo['endpoints'] {
  if (prefix === '') return [...SERVICE_ENDPOINTS];
  return SERVICE_ENDPOINTS.map((endpoint) => ({ ...endpoint, path: `${prefix}${endpoint.path}` }));
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
