import type { FastifyInstance, FastifyReply } from 'fastify';
import { type DataBody, isTerminalStatus, MAX_WAIT_SECONDS, type Task } from 'proxy-client/wire';
import { ProxyHttpError } from '../errors.js';
import {
  errorResponses,
  taskBodySchema,
  taskParamsSchema,
  taskQuerySchema,
} from '../schemas/wire-schemas.js';
import type { StoredTask, TaskStore } from '../tasks/task-store.js';
import { toWireTask } from '../tasks/wire-task.js';

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
      const { store } = app.proxy;
      const id = request.params.id.toLowerCase();
      let task = await store.get(id);
      if (!task)
        throw new ProxyHttpError('task_not_found', `No task ${id} (it may have been cleaned up)`);
      const waitMs = (request.query.wait ?? 0) * 1000;
      if (waitMs > 0 && !isTerminalStatus(task.status)) {
        task = (await waitForFinish(store, id, waitMs, reply)) ?? (await store.get(id)) ?? task;
      }
      const context = app.proxy.wireContext();
      const wire = toWireTask(task, context);
      const retryAfter = app.proxy.pendingRetryAfterS(wire, context.now);
      if (retryAfter !== null) reply.header('retry-after', String(retryAfter));
      return { success: true, data: wire };
    },
  );
}

/**
 * Resolves with the finished task, or undefined after `waitMs` or when the client goes away.
 * Subscribes before looking again, so a finish in between is never missed.
 */
function waitForFinish(
  store: TaskStore,
  id: string,
  waitMs: number,
  reply: FastifyReply,
): Promise<StoredTask | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (task: StoredTask | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      reply.raw.off('close', onClose);
      resolve(task);
    };
    const onClose = () => settle(undefined);
    const unsubscribe = store.onFinished(id, settle);
    const timer = setTimeout(() => settle(undefined), waitMs);
    reply.raw.once('close', onClose);
    store.get(id).then(
      (task) => {
        if (!task || isTerminalStatus(task.status)) settle(task);
      },
      () => settle(undefined),
    );
  });
}
