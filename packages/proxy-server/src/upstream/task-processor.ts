import type { Clock } from '../clock.js';
import { bytesOf, unpackHeaders } from '../engine/stored-request.js';
import type { TaskProcessor } from '../engine/task-backend.js';
import { taskOutcomeOf } from './task-outcome.js';
import type { UpstreamClient } from './upstream-client.js';

/** The processor every backend runs tasks through: one upstream call per attempt. */
export function forwardingProcessor(upstream: UpstreamClient, clock: Clock): TaskProcessor {
  return async ({ request, timeoutMs }, signal) => {
    const outcome = await upstream.send(
      {
        method: request.method,
        path: request.path,
        rawHeaders: unpackHeaders(request.headers),
        body: request.body === null ? null : bytesOf(request.body),
      },
      signal,
      timeoutMs,
    );
    return taskOutcomeOf(outcome, clock.now());
  };
}
