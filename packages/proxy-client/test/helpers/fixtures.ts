import type { ErrorCode, SubmitBody, Task, TaskStatus } from '../../src/wire.js';
import type { ReplySpec } from './test-server.js';

export const TASK_ID = '0b6f7c1e-4a51-4d8f-9b59-3f6b6f0c2a11';

export function makeTask(overrides: Partial<Task> = {}): Task {
  const status: TaskStatus = overrides.status ?? 'pending';
  const finished = status === 'completed' || status === 'failed';
  return {
    task_id: TASK_ID,
    status,
    method: 'POST',
    path: '/api/function1',
    created_at: '2026-01-01T00:00:00.000Z',
    started_at: status === 'pending' ? null : '2026-01-01T00:00:01.000Z',
    completed_at: finished ? '2026-01-01T00:00:02.000Z' : null,
    is_long_task: false,
    result:
      status === 'completed'
        ? {
            status_code: 200,
            headers: {},
            body: { ok: true },
            body_encoding: 'json',
            body_bytes: 11,
          }
        : null,
    error: null,
    queue_position: status === 'pending' ? 1 : null,
    estimated_start_at: null,
    queue_ms: 0,
    duration_ms: status === 'pending' ? null : 0,
    attempts: status === 'pending' ? 0 : 1,
    retry_of: null,
    retried_as: null,
    priority: 'normal',
    tenant: null,
    deadline_at: null,
    next_attempt_at: null,
    max_attempts: 1,
    attempt_history: [],
    callback: null,
    ...overrides,
  };
}

export function taskReply(task: Task, headers: Record<string, string> = {}): ReplySpec {
  return { json: { success: true, data: task }, headers };
}

export function dataReply(data: unknown, status = 200): ReplySpec {
  return { status, json: { success: true, data } };
}

export function errorReply(
  status: number,
  error: ErrorCode | string,
  headers: Record<string, string> = {},
): ReplySpec {
  return { status, json: { success: false, error, message: `the proxy says ${error}` }, headers };
}

export function submitReply(taskId = TASK_ID): ReplySpec {
  const body: SubmitBody = {
    success: true,
    task_id: taskId,
    status: 'pending',
    message: 'Task created',
    data: { task_id: taskId, status_url: `/task/${taskId}` },
  };
  return { status: 202, json: body, headers: { location: `/task/${taskId}` } };
}
