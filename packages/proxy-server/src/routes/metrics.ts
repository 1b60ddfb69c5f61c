import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../schemas/route-schemas.js';

/**
 * `GET /metrics`: Prometheus' text format (see src/metrics/). It needs the API key like every
 * route unless `--public-metrics` says otherwise (plugins/auth.ts).
 */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const { metrics } = app.proxy;
  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description:
          "Counters and histograms of this instance (label `instance`), the store's figures read at scrape time (label `store`), and the process's default metrics, in Prometheus' text format.",
        tags: ['operations'],
        ...(app.proxy.config.publicMetrics && { security: [] }),
        response: {
          200: {
            description: 'Prometheus text exposition format 0.0.4',
            content: { [metrics.contentType]: { schema: { type: 'string' } } },
          },
          ...errorResponses,
        },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.scrape()),
  );
}
