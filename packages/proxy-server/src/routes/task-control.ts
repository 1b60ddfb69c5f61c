import type { FastifyInstance } from 'fastify';
import {
  type DataBody,
  SUBMIT_HEADERS,
  SubmitBodySchema,
  type Task,
  TaskBodySchema,
  TaskParamsSchema,
} from 'proxy-client/wire';
import { ProxyHttpError } from '../errors.js';
import { cancelDoc, retryDoc } from '../openapi/route-docs.js';
import { errorResponses, named } from '../schemas/route-schemas.js';
import { answerSubmission } from './submit-answer.js';
import { preferencesOf } from './submit-headers.js';
import { inItsTurn } from './turn-to-answer.js';

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
      schema: {
        operationId: 'cancelTask',
        summary: 'Cancel a task',
        description:
          'A pending task leaves the queue; a processing one has its upstream call aborted. Both end cancelled.',
        tags: ['tasks'],
        params: TaskParamsSchema,
        response: { 200: named(TaskBodySchema), ...errorResponses },
      },
      config: { swaggerTransform: cancelDoc },
      preHandler: inItsTurn,
    },
    async (request): Promise<DataBody<Task>> => {
      const id = request.params.id.toLowerCase();
      const answer = await app.proxy.control.cancel(id, request.id);
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
        operationId: 'retryTask',
        summary: "Run a finished task's request again, as a new task",
        description:
          'The new task has retry_of set to this one, and this one retried_as to the new one. Answered like a submission.',
        tags: ['tasks'],
        params: TaskParamsSchema,
        response: {
          200: named(TaskBodySchema),
          202: named(SubmitBodySchema),
          ...errorResponses,
        },
      },
      config: { swaggerTransform: retryDoc },
      preHandler: inItsTurn,
    },
    async (request, reply) => {
      const id = request.params.id.toLowerCase();
      const answer = await app.proxy.control.retry(id, request.ip, request.id);
      if (!answer.ok && answer.reason === 'not_found') throw notFound(id);
      if (!answer.ok && answer.reason === 'not_finished') {
        throw new ProxyHttpError(
          'task_not_finished',
          `Task ${id} is ${answer.task.status}; only a finished task can be run again`,
        );
      }
      return answerSubmission(
        app,
        reply,
        answer,
        preferencesOf(request.headers[SUBMIT_HEADERS.prefer], app.proxy.config.maxWaitSeconds),
      );
    },
  );
}
