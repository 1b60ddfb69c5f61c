import { type FailedRequest, invalidResponseError } from './errors/error-from-response.js';
import type { Task } from './wire.js';

/**
 * Checks that a 2xx answer has the shape the SDK relies on, so a wrong `baseUrl` fails with a clear
 * `invalid_response` instead of an undefined deep inside the caller's code. Only the fields the SDK
 * itself reads are checked: the wire types say the rest.
 */
export function dataOf(body: unknown, request: FailedRequest): unknown {
  const envelope = asRecord(body);
  if (envelope?.['success'] !== true || !('data' in envelope)) {
    throw invalidResponseError(request, 'no {success: true, data} envelope');
  }
  return envelope['data'];
}

export function asTask(value: unknown, request: FailedRequest): Task {
  const task = asRecord(value);
  if (typeof task?.['task_id'] !== 'string' || typeof task['status'] !== 'string') {
    throw invalidResponseError(request, 'not a task');
  }
  return task as unknown as Task;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
