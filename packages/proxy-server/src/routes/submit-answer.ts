import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  type DataBody,
  IDEMPOTENT_REPLAYED_HEADER,
  isTerminalStatus,
  PREFERENCE_APPLIED_HEADER,
  type SubmitBody,
  type Task,
} from 'proxy-client/wire';
import { isStoreUnavailableError } from '../engine/store-unavailable.js';
import { sendError } from '../errors.js';
import type { SubmitResult } from '../proxy/admission.js';
import { originForm } from '../upstream/upstream-path.js';
import { clientGone } from './client-gone.js';
import { idempotencyConflictMessage, type KeyedRequest } from './idempotency-conflict.js';
import type { Preferences } from './submit-headers.js';
import { addVary } from './vary.js';
import { nameMaxWait } from './wait-max-header.js';

/** A stopping instance's hint: a restart, or the next instance behind a balancer, is seconds away. */
const SHUTTING_DOWN_RETRY_AFTER_S = '2';

/**
 * How a submission is answered (`ANY /api/*`, `POST /task/:id/retry`): 202 with the task id,
 * or, with `Prefer: wait=N` and a task that finishes in time, 200 with the finished task; the
 * refusals as error envelopes.
 */
export async function answerSubmission(
  app: FastifyInstance,
  reply: FastifyReply,
  submitted: SubmitResult,
  preferences: Preferences,
): Promise<FastifyReply> {
  if (!submitted.ok) {
    if (submitted.reason === 'shutting_down') {
      // A new connection finds the next instance (or this one, restarted); on this one the
      // client would keep meeting the instance that is going away.
      return sendError(reply, 'shutting_down', undefined, {
        'retry-after': SHUTTING_DOWN_RETRY_AFTER_S,
        connection: 'close',
      });
    }
    if (submitted.reason === 'idempotency_conflict') {
      return sendError(
        reply,
        'idempotency_key_reused',
        idempotencyConflictMessage(
          submitted.taskId,
          { method: reply.request.method, path: originForm(reply.request.originalUrl) },
          await keyedRequestOf(app, submitted.taskId),
        ),
      );
    }
    const retryAfter = String(submitted.retryAfterS);
    if (submitted.reason === 'tenant_queue_full') {
      return sendError(
        reply,
        'tenant_queue_full',
        `Your share of the queue is full (${tasks(submitted.queued)}, --tenant-max-queued); retry in about ${retryAfter} s`,
        { 'retry-after': retryAfter },
      );
    }
    if (submitted.reason === 'tasks_full') {
      return sendError(
        reply,
        'queue_full',
        `The proxy holds its most tasks (--max-tasks ${app.proxy.config.maxTasks}) and too few have finished to make room; retry in about ${retryAfter} s`,
        { 'retry-after': retryAfter },
      );
    }
    return sendError(
      reply,
      'queue_full',
      `The queue is full (${tasks(submitted.queued)}, --max-queue-size); retry in about ${retryAfter} s`,
      { 'retry-after': retryAfter },
    );
  }
  const { taskId, existing } = submitted;
  const statusUrl = `${reply.request.publicPrefix}/task/${taskId}`;
  reply.header('location', statusUrl);
  addVary(reply, 'Prefer');
  if (existing) reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
  // A 202 after a hold shorter than asked says why: the server holds no longer than this.
  if (preferences.waitS !== null) nameMaxWait(app, reply);
  let task: Task | undefined;
  try {
    if (preferences.waitS !== null && preferences.waitS > 0) {
      task = await app.proxy.tasks.waitForFinish(
        taskId,
        preferences.waitS * 1000,
        clientGone(reply.raw),
      );
    } else if (existing) {
      task = await app.proxy.tasks.get(taskId);
    }
  } catch (error) {
    // The task is held: a 503 store_unavailable now would say it was not, and a caller without
    // an Idempotency-Key would submit it twice. The 202 gives the id to poll once the store is back.
    if (!isStoreUnavailableError(error)) throw error;
    task = undefined;
  }
  // A replayed task may have finished before any wait began: it finished within N s, `wait=0`
  // included, so it is answered as a wait that saw it finish is.
  if (preferences.waitS !== null && task && isTerminalStatus(task.status)) {
    const finished: DataBody<Task> = { success: true, data: task };
    return reply
      .code(200)
      .header(PREFERENCE_APPLIED_HEADER, `wait=${preferences.waitS}`)
      .send(finished);
  }
  if (preferences.respondAsync) reply.header(PREFERENCE_APPLIED_HEADER, 'respond-async');
  const answer: SubmitBody = {
    success: true,
    task_id: taskId,
    status: task?.status ?? 'pending',
    message: existing ? 'Task already exists for this Idempotency-Key' : 'Task created',
    data: { task_id: taskId, status_url: statusUrl },
  };
  return reply.code(202).send(answer);
}

function tasks(count: number): string {
  return count === 1 ? '1 task' : `${count} tasks`;
}

/** The key's first request, for the conflict's message; none when it cannot be read now. */
async function keyedRequestOf(
  app: FastifyInstance,
  taskId: string,
): Promise<KeyedRequest | undefined> {
  try {
    return await app.proxy.backend.get(taskId);
  } catch (error) {
    // The refusal is already decided; a store that fails this read only loses the detail.
    if (isStoreUnavailableError(error)) return undefined;
    throw error;
  }
}
