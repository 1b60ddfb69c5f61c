import type { FastifyInstance } from 'fastify';
import {
  CleanupBodySchema,
  CleanupQuerySchema,
  type DataBody,
  ListQuerySchema,
  type TaskList,
  TaskListBodySchema,
  type TaskStatus,
} from 'proxy-client/wire';
import { answers } from '../openapi/route-docs.js';
import { errorResponses, named } from '../schemas/route-schemas.js';
import { onlyKnownQuery } from './only-known-query.js';
import { inItsTurn } from './turn-to-answer.js';

interface ListRoute {
  Querystring: { status?: TaskStatus; limit: number; offset: number };
}

interface CleanupRoute {
  Querystring: { max_age_hours: number };
}

const HOUR_MS = 3_600_000;

/** `GET /tasks` (paginated, newest first, by status) and `DELETE /tasks/cleanup`. */
export async function tasksRoutes(app: FastifyInstance): Promise<void> {
  app.get<ListRoute>(
    '/tasks',
    {
      schema: {
        operationId: 'listTasks',
        summary: 'Tasks, newest first',
        description:
          'Each with its result but not the result body (body_bytes says its size). Filtered by status, newest by the time the task entered it.',
        tags: ['tasks'],
        querystring: ListQuerySchema,
        response: { 200: named(TaskListBodySchema), ...errorResponses },
      },
      config: { swaggerTransform: answers('A page of tasks, and how many match in all') },
    },
    async (request): Promise<DataBody<TaskList>> => {
      const { status, limit, offset } = request.query;
      const page = await app.proxy.tasks.list({ status, limit, offset });
      return { success: true, data: { tasks: page.tasks, total: page.total, limit, offset } };
    },
  );

  app.delete<CleanupRoute>(
    '/tasks/cleanup',
    {
      schema: {
        operationId: 'cleanupTasks',
        summary: 'Remove finished tasks older than max_age_hours',
        tags: ['tasks'],
        querystring: CleanupQuerySchema,
        response: { 200: named(CleanupBodySchema), ...errorResponses },
      },
      config: { swaggerTransform: answers('How many finished tasks were removed') },
      preValidation: onlyKnownQuery(
        'DELETE /tasks/cleanup',
        CleanupQuerySchema,
        'it removes every finished task older than that, whatever its status',
      ),
      preHandler: inItsTurn,
    },
    async (request): Promise<DataBody<{ removed: number }>> => {
      const removed = await app.proxy.housekeeping.removeFinishedOlderThan(
        request.query.max_age_hours * HOUR_MS,
        request.id,
      );
      return { success: true, data: { removed } };
    },
  );
}
