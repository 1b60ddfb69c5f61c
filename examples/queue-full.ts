// What a caller sees when the proxy's queue is full, and the two ways to handle it.
//
//   PROXY_URL=http://localhost:8080 pnpm --filter proxy-examples queue-full
//
// It fills the queue on purpose with slow jobs, so run it against a proxy you may disturb
// (the jobs drain by themselves: max-queue-size x 1 s / effective concurrency).
import { isQueueFullError } from 'proxy-client';
import { client, Surprise } from './client.js';

const slowJob = { job: 'fill', delay_ms: 1000 };

// Room for tasks = the queue plus the ones workers have already taken off it.
const { max_queue_size, effective_concurrency } = await client.getStats();
const room = max_queue_size + effective_concurrency;
console.error(`queue holds ${max_queue_size}, ${effective_concurrency} run at once`);

// 1. Handle it yourself: QueueFullError carries the proxy's Retry-After, in milliseconds.
let accepted = 0;
let retryAfterMs: number | undefined;
while (retryAfterMs === undefined) {
  try {
    await client.submitTask('api/function1', slowJob);
    accepted++;
  } catch (err) {
    if (!isQueueFullError(err)) throw err;
    retryAfterMs = err.retryAfterMs ?? 1000;
    console.error(
      `503 queue_full after ${accepted} tasks; the proxy asks for ${retryAfterMs / 1000} s`,
    );
  }
  // Tasks that finish while we submit free room, so allow some slack before calling it a bug.
  if (accepted > 2 * room + 10) throw new Surprise(`queue never filled after ${accepted} tasks`);
}

// 2. Let the SDK wait and retry: it sleeps for Retry-After between attempts (never the task
// itself: a rejected submission created nothing, so a retry cannot run a job twice).
const taskId = await client.submitTask(
  'api/function1',
  { job: 'after-retry' },
  { queueFullRetries: 10 },
);
const task = await client.getTask(taskId);
console.error(`accepted after retrying: task ${taskId}, ${task.status}`);
console.log(
  JSON.stringify({
    accepted_before_full: accepted,
    retry_after_s: retryAfterMs / 1000,
    task_id: taskId,
  }),
);
