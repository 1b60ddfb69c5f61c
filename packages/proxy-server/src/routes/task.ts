import type { FastifyInstance } from 'fastify';
import {
  type DataBody,
  isTerminalStatus,
  type Task,
  TaskBodySchema,
  TaskParamsSchema,
  TaskQuerySchema,
} from 'proxy-client/wire';
import { ProxyHttpError } from '../errors.js';
import { taskDoc } from '../openapi/route-docs.js';
import { errorResponses, named } from '../schemas/route-schemas.js';
import { clientGone } from './client-gone.js';
import { nameMaxWait } from './wait-max-header.js';

interface TaskRoute {
  Params: { id: string };
  Querystring: { wait?: number };
}

/**
 * `GET /task/:id[?wait=N]`: one task; with `wait`, held until it finishes or N seconds pass (at
 * most `--max-wait`, which the answer names so that a client asks for no more).
 */
export async function taskRoutes(app: FastifyInstance): Promise<void> {
  app.get<TaskRoute>(
    '/task/:id',
    {
      schema: {
        operationId: 'getTask',
        summary: 'One task',
        description:
          "Its status, times, queue position and, once finished, the target's answer. ?wait=N holds the answer until the task finishes or N seconds pass.",
        tags: ['tasks'],
        params: TaskParamsSchema,
        querystring: TaskQuerySchema,
        response: { 200: named(TaskBodySchema), ...errorResponses },
      },
      config: { swaggerTransform: taskDoc },
      onSend: async (_request, reply) => nameMaxWait(app, reply),
    },
    async (request, reply): Promise<DataBody<Task>> => {
      const { tasks } = app.proxy;
      const id = request.params.id.toLowerCase();
      const waitMs = Math.min(request.query.wait ?? 0, app.proxy.config.maxWaitSeconds) * 1000;
      let task = await tasks.get(id);
      if (task && waitMs > 0 && !isTerminalStatus(task.status)) {
        task = await tasks.waitForFinish(id, waitMs, clientGone(reply.raw));
      }
      if (!task) {
        throw new ProxyHttpError('task_not_found', `No task ${id} (it may have been cleaned up)`);
      }
      const retryAfter = tasks.retryAfterS(task);
      if (retryAfter !== null) reply.header('retry-after', String(retryAfter));
      return { success: true, data: task };
    },
  );
}
