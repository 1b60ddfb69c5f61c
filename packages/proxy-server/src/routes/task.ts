import type { FastifyInstance } from 'fastify';
import { type DataBody, isTerminalStatus, MAX_WAIT_SECONDS, type Task } from 'proxy-client/wire';
import { ProxyHttpError } from '../errors.js';
import {
  errorResponses,
  taskBodySchema,
  taskParamsSchema,
  taskQuerySchema,
} from '../schemas/wire-schemas.js';
import { clientGone } from './client-gone.js';

interface TaskRoute {
  Params: { id: string };
  Querystring: { wait?: number };
}

/** Tells clients that `?wait=` is supported and its ceiling; on every answer of this route. */
const WAIT_MAX_HEADER = 'x-proxy-wait-max';

/** `GET /task/:id[?wait=N]`: one task; with `wait`, held until it finishes or N seconds pass. */
export async function taskRoutes(app: FastifyInstance): Promise<void> {
  app.get<TaskRoute>(
    '/task/:id',
    {
      schema: {
        params: taskParamsSchema,
        querystring: taskQuerySchema,
        response: { 200: taskBodySchema, ...errorResponses },
      },
      onSend: async (_request, reply) => {
        reply.header(WAIT_MAX_HEADER, String(MAX_WAIT_SECONDS));
      },
    },
    async (request, reply): Promise<DataBody<Task>> => {
      const { tasks } = app.proxy;
      const id = request.params.id.toLowerCase();
      const waitMs = (request.query.wait ?? 0) * 1000;
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
