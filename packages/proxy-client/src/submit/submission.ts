import { asRecord, asTask, dataOf } from '../answers.js';
import { invalidResponseError } from '../errors/error-from-response.js';
import type { HttpAnswer } from '../transport/transport.js';
import { IDEMPOTENT_REPLAYED_HEADER, type Task, type TaskStatus } from '../wire.js';

/** The proxy's answer to a submission (`submit`) or to a retry of a task (`retryTask`). */
export interface Submission {
  /** The task's id: the new task's, or, for an idempotent replay, the one the key named. */
  taskId: string;
  /**
   * Its status when the proxy answered: `pending` for a new task; whatever it is by then for a
   * replay or a task that finished within `waitMs`.
   */
  status: TaskStatus;
  /**
   * The finished task, with its result, when `waitMs` was given and the task finished within it
   * (the proxy answered 200); else `undefined`.
   */
  task: Task | undefined;
  /**
   * The proxy answered with the task an earlier request with the same idempotency key created
   * (`Idempotent-Replayed: true`): no new task, no second call to the target. Always `false`
   * with the key the SDK made: only this call's own retries sent it, so the task is this call's.
   */
  replayed: boolean;
  /**
   * The `Idempotency-Key` sent: the caller's, or the one the SDK made for its own retries.
   * Submitting the same request with it again names the same task. `undefined` when none was sent.
   */
  idempotencyKey: string | undefined;
}

/** Reads a submission answer: 202 with a task id, or 200 with the finished task. */
export function toSubmission(answer: HttpAnswer, idempotencyKey: string | undefined): Submission {
  const replayed = answer.headers.get(IDEMPOTENT_REPLAYED_HEADER) === 'true';
  if (answer.status === 200) {
    const task = asTask(dataOf(answer.body, answer.request), answer.request);
    return { taskId: task.task_id, status: task.status, task, replayed, idempotencyKey };
  }
  const body = asRecord(answer.body);
  const taskId = body?.['task_id'] ?? taskIdOfLocation(answer.headers.get('location'));
  if (typeof taskId !== 'string' || taskId === '') {
    throw invalidResponseError(answer.request, 'no task_id in the submission answer');
  }
  const status = body?.['status'];
  return {
    taskId,
    // A status a newer proxy added is kept as it came, as tasks keep theirs.
    status: typeof status === 'string' ? (status as TaskStatus) : 'pending',
    task: undefined,
    replayed,
    idempotencyKey,
  };
}

/**
 * The task id in a submission answer's `Location` (`/task/<id>`): all an answer to a HEAD
 * submission carries, since it has no body.
 */
function taskIdOfLocation(location: string | null): string | undefined {
  const id = location === null ? undefined : /\/task\/([^/?#]+)$/.exec(location)?.[1];
  try {
    return id === undefined ? undefined : decodeURIComponent(id);
  } catch {
    // Not percent-encoding at all: no id, so the answer is the invalid response it is.
    return undefined;
  }
}
