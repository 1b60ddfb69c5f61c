import type { Task, TaskStatus } from '../../src/wire.js';
import { makeTask, TASK_ID, taskReply } from './fixtures.js';
import type { createTestServer, ReplySpec, ScriptedRoute } from './test-server.js';

export interface SimulatedTaskOptions {
  /** Milliseconds from now until the task finishes. */
  durationMs: number;
  /** Milliseconds of that spent queued before processing starts. @default 0 */
  queuedMs?: number;
  /** How it finishes. @default 'completed' */
  outcome?: 'completed' | 'failed';
  /** Offer waiting reads (`x-proxy-wait-max`) holding up to this many seconds. */
  waitMaxSeconds?: number;
  /** `Retry-After` seconds on answers for an unfinished task. */
  retryAfterSeconds?: number;
}

export interface SimulatedTask {
  route: ScriptedRoute;
  /** `Date.now()` when the task finishes. */
  finishesAt: number;
}

/**
 * A proxy holding one task that runs on the (fake) clock: pending, then processing, then finished
 * after `durationMs`. With `waitMaxSeconds` it behaves like a server with waiting reads: a
 * `?wait=N` read is held until the task finishes or N seconds pass.
 */
export function simulateTask(
  server: ReturnType<typeof createTestServer>,
  options: SimulatedTaskOptions,
): SimulatedTask {
  const submittedAt = Date.now();
  const finishesAt = submittedAt + options.durationMs;
  const startsAt = submittedAt + (options.queuedMs ?? 0);
  const route = server.on('get', '/task/:id', async (call) => {
    const wait = Number(call.query.get('wait') ?? 0);
    if (options.waitMaxSeconds !== undefined && wait > 0) {
      const holdMs = Math.min(wait, options.waitMaxSeconds) * 1000;
      const untilFinished = finishesAt - Date.now();
      const ms = Math.min(holdMs, Math.max(0, untilFinished));
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    }
    return answer(taskAt(Date.now(), submittedAt, startsAt, finishesAt, options.outcome), options);
  });
  return { route, finishesAt };
}

function taskAt(
  now: number,
  submittedAt: number,
  startsAt: number,
  finishesAt: number,
  outcome: 'completed' | 'failed' = 'completed',
): Task {
  const status: TaskStatus =
    now >= finishesAt ? outcome : now >= startsAt ? 'processing' : 'pending';
  return makeTask({
    task_id: TASK_ID,
    status,
    queue_ms: Math.min(now, startsAt) - submittedAt,
    duration_ms: now >= startsAt ? Math.min(now, finishesAt) - startsAt : null,
  });
}

function answer(task: Task, options: SimulatedTaskOptions): ReplySpec {
  const headers: Record<string, string> = {};
  if (options.waitMaxSeconds !== undefined) {
    headers['x-proxy-wait-max'] = String(options.waitMaxSeconds);
  }
  const finished = task.status === 'completed' || task.status === 'failed';
  if (options.retryAfterSeconds !== undefined && !finished) {
    headers['retry-after'] = String(options.retryAfterSeconds);
  }
  return taskReply(task, headers);
}
