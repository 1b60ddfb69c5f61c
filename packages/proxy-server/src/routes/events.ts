import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isTerminalStatus, type Task, type TaskStatus, type TaskSummary } from 'proxy-client/wire';
import type { TransitionEvent } from '../engine/task-backend.js';
import { ProxyHttpError } from '../errors.js';
import { errorResponses, eventsQuerySchema, taskParamsSchema } from '../schemas/wire-schemas.js';

interface TaskEventsRoute {
  Params: { id: string };
}

interface EventsRoute {
  Querystring: { status?: string };
}

/**
 * Server-Sent Events. `GET /task/:id/events`: the task as it is, then once per status change,
 * ending with the finished task (result included). `GET /events[?status=a,b]`: every task's
 * transitions. Both resume after `Last-Event-ID` within the window of events the backend keeps;
 * beyond it `/events` sends `reset` (read the list afresh) and a task stream starts over.
 */
export async function eventRoutes(app: FastifyInstance): Promise<void> {
  const { proxy } = app;
  const open = (reply: Parameters<typeof proxy.openEventStream>[0]) => proxy.openEventStream(reply);

  app.get<TaskEventsRoute>(
    '/task/:id/events',
    { schema: { params: taskParamsSchema, response: errorResponses } },
    async (request, reply) => {
      const id = request.params.id.toLowerCase();
      if (!(await proxy.backend.get(id)))
        throw new ProxyHttpError('task_not_found', `No task ${id} (it may have been cleaned up)`);
      const stream = open(reply);
      let last: TaskStatus | null = null;
      // Non-final messages are the task as the event left it, so they keep the order of the
      // changes; the final one is read afresh, to carry the result.
      const send = (eventId: string | undefined, task: Task | TaskSummary) => {
        if (stream.closed || task.status === last) return;
        last = task.status;
        stream.send({ id: eventId, event: 'task', data: task });
        if (isTerminalStatus(task.status)) stream.end();
      };
      const sendCurrent = async (eventId: string | undefined) => {
        const task = await proxy.tasks.get(id);
        if (task) send(eventId, task);
      };
      let pending = Promise.resolve();
      const onEvent = (event: TransitionEvent) => {
        if (event.task.id !== id) return;
        pending = pending
          .then(async () => {
            if (isTerminalStatus(event.task.status)) await sendCurrent(event.id);
            else send(event.id, await proxy.tasks.summaryToWire(event.task));
          })
          .catch(() => stream.close());
      };
      const after = lastEventIdOf(request);
      if (after !== undefined) {
        const subscription = proxy.backend.subscribe(
          (event) => {
            if (event.type !== 'removed') onEvent(event);
          },
          { after },
        );
        stream.onClose(() => subscription.close());
        if (subscription.complete) return;
      } else {
        stream.onClose(proxy.events.watchTask(id, onEvent));
      }
      // In the same chain as the events, registered before any could arrive: the task as it
      // is comes first, and an event about a state already sent is skipped.
      pending = pending.then(() => sendCurrent(undefined)).catch(() => stream.close());
      await pending;
    },
  );

  app.get<EventsRoute>(
    '/events',
    { schema: { querystring: eventsQuerySchema, response: errorResponses } },
    async (request, reply) => {
      const statuses = statusFilterOf(request.query.status);
      const stream = open(reply);
      // One chain per stream: building a message may wait (an estimate), and messages must
      // leave in the order of their events.
      let pending = Promise.resolve();
      const onEvent = (event: TransitionEvent) => {
        if (statuses && !statuses.has(event.task.status)) return;
        pending = pending
          .then(async () => {
            const task = await proxy.tasks.summaryToWire(event.task);
            stream.send({ id: event.id, event: event.type, data: task });
          })
          .catch(() => stream.close());
      };
      const after = lastEventIdOf(request);
      if (after !== undefined) {
        const subscription = proxy.backend.subscribe(
          (event) => {
            if (event.type !== 'removed') onEvent(event);
          },
          { after },
        );
        stream.onClose(() => subscription.close());
        if (!subscription.complete) stream.send({ event: 'reset', data: {} });
      } else {
        stream.onClose(proxy.events.watchAll(onEvent));
      }
    },
  );
}

function lastEventIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id'];
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** `?status=completed,failed`: the statuses a dashboard wants, or null for all. */
function statusFilterOf(query: string | undefined): Set<string> | null {
  if (query === undefined || query.trim() === '') return null;
  return new Set(query.split(',').map((status) => status.trim()));
}
