import type { FastifyInstance } from 'fastify';
import type { DataBody, Task } from 'proxy-client/wire';
import { ProxyHttpError } from '../errors.js';
import {
  errorResponses,
  submitBodySchema,
  taskBodySchema,
  taskParamsSchema,
} from '../schemas/wire-schemas.js';
import { answerSubmission } from './submit-answer.js';
import { preferencesOf } from './submit-headers.js';

interface TaskRoute {
  Params: { id: string };
}

const notFound = (id: string) =>
  new ProxyHttpError('task_not_found', `No task ${id} (it may have been cleaned up)`);

/** `DELETE /task/:id` (cancel) and `POST /task/:id/retry` (run a finished task again). */
export async function taskControlRoutes(app: FastifyInstance): Promise<void> {
  app.delete<TaskRoute>(
    '/task/:id',
    {
      schema: { params: taskParamsSchema, response: { 200: taskBodySchema, ...errorResponses } },
    },
    async (request): Promise<DataBody<Task>> => {
      const id = request.params.id.toLowerCase();
      const answer = await app.proxy.control.cancel(id);
      if (answer.ok) return { success: true, data: answer.task };
      if (answer.reason === 'not_found') throw notFound(id);
      throw new ProxyHttpError(
        'task_finished',
        `Task ${id} has already finished (${answer.task.status}); there is nothing to cancel`,
      );
    },
  );

  app.post<TaskRoute>(
    '/task/:id/retry',
    {
      schema: {
        params: taskParamsSchema,
        response: { 200: taskBodySchema, 202: submitBodySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const id = request.params.id.toLowerCase();
      const answer = await app.proxy.control.retry(id);
      if (!answer.ok && answer.reason === 'not_found') throw notFound(id);
      if (!answer.ok && answer.reason === 'not_finished') {
        throw new ProxyHttpError(
          'task_not_finished',
          `Task ${id} is ${answer.task.status}; only a finished task can be run again`,
        );
      }
      return answerSubmission(app, reply, answer, preferencesOf(request.headers.prefer));
    },
  );
}
