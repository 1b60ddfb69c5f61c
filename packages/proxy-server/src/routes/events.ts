import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  EventsQuerySchema,
  isTerminalStatus,
  LAST_EVENT_ID_HEADER,
  type Task,
  TaskParamsSchema,
  type TaskStatus,
  type TaskSummary,
} from 'proxy-client/wire';
import type { TransitionEvent } from '../engine/task-backend.js';
import { ProxyHttpError, sentSeveralTimes } from '../errors.js';
import { sseFrame } from '../events/event-stream.js';
import { eventStreamDoc } from '../openapi/route-docs.js';
import { errorResponses } from '../schemas/route-schemas.js';

/**
 * The id of a task stream's last message (the finished task). A reconnect with it as
 * `Last-Event-ID` has everything and gets 204 No Content, which ends an EventSource for good.
 */
export const FINAL_EVENT_ID = 'end';

/** Events were missed: read the tasks afresh. */
const RESET_FRAME = sseFrame({ event: 'reset', data: {} });

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
  // Every /events stream sends the same message for an event: built once, not once per stream
  // (300 streams made each submission cost about ten times more), and at once, so a stream that
  // keeps up writes it straight away and one that does not holds the same string.
  const frames = new WeakMap<TransitionEvent, string>();
  const frameOf = (event: TransitionEvent): string => {
    let frame = frames.get(event);
    if (frame === undefined) {
      const data = proxy.tasks.summaryToWireNow(event.task);
      frame = sseFrame({ id: event.id, event: event.type, data });
      frames.set(event, frame);
    }
    return frame;
  };

  app.get<TaskEventsRoute>(
    '/task/:id/events',
    {
      schema: {
        operationId: 'watchTask',
        summary: "One task's status changes, as Server-Sent Events",
        description:
          'The task as it is (`event: task`), then one message per status change, the last carrying the finished task with its result; then the stream ends. With Last-Event-ID it resumes after that event.',
        tags: ['events'],
        params: TaskParamsSchema,
        response: errorResponses,
      },
      config: { swaggerTransform: eventStreamDoc("The task's messages until it finishes", true) },
    },
    async (request, reply) => {
      const after = lastEventIdOf(request);
      const id = request.params.id.toLowerCase();
      if (!(await proxy.backend.get(id)))
        throw new ProxyHttpError('task_not_found', `No task ${id} (it may have been cleaned up)`);
      // The client has the last message; 204 is how SSE tells EventSource not to reconnect.
      if (after === FINAL_EVENT_ID) return reply.code(204).send();
      const stream = open(reply);
      let last: TaskStatus | null = null;
      // Non-final messages are the task as the event left it, so they keep the order of the
      // changes; the final one is read afresh, to carry the result, and has the id that ends it.
      const send = (eventId: string | undefined, task: Task | TaskSummary) => {
        if (task.status === last) return;
        last = task.status;
        const final = isTerminalStatus(task.status);
        stream.send({ id: final ? FINAL_EVENT_ID : eventId, event: 'task', data: task });
        if (final) stream.end();
      };
      const sendCurrent = async (eventId: string | undefined) => {
        const task = await proxy.tasks.get(id);
        if (task) send(eventId, task);
      };
      // A task gone under its stream (Redis back without its data) sends no event: the stream
      // ends, and the client's reconnect is answered 404, where it would hear heartbeats forever.
      const gone = new AbortController();
      stream.onClose(() => gone.abort());
      proxy.backend.waitForFinish(id, gone.signal).then(
        (task) => {
          if (task === undefined) stream.finish();
        },
        () => {},
      );
      const onEvent = (event: TransitionEvent) => {
        if (event.task.id !== id) return;
        stream.queue(async () => {
          if (isTerminalStatus(event.task.status)) await sendCurrent(event.id);
          else send(event.id, await proxy.tasks.summaryToWire(event.task));
        });
      };
      if (after !== undefined) {
        const subscription = proxy.backend.subscribe(
          (event) => {
            if (event.type !== 'removed') onEvent(event);
          },
          { after },
        );
        stream.onClose(() => subscription.close());
        if (subscription.complete) {
          // Nothing missed; but a task that finished before that event sends nothing more, so
          // its end is said now (a client that has it already is answered 204 above).
          stream.queue(async () => {
            const task = await proxy.tasks.get(id);
            if (task && isTerminalStatus(task.status)) send(undefined, task);
          });
          return;
        }
      } else {
        stream.onClose(proxy.events.watchTask(id, onEvent));
      }
      // Queued before any event could be: the task as it is comes first, and an event about a
      // state already sent is skipped.
      stream.queue(() => sendCurrent(undefined));
    },
  );

  app.get<EventsRoute>(
    '/events',
    {
      schema: {
        operationId: 'watchEvents',
        summary: "Every task's transitions, as Server-Sent Events",
        description:
          '`event:` is the transition (created, started, retrying, finished, requeued), `data:` the task without its result body. With Last-Event-ID it resumes after that event; `event: reset` says some were missed: read /tasks afresh.',
        tags: ['events'],
        querystring: EventsQuerySchema,
        response: errorResponses,
      },
      config: {
        swaggerTransform: eventStreamDoc(
          'Transitions, as they happen, until the client leaves',
          false,
        ),
      },
    },
    async (request, reply) => {
      const statuses = statusFilterOf(request.query.status);
      const after = lastEventIdOf(request);
      const stream = open(reply);
      // Its messages estimate a queued task's start by the calls in flight as last read.
      proxy.tasks.readInFlight();
      // Messages leave in the order of their events, each once the client has read most of
      // what came before (a replay after Last-Event-ID may be thousands).
      const onEvent = (event: TransitionEvent) => {
        if (statuses && !statuses.has(event.task.status)) return;
        stream.queueFrame(frameOf(event));
      };
      const onMissed = () => stream.queueFrame(RESET_FRAME);
      if (after !== undefined) {
        const subscription = proxy.backend.subscribe(
          (event) => {
            if (event.type !== 'removed') onEvent(event);
          },
          { after, onMissed },
        );
        stream.onClose(() => subscription.close());
        if (!subscription.complete) onMissed();
      } else {
        stream.onClose(proxy.events.watchAll(onEvent, onMissed));
      }
    },
  );
}

/**
 * The id to resume after, or undefined to start live. Two header lines would pass for an unknown
 * id and get a reset; so the lines are counted, and several are refused as on a submission.
 */
function lastEventIdOf(request: FastifyRequest): string | undefined {
  const lines = request.raw.headersDistinct[LAST_EVENT_ID_HEADER];
  if (lines !== undefined && lines.length > 1) {
    throw sentSeveralTimes('Last-Event-ID');
  }
  const value = lines?.[0]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** `?status=completed,failed`: the statuses a dashboard wants, or null for all. */
function statusFilterOf(query: string | undefined): Set<string> | null {
  if (query === undefined || query.trim() === '') return null;
  return new Set(query.split(',').map((status) => status.trim()));
}
