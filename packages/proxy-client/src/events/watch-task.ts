import type { FailedRequest } from '../errors/error-from-response.js';
import { ProxyError } from '../errors/proxy-error.js';
import type { OpenListener } from '../options.js';
import { adaptivePollDelay, withJitter } from '../polling/schedule.js';
import { sleep } from '../polling/sleep.js';
import { taskAgeMs } from '../polling/wait-until-finished.js';
import { isTaskStatus, isTerminalStatus, type Task, type TaskStatus } from '../wire.js';
import { followEventStream, type OpenStream } from './follow-event-stream.js';
import { taskOf } from './watch-events.js';

/** Thrown by an `OpenStream` when the server has no event stream there (an older proxy). */
export class NoEventStream extends Error {
  override name = 'NoEventStream';
}

export interface TaskWatchSource {
  /** Opens `GET /task/:id/events`; throws `NoEventStream` when the server has none. */
  open: OpenStream;
  /** Reads the task once (`GET /task/:id`), for servers without event streams. */
  read: (signal: AbortSignal | undefined) => Promise<Task>;
  request: FailedRequest;
}

/**
 * The task as it is, then again on each status change, ending with the finished task (result
 * included). From the task's event stream, resumed across dropped connections; from the adaptive
 * polling schedule against a server without one. A status repeated (a reconnect re-sends the
 * current state) is not yielded twice.
 */
export async function* watchOneTask(
  taskId: string,
  source: TaskWatchSource,
  { signal, onOpen }: { signal: AbortSignal | undefined; onOpen: OpenListener | undefined },
): AsyncGenerator<Task, void, undefined> {
  const seen: { status: TaskStatus | undefined } = { status: undefined };
  const settings = { signal, lastEventId: undefined, onOpen };
  try {
    for await (const item of followEventStream(source.open, settings)) {
      if (item.kind !== 'message' || item.message.event !== 'task') continue;
      const task = taskOf(item.message, source.request);
      if (!isNew(taskId, task, seen)) continue;
      yield task;
      if (isTerminalStatus(task.status)) return;
    }
  } catch (error) {
    if (!(error instanceof NoEventStream)) throw error;
  }
  yield* pollOneTask(taskId, source, signal, seen);
}

async function* pollOneTask(
  taskId: string,
  source: TaskWatchSource,
  signal: AbortSignal | undefined,
  seen: { status: TaskStatus | undefined },
): AsyncGenerator<Task, void, undefined> {
  const startedAt = performance.now();
  let ageAtStartMs: number | undefined;
  for (let attempt = 0; ; attempt++) {
    const task = await source.read(signal);
    if (isNew(taskId, task, seen)) yield task;
    if (isTerminalStatus(task.status)) return;
    ageAtStartMs ??= taskAgeMs(task);
    const ageMs = ageAtStartMs + (performance.now() - startedAt);
    await sleep(withJitter(adaptivePollDelay(ageMs, attempt)), signal);
  }
}

/** Whether `task` shows a status not yielded yet; an unknown status ends the watch. */
function isNew(taskId: string, task: Task, seen: { status: TaskStatus | undefined }): boolean {
  if (!isTaskStatus(task.status)) {
    throw new ProxyError(
      'unknown_status',
      `Task ${taskId} has status ${JSON.stringify(task.status)}, which this version of ` +
        'proxy-client does not know; stopped watching rather than wait for an end it cannot tell',
    );
  }
  if (task.status === seen.status) return false;
  seen.status = task.status;
  return true;
}
