import type { Task } from 'proxy-client/wire';

/** A finished task as the proxy sends it; tests override what they look at. */
export function makeTask(overrides: Partial<Task> = {}): Task {
  return {
    task_id: '0b6f3a52-5f6e-4d8a-9a43-1f1e2d3c4b5a',
    status: 'completed',
    method: 'POST',
    path: '/api/function1',
    created_at: '2026-01-02T10:00:00.000Z',
    started_at: '2026-01-02T10:00:00.250Z',
    completed_at: '2026-01-02T10:00:01.750Z',
    is_long_task: false,
    result: {
      status_code: 200,
      headers: { 'content-type': 'application/json' },
      body: { result: 'ok' },
      body_encoding: 'json',
      body_bytes: 20,
    },
    error: null,
    queue_position: null,
    estimated_start_at: null,
    queue_ms: 250,
    duration_ms: 1500,
    attempts: 1,
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
