import { asTask } from '../answers.js';
import { type FailedRequest, invalidResponseError } from '../errors/error-from-response.js';
import type { TaskSummary } from '../wire.js';
import { type FollowSettings, followEventStream, type OpenStream } from './follow-event-stream.js';
import type { SseMessage } from './read-event-stream.js';
import { isTaskEventType, type TaskEvent } from './task-event.js';

/**
 * Every task's transitions from `GET /events`, resumed across dropped connections. A `reset`
 * comes when events may have been missed: the proxy says so, or a connection dropped before any
 * event id arrived to resume from. Events of a type this SDK does not know are skipped.
 */
export async function* watchAllEvents(
  open: OpenStream,
  settings: FollowSettings,
  request: FailedRequest,
): AsyncGenerator<TaskEvent, void, undefined> {
  for await (const item of followEventStream(open, settings)) {
    if (item.kind === 'reconnected') {
      if (!item.resumed) yield { type: 'reset' };
      continue;
    }
    const { message } = item;
    if (message.event === 'reset') {
      yield { type: 'reset' };
      continue;
    }
    if (!isTaskEventType(message.event)) continue;
    const task = taskOf(message, request) as TaskSummary;
    yield { type: message.event, id: message.id, task };
  }
}

/** The task a message carries, checked like any answer of the proxy. */
export function taskOf(message: SseMessage, request: FailedRequest) {
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch (error) {
    throw invalidResponseError(request, `an '${message.event}' event that is not JSON`, error);
  }
  return asTask(data, request);
}
