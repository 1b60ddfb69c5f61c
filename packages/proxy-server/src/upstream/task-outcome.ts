import type { TaskOutcome } from '../engine/task-record.js';
import { taskError } from './error-codes.js';
import { storedBodyOf } from './result-body.js';
import type { UpstreamOutcome } from './upstream-call.js';

/** 2xx completes the task; any other answer fails it with the answer kept; no answer fails it. */
export function taskOutcomeOf(outcome: UpstreamOutcome): TaskOutcome {
  if (!outcome.ok) return { status: 'failed', result: null, error: outcome.error };
  const result = {
    statusCode: outcome.statusCode,
    headers: outcome.headers,
    bodyBytes: outcome.body.length,
    ...storedBodyOf(outcome.body, outcome.contentType),
  };
  if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
    return { status: 'completed', result, error: null };
  }
  return {
    status: 'failed',
    result,
    error: taskError('upstream_status', `status ${outcome.statusCode}`),
  };
}
